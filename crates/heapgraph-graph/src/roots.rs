//! Roots: objects alive for reasons outside the heap.

use crate::strings::StrId;
use crate::NodeId;

/// Why a root is alive. Analyses treat all kinds alike (children of one super-root); reports print the kind.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RootKind {
    /// A loaded module (Python: a value in `sys.modules`).
    Module,
    /// An interpreter-level table (Python: `sys.modules`, the builtins dict).
    Interpreter,
    /// A frame on a thread's stack.
    Frame,
    /// The value of a running frame's local variable.
    Local,
    /// Held from outside the dump: more references than the dump shows (C code, extensions).
    External,
    /// An immortal object (CPython 3.12+) that nothing in the dump references.
    Immortal,
    /// Java: held by a JNI global reference.
    JniGlobal,
    /// Java: held by a JNI local reference of a running native frame.
    JniLocal,
    /// Java: a local variable or operand of a running Java frame.
    JavaFrame,
    /// Java: held by a native stack.
    NativeStack,
    /// Java: a class the VM never unloads (boot and platform classes).
    StickyClass,
    /// Java: referenced from a thread block.
    ThreadBlock,
    /// Java: an object whose monitor is held (`synchronized`).
    MonitorUsed,
    /// Java: a live thread object.
    ThreadObject,
    /// Java (Android): held by the VM itself (interned strings, debugger, finalizer queue, VM internals).
    VmInternal,
    /// Java: a root the dump marks as of unknown kind.
    Unknown,
    /// V8: a global object (Node's `global`, a browser Window): what the program itself holds.
    GlobalObject,
    /// V8: held by one of the engine's GC root categories (strong roots, stack, handles, ...).
    GcRoot,
    /// V8: held by the embedder (Node's environment, Blink's C++ objects).
    Embedder,
}

impl RootKind {
    /// Every kind, in the order of their codes ([`RootKind::code`]).
    pub const ALL: [RootKind; 19] = [
        RootKind::Module,
        RootKind::Interpreter,
        RootKind::Frame,
        RootKind::Local,
        RootKind::External,
        RootKind::Immortal,
        RootKind::JniGlobal,
        RootKind::JniLocal,
        RootKind::JavaFrame,
        RootKind::NativeStack,
        RootKind::StickyClass,
        RootKind::ThreadBlock,
        RootKind::MonitorUsed,
        RootKind::ThreadObject,
        RootKind::VmInternal,
        RootKind::Unknown,
        RootKind::GlobalObject,
        RootKind::GcRoot,
        RootKind::Embedder,
    ];

    /// A number for the kind, as files store it.
    pub fn code(self) -> u32 {
        RootKind::ALL.iter().position(|&k| k == self).unwrap_or(0) as u32
    }

    pub fn from_code(code: u32) -> Option<RootKind> {
        RootKind::ALL.get(code as usize).copied()
    }

    /// Whether the root was inferred by the loader (from refcounts) rather than recorded by the runtime.
    /// Reports prefer recorded roots when they explain why an object is alive: "module app" says more
    /// than "held from outside".
    pub fn is_inferred(self) -> bool {
        matches!(self, RootKind::External | RootKind::Immortal)
    }

    /// Which roots a path should start from first: 0 for what the program itself holds (its modules,
    /// frames, globals, threads, classes and class loaders: HotSpot holds the application's loader as a
    /// JNI global), 1 for the runtime's own machinery (interpreter tables, native stacks, VM and engine
    /// internals, the embedder), 2 for inferred roots. A chain from the program's own roots explains a
    /// leak; one through `sys.modules` or an engine cache reaching the same object rarely does, so the
    /// machinery only claims what the program's roots cannot reach.
    pub fn path_rank(self) -> u8 {
        match self {
            RootKind::Module
            | RootKind::Frame
            | RootKind::Local
            | RootKind::JavaFrame
            | RootKind::StickyClass
            | RootKind::JniGlobal
            | RootKind::ThreadObject
            | RootKind::GlobalObject => 0,
            RootKind::Interpreter
            | RootKind::JniLocal
            | RootKind::NativeStack
            | RootKind::ThreadBlock
            | RootKind::MonitorUsed
            | RootKind::VmInternal
            | RootKind::Unknown
            | RootKind::GcRoot
            | RootKind::Embedder => 1,
            RootKind::External | RootKind::Immortal => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RootKind::Module => "module",
            RootKind::Interpreter => "interpreter",
            RootKind::Frame => "frame",
            RootKind::Local => "local",
            RootKind::External => "external",
            RootKind::Immortal => "immortal",
            RootKind::JniGlobal => "jni global",
            RootKind::JniLocal => "jni local",
            RootKind::JavaFrame => "java frame",
            RootKind::NativeStack => "native stack",
            RootKind::StickyClass => "sticky class",
            RootKind::ThreadBlock => "thread block",
            RootKind::MonitorUsed => "monitor used",
            RootKind::ThreadObject => "thread",
            RootKind::VmInternal => "vm internal",
            RootKind::Unknown => "unknown",
            RootKind::GlobalObject => "global",
            RootKind::GcRoot => "gc root",
            RootKind::Embedder => "embedder",
        }
    }
}

/// One root: a node, why it is alive, and a name for people (`x in f() [thread MainThread]`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Root {
    pub node: NodeId,
    pub kind: RootKind,
    pub name: StrId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in RootKind::ALL {
            assert_eq!(RootKind::from_code(kind.code()), Some(kind));
        }
        let names: std::collections::HashSet<_> =
            RootKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), RootKind::ALL.len(), "kinds are distinct");
        assert_eq!(RootKind::from_code(RootKind::ALL.len() as u32), None);
    }
}
