//! Where objects were allocated: the call stack a runtime recorded when each object was made.
//!
//! Python's tracemalloc, V8's allocation tracking and the old HPROF agent each record one stack per
//! allocation. Millions of objects share a few thousand distinct stacks, so the stacks are kept once, as
//! traces of deduplicated frames, and each object that has one names its trace. Objects made before
//! recording started, or by a runtime that records nothing, have none. A graph without any has an empty
//! table.

use crate::column::Column;
use crate::graph::GraphError;
use crate::saved::{same_lengths, MappedColumns, SavedColumns};
use crate::strings::{StrId, StringInterner, Strings};
use crate::NodeId;
use std::collections::HashMap;

/// A frame of an allocation stack, an index into [`AllocationSites`]' frame table.
pub type FrameId = u32;
/// A distinct allocation stack, an index into [`AllocationSites`]' trace table.
pub type TraceId = u32;

/// One frame: the function running, its file and the line in it (0 when unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame<'a> {
    pub function: &'a str,
    pub file: &'a str,
    pub line: u32,
}

/// The allocation stacks of a dump's objects.
#[derive(Default, Debug, Clone)]
pub struct AllocationSites {
    strings: Strings,
    frame_functions: Column<u32>,
    frame_files: Column<u32>,
    frame_lines: Column<u32>,
    /// Trace `t`'s frames are `trace_frames[trace_ends[t - 1]..trace_ends[t]]`, the allocating frame
    /// first and the outermost caller last.
    trace_ends: Column<u32>,
    trace_frames: Column<FrameId>,
    /// The objects that have a trace, ascending, and their traces.
    nodes: Column<NodeId>,
    node_traces: Column<TraceId>,
}

const STRING_TEXT: &str = "sites.strings.text";
const STRING_ENDS: &str = "sites.strings.ends";
const FRAME_FUNCTIONS: &str = "sites.frames.functions";
const FRAME_FILES: &str = "sites.frames.files";
const FRAME_LINES: &str = "sites.frames.lines";
const TRACE_ENDS: &str = "sites.traces.ends";
const TRACE_FRAMES: &str = "sites.traces.frames";
const NODES: &str = "sites.nodes";
const NODE_TRACES: &str = "sites.node_traces";

impl AllocationSites {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// How many objects have a trace.
    pub fn object_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn trace_count(&self) -> usize {
        self.trace_ends.len()
    }

    pub fn frame_count(&self) -> usize {
        self.frame_lines.len()
    }

    /// The trace of `node`, if the runtime recorded one.
    pub fn trace_of(&self, node: NodeId) -> Option<TraceId> {
        let at = self.nodes.binary_search(&node).ok()?;
        self.node_traces.get(at).copied()
    }

    /// Every (object, trace), by ascending node id.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, TraceId)> + '_ {
        self.nodes
            .iter()
            .copied()
            .zip(self.node_traces.iter().copied())
    }

    /// The frames of `trace`, the allocating frame first; empty for an unknown trace.
    pub fn frames(&self, trace: TraceId) -> &[FrameId] {
        let t = trace as usize;
        let Some(&end) = self.trace_ends.get(t) else {
            return &[];
        };
        let start = if t == 0 { 0 } else { self.trace_ends[t - 1] };
        &self.trace_frames[start as usize..end as usize]
    }

    /// Frame `id`; an unknown id reads as an empty frame.
    pub fn frame(&self, id: FrameId) -> Frame<'_> {
        let i = id as usize;
        let text = |ids: &Column<u32>| {
            self.strings
                .get(StrId(ids.get(i).copied().unwrap_or(u32::MAX)))
        };
        Frame {
            function: text(&self.frame_functions),
            file: text(&self.frame_files),
            line: self.frame_lines.get(i).copied().unwrap_or(0),
        }
    }

    /// Bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        let columns = [
            &self.frame_functions,
            &self.frame_files,
            &self.frame_lines,
            &self.trace_ends,
            &self.trace_frames,
            &self.nodes,
            &self.node_traces,
        ];
        self.strings.heap_bytes() + columns.iter().map(|c| c.len() * 4).sum::<usize>()
    }

    /// Hands the table to `out`; an empty table takes no columns.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        if self.is_empty() {
            return;
        }
        out.put(STRING_TEXT, self.strings.text().as_bytes());
        out.put_owned(STRING_ENDS, self.strings.ends().collect::<Vec<u64>>());
        out.put(FRAME_FUNCTIONS, &self.frame_functions[..]);
        out.put(FRAME_FILES, &self.frame_files[..]);
        out.put(FRAME_LINES, &self.frame_lines[..]);
        out.put(TRACE_ENDS, &self.trace_ends[..]);
        out.put(TRACE_FRAMES, &self.trace_frames[..]);
        out.put(NODES, &self.nodes[..]);
        out.put(NODE_TRACES, &self.node_traces[..]);
    }

    /// The table [`AllocationSites::save`] wrote (empty when it wrote none), checked so that a forged
    /// file is refused: every id names something that exists and every list is in order. Node ids are
    /// checked against the graph by [`AllocationSites::check_nodes`].
    pub fn from_columns(columns: &MappedColumns<'_>) -> Result<AllocationSites, GraphError> {
        if !columns.contains(NODES) {
            return Ok(AllocationSites::default());
        }
        let strings = Strings::from_saved(
            columns.text(STRING_TEXT)?,
            &columns.column::<u64>(STRING_ENDS)?,
        )
        .map_err(|why| GraphError::Saved(format!("allocation sites: {why}")))?;
        let sites = AllocationSites {
            strings,
            frame_functions: columns.column(FRAME_FUNCTIONS)?,
            frame_files: columns.column(FRAME_FILES)?,
            frame_lines: columns.column(FRAME_LINES)?,
            trace_ends: columns.column(TRACE_ENDS)?,
            trace_frames: columns.column(TRACE_FRAMES)?,
            nodes: columns.column(NODES)?,
            node_traces: columns.column(NODE_TRACES)?,
        };
        sites.check().map_err(GraphError::Saved)?;
        Ok(sites)
    }

    fn check(&self) -> Result<(), String> {
        let bad = |what: &str| Err(format!("allocation sites: {what}"));
        same_lengths(
            "allocation frames",
            &[
                self.frame_functions.len(),
                self.frame_files.len(),
                self.frame_lines.len(),
            ],
        )
        .map_err(|e| e.what().to_string())?;
        same_lengths(
            "allocated objects",
            &[self.nodes.len(), self.node_traces.len()],
        )
        .map_err(|e| e.what().to_string())?;
        let strings = self.strings.len();
        let names = self.frame_functions.iter().chain(self.frame_files.iter());
        if names.into_iter().any(|&s| s as usize >= strings) {
            return bad("a frame names a string that does not exist");
        }
        let ends_ascend = self.trace_ends.windows(2).all(|w| w[0] <= w[1]);
        let last = self.trace_ends.last().map_or(0, |&e| e as usize);
        if !ends_ascend || last != self.trace_frames.len() {
            return bad("the traces do not cover their frames in order");
        }
        if self
            .trace_frames
            .iter()
            .any(|&f| f as usize >= self.frame_count())
        {
            return bad("a trace names a frame that does not exist");
        }
        if !self.nodes.windows(2).all(|w| w[0] < w[1]) {
            return bad("the objects are not in ascending order");
        }
        if self
            .node_traces
            .iter()
            .any(|&t| t as usize >= self.trace_count())
        {
            return bad("an object names a trace that does not exist");
        }
        Ok(())
    }

    /// Whether every object with a trace is one of the graph's `node_count` nodes.
    pub fn check_nodes(&self, node_count: usize) -> Result<(), GraphError> {
        match self.nodes.last() {
            Some(&last) if last as usize >= node_count => Err(GraphError::Dangling(format!(
                "allocation sites name node {last} of {node_count}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Builds an [`AllocationSites`] table as a reader meets frames, traces and objects, giving equal
/// frames and equal traces one id.
#[derive(Default, Debug)]
pub struct AllocationSitesBuilder {
    strings: StringInterner,
    frames: HashMap<(StrId, StrId, u32), FrameId>,
    frame_functions: Vec<u32>,
    frame_files: Vec<u32>,
    frame_lines: Vec<u32>,
    traces: HashMap<Vec<FrameId>, TraceId>,
    trace_ends: Vec<u32>,
    trace_frames: Vec<FrameId>,
    objects: Vec<(NodeId, TraceId)>,
}

impl AllocationSitesBuilder {
    /// The id of a frame, made on first sight.
    pub fn frame(&mut self, function: &str, file: &str, line: u32) -> FrameId {
        let key = (
            self.strings.intern(function),
            self.strings.intern(file),
            line,
        );
        *self.frames.entry(key).or_insert_with(|| {
            self.frame_functions.push(key.0 .0);
            self.frame_files.push(key.1 .0);
            self.frame_lines.push(line);
            (self.frame_lines.len() - 1) as FrameId
        })
    }

    /// The id of the trace made of `frames` (from [`AllocationSitesBuilder::frame`], the allocating
    /// frame first), made on first sight.
    pub fn trace(&mut self, frames: &[FrameId]) -> TraceId {
        if let Some(&id) = self.traces.get(frames) {
            return id;
        }
        self.trace_frames.extend_from_slice(frames);
        self.trace_ends.push(self.trace_frames.len() as u32);
        let id = (self.trace_ends.len() - 1) as TraceId;
        self.traces.insert(frames.to_vec(), id);
        id
    }

    /// Records that `node` was allocated by `trace`; the last trace given for a node wins.
    pub fn object(&mut self, node: NodeId, trace: TraceId) {
        self.objects.push((node, trace));
    }

    pub fn finish(mut self) -> AllocationSites {
        self.objects.sort_by_key(|&(node, _)| node);
        let mut nodes: Vec<NodeId> = Vec::with_capacity(self.objects.len());
        let mut node_traces: Vec<TraceId> = Vec::with_capacity(self.objects.len());
        for (node, trace) in self.objects {
            if nodes.last() == Some(&node) {
                *node_traces.last_mut().expect("one trace per node") = trace;
            } else {
                nodes.push(node);
                node_traces.push(trace);
            }
        }
        AllocationSites {
            strings: self.strings.freeze(),
            frame_functions: self.frame_functions.into(),
            frame_files: self.frame_files.into(),
            frame_lines: self.frame_lines.into(),
            trace_ends: self.trace_ends.into(),
            trace_frames: self.trace_frames.into(),
            nodes: nodes.into(),
            node_traces: node_traces.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AllocationSites {
        let mut b = AllocationSitesBuilder::default();
        let alloc = b.frame("__init__", "elements.py", 120);
        let caller = b.frame("build", "app.py", 88);
        let other = b.frame("build", "app.py", 90);
        let t0 = b.trace(&[alloc, caller]);
        let t1 = b.trace(&[alloc, other]);
        assert_eq!(b.trace(&[alloc, caller]), t0);
        assert_eq!(b.frame("build", "app.py", 88), caller);
        b.object(7, t1);
        b.object(2, t0);
        b.object(7, t0);
        b.finish()
    }

    #[test]
    fn frames_and_traces_are_shared_and_objects_sorted() {
        let sites = sample();
        assert_eq!(sites.frame_count(), 3);
        assert_eq!(sites.trace_count(), 2);
        assert_eq!(sites.iter().collect::<Vec<_>>(), [(2, 0), (7, 0)]);
        assert_eq!(sites.trace_of(7), Some(0));
        assert_eq!(sites.trace_of(3), None);
        let frames: Vec<Frame> = sites.frames(1).iter().map(|&f| sites.frame(f)).collect();
        let expected = [("__init__", "elements.py", 120), ("build", "app.py", 90)];
        let got: Vec<_> = frames
            .iter()
            .map(|f| (f.function, f.file, f.line))
            .collect();
        assert_eq!(got, expected);
        assert!(sites.frames(9).is_empty());
        assert!(sites.check_nodes(8).is_ok());
        assert!(sites.check_nodes(7).is_err());
    }

    #[test]
    fn saved_sites_come_back_and_forged_ones_do_not() {
        let sites = sample();
        let mut out = SavedColumns::default();
        sites.save(&mut out);
        let (backing, places) = out.to_backing();
        let columns = MappedColumns::with_places(&backing, places).expect("places");
        let back = AllocationSites::from_columns(&columns).expect("saved sites load");
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            sites.iter().collect::<Vec<_>>()
        );
        assert_eq!(back.frame(2), sites.frame(2));

        let mut forged = sites.clone();
        forged.node_traces = vec![0u32, 5].into();
        assert!(forged.check().is_err());
        let mut forged = sites.clone();
        forged.trace_frames = vec![0u32, 1, 0, 9].into();
        assert!(forged.check().is_err());

        let empty = MappedColumns::with_places(&backing, Vec::new()).expect("no places");
        assert!(AllocationSites::from_columns(&empty)
            .expect("none")
            .is_empty());
    }
}
