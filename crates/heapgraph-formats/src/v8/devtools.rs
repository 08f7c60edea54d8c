//! The classes and shallow sizes Chrome DevTools' Summary view shows, so that `heapgraph types` on a
//! snapshot reads row for row as DevTools does (`HeapSnapshot.ts`; a test runs DevTools' own code on the
//! same snapshots).
//!
//! - **Class names** (`calculateObjectNames`): objects and natives by their constructor's name (an HTML
//!   element's `<div id="a">` as `<div>`), closures as `Function`, regular expressions as `RegExp`, code as
//!   `(compiled code)`, hidden objects as `(system)`, every other type as `(type)`.
//! - **Detached DOM** (`propagateDOMState`): an embedder node the snapshot marks attached makes the
//!   embedder nodes it references attached; the rest reached from a detached one are detached and named
//!   `Detached <name>`.
//! - **Plain objects** (`inferInterfaceDefinitions`, `applyInterfaceDefinitions`): an `Object` is named by
//!   the most popular property sets in the heap, `{a, b, c}`, when its properties include one.
//! - **Shallow sizes** (`calculateShallowSizes`): hidden objects, arrays and external string data that
//!   one object alone owns (through other such nodes) have their size moved into that owner, so a `Map`
//!   shows the size of its hash table. Skipped, as DevTools skips it, when the root holds no user object.

use super::columns::Nodes;
use super::header::{Header, Sections};
use super::numbers;
use super::strings::StringTable;
use super::structure::{EdgeType, View};
use crate::error::{err, FormatError};
use hashbrown::HashMap;
use heapgraph_graph::NarrowValues;
use std::cell::RefCell;
use std::cmp::Ordering;

/// An interface name (`{a, b}`) takes no more property that would make it longer than
/// `MAX_INTERFACE_NAME_LENGTH` UTF-16 units, once its length so far passes `MIN_INTERFACE_PROPERTY_COUNT`:
/// DevTools compares the name's length, not its property count, with that constant, so the first
/// property is always taken.
const MIN_INTERFACE_PROPERTY_COUNT: usize = 1;
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
/// An interface must name at least this many objects, and one in this many of the plain objects.
const MIN_OBJECT_COUNT_PER_INTERFACE: usize = 2;
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;

/// Values of a node's `detachedness` field.
const ATTACHED: u8 = 1;
pub const DETACHED: u8 = 2;

/// The node types DevTools treats apart, as their codes in this snapshot.
pub struct Kinds {
    hidden: Option<u8>,
    array: Option<u8>,
    object: Option<u8>,
    native: Option<u8>,
    code: Option<u8>,
    closure: Option<u8>,
    regexp: Option<u8>,
    synthetic: Option<u8>,
}

impl Kinds {
    pub fn new(node_types: &[String]) -> Kinds {
        let code = |name: &str| {
            node_types
                .iter()
                .position(|t| t == name)
                .and_then(|i| u8::try_from(i).ok())
        };
        Kinds {
            hidden: code("hidden"),
            array: code("array"),
            object: code("object"),
            native: code("native"),
            code: code("code"),
            closure: code("closure"),
            regexp: code("regexp"),
            synthetic: code("synthetic"),
        }
    }

    /// The code of the `object` type.
    pub fn object(&self) -> Option<u8> {
        self.object
    }

    fn is(kind: Option<u8>, ty: u8) -> bool {
        kind == Some(ty)
    }
}

/// Every snapshot node's DevTools class.
pub struct Classes {
    /// Per snapshot node (by ordinal): an index into `names`.
    pub of: Vec<u32>,
    pub names: Vec<String>,
}

/// What the class computation reads.
pub struct Snapshot<'a> {
    pub view: &'a View<'a>,
    pub kinds: &'a Kinds,
    pub node_types: &'a [String],
    pub data: &'a [u8],
    pub strings: &'a StringTable,
}

impl Snapshot<'_> {
    fn nodes(&self) -> &Nodes {
        self.view.nodes
    }

    fn text(&self, index: u32) -> String {
        self.strings
            .get(self.data, index as usize)
            .map(|s| s.into_owned())
            .unwrap_or_default()
    }
}

/// Interns class names.
#[derive(Default)]
struct Table {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Table {
    fn id(&mut self, name: String) -> u32 {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }
}

/// Every node's class, as DevTools names it (see the module's comment).
pub fn classes(s: &Snapshot<'_>) -> Classes {
    let nodes = s.nodes();
    let n = nodes.types.len();
    let detached = detached_nodes(s);
    let mut table = Table::default();
    let fixed: Vec<Option<u32>> = s
        .node_types
        .iter()
        .enumerate()
        .map(|(ty, name)| {
            let ty = ty as u8;
            let k = s.kinds;
            Some(if Kinds::is(k.hidden, ty) {
                table.id("(system)".into())
            } else if Kinds::is(k.code, ty) {
                table.id("(compiled code)".into())
            } else if Kinds::is(k.closure, ty) {
                table.id("Function".into())
            } else if Kinds::is(k.regexp, ty) {
                table.id("RegExp".into())
            } else if Kinds::is(k.object, ty) || Kinds::is(k.native, ty) {
                return None;
            } else {
                table.id(format!("({name})"))
            })
        })
        .collect();
    // Names of objects and natives, by string index and whether the node is detached.
    let mut named: HashMap<(u32, bool), u32> = HashMap::new();
    let mut of = Vec::with_capacity(n);
    for o in 0..n {
        let ty = nodes.types[o];
        let class = match fixed.get(ty as usize).copied().flatten() {
            Some(class) => class,
            None => {
                let key = (nodes.names[o], detached.get(o).copied().unwrap_or(false));
                *named.entry(key).or_insert_with(|| {
                    let mut name = s.text(key.0);
                    if key.1 {
                        name.insert_str(0, "Detached ");
                    }
                    table.id(element_class(name))
                })
            }
        };
        of.push(class);
    }
    let mut classes = Classes {
        of,
        names: table.names,
    };
    interfaces::apply(s, &mut classes);
    classes
}

/// `<div id="a">` is of class `<div>`, and `Detached <div id="a">` of `Detached <div>`.
fn element_class(name: String) -> String {
    let from = if name.starts_with('<') {
        0
    } else if name.starts_with("Detached <") {
        10
    } else {
        return name;
    };
    match name[from..].find(' ') {
        Some(space) => format!("{}>", &name[..from + space]),
        None => name,
    }
}

/// Which nodes DevTools names `Detached `: embedder (native) nodes the snapshot marks detached, and
/// those they reach over edges that are not hidden or weak and that nothing attached reaches first.
/// Empty when the snapshot has no detachedness field.
fn detached_nodes(s: &Snapshot<'_>) -> Vec<bool> {
    let nodes = s.nodes();
    let view = s.view;
    if nodes.detachedness.is_empty() {
        return Vec::new();
    }
    let n = nodes.types.len();
    let mut dom = Dom {
        native: |o: u32| Kinds::is(s.kinds.native, nodes.types[o as usize]),
        state: nodes.detachedness.clone(),
        visited: vec![false; n],
        renamed: vec![false; n],
        attached: Vec::new(),
        detached: Vec::new(),
    };
    for o in 0..n as u32 {
        let known = nodes.detachedness[o as usize];
        if known != 0 {
            dom.process(o, known);
        }
    }
    let children = |o: u32| {
        view.edges_of(o)
            .filter(|&e| !matches!(view.edge_type(e), EdgeType::Hidden | EdgeType::Weak))
            .map(|e| view.edges.to[e])
    };
    while let Some(o) = dom.attached.pop() {
        for t in children(o) {
            dom.process(t, ATTACHED);
        }
    }
    while let Some(o) = dom.detached.pop() {
        if dom.state[o as usize] == ATTACHED {
            continue;
        }
        for t in children(o) {
            dom.process(t, DETACHED);
        }
    }
    dom.renamed
}

/// The DOM state propagation's work: each node is settled once, when first reached.
struct Dom<F> {
    native: F,
    state: Vec<u8>,
    visited: Vec<bool>,
    renamed: Vec<bool>,
    attached: Vec<u32>,
    detached: Vec<u32>,
}

impl<F: Fn(u32) -> bool> Dom<F> {
    /// Settles node `o` in `state`; only embedder (native) nodes take a state, JavaScript stops it.
    fn process(&mut self, o: u32, state: u8) {
        let i = o as usize;
        if std::mem::replace(&mut self.visited[i], true) || !(self.native)(o) {
            return;
        }
        self.state[i] = state;
        match state {
            ATTACHED => self.attached.push(o),
            DETACHED => {
                self.renamed[i] = true;
                self.detached.push(o);
            }
            _ => {}
        }
    }
}

/// Every node's shallow size as DevTools' Summary shows it (see the module's comment), or `None` when
/// the root holds no user object and the file's sizes stand.
pub fn shallow_sizes(s: &Snapshot<'_>, name: &dyn Fn(u32) -> String) -> Option<NarrowValues<u32>> {
    let nodes = s.nodes();
    let view = s.view;
    let synthetic = |o: u32| Kinds::is(s.kinds.synthetic, nodes.types[o as usize]);
    let user_root = view.edges_of(view.root).any(|e| {
        let t = view.edges.to[e];
        !synthetic(t) || name(t) == "(Document DOM trees)"
    });
    if !user_root {
        return None;
    }
    const UNVISITED: u32 = u32::MAX;
    const SHARED: u32 = u32::MAX - 1;
    let n = nodes.types.len();
    // Every node that can be owned starts unvisited; every other owns itself.
    let mut owners: Vec<u32> = (0..n)
        .map(|o| {
            let ty = nodes.types[o];
            let owned = Kinds::is(s.kinds.hidden, ty)
                || Kinds::is(s.kinds.array, ty)
                || (Kinds::is(s.kinds.native, ty)
                    && s.strings.raw(s.data, nodes.names[o] as usize)
                        == Some(b"system / ExternalStringData".as_slice()));
            if owned {
                UNVISITED
            } else {
                o as u32
            }
        })
        .collect();
    let mut worklist: Vec<u32> = (0..n as u32).filter(|&o| owners[o as usize] == o).collect();
    while let Some(id) = worklist.pop() {
        let owner = owners[id as usize];
        for e in view.edges_of(id) {
            if view.edge_type(e) == EdgeType::Weak {
                continue;
            }
            let t = view.edges.to[e];
            match owners[t as usize] {
                UNVISITED => {
                    owners[t as usize] = owner;
                    worklist.push(t);
                }
                x if x == t || x == owner || x == SHARED => {}
                _ => {
                    owners[t as usize] = SHARED;
                    worklist.push(t);
                }
            }
        }
    }
    let mut sizes = nodes.sizes.to_filler();
    for (o, &owner) in owners.iter().enumerate() {
        if owner == UNVISITED || owner == SHARED || owner as usize == o {
            continue;
        }
        // Moving size into the root or a synthetic node would not help anyone.
        if synthetic(owner) || owner == view.root {
            continue;
        }
        let moved = sizes.get(o);
        sizes.set(o, 0);
        let owner = owner as usize;
        sizes.set(owner, sizes.get(owner) + moved);
    }
    Some(sizes.finish())
}

/// Where each object's constructor is defined, by node ordinal: the snapshot's `locations` array, its
/// distinct places (script id, line, column) numbered, and one number per node, so that looking a node
/// up reads one slot. DevTools keeps objects of one name but different constructors in different
/// Summary rows.
#[derive(Default)]
pub struct Locations {
    /// Node ordinal -> its place's number, or [`Locations::NONE`]; empty without a `locations` array.
    place_of: Vec<u32>,
}

impl Locations {
    const NONE: u32 = u32::MAX;

    /// The number of the place where node `ordinal`'s constructor is defined: equal numbers, equal
    /// places.
    pub fn place(&self, ordinal: u32) -> Option<u32> {
        self.place_of
            .get(ordinal as usize)
            .copied()
            .filter(|&p| p != Locations::NONE)
    }
}

/// Reads the snapshot's `locations` array (see [`Locations`]).
pub fn locations(
    data: &[u8],
    header: &Header,
    sections: &Sections,
) -> Result<Locations, FormatError> {
    let Some(body) = sections.locations.clone() else {
        return Ok(Locations::default());
    };
    let field = |name: &str| header.location_fields.iter().position(|f| f == name);
    let (Some(object), Some(script), Some(line), Some(column)) = (
        field("object_index"),
        field("script_id"),
        field("line"),
        field("column"),
    ) else {
        return err(
            body.start,
            "the snapshot has a locations array but meta.location_fields does not name object_index, \
             script_id, line and column",
        );
    };
    let width = header.location_fields.len();
    let node_width = header.node_fields.len() as u64;
    // Read in order, a row at a time, straight into the table: the array holds four numbers per
    // located object (96 MB of them on a 662 MB snapshot, were they kept).
    let numbered: RefCell<HashMap<[u64; 3], u32>> = RefCell::default();
    let place_of = RefCell::new(vec![Locations::NONE; header.node_count]);
    let row = RefCell::new(vec![0u64; width]);
    let count = numbers::parse_in_order(data, body.clone(), width, &|_, col, v| {
        let mut row = row.borrow_mut();
        row[col] = v;
        if col + 1 < width {
            return;
        }
        let ordinal = row[object] / node_width;
        if row[object] % node_width != 0 || ordinal >= header.node_count as u64 {
            return;
        }
        let mut numbered = numbered.borrow_mut();
        let next = numbered.len() as u32;
        place_of.borrow_mut()[ordinal as usize] = *numbered
            .entry([row[script], row[line], row[column]])
            .or_insert(next);
    })?;
    if count % width != 0 {
        return err(
            body.start,
            format!("the locations array holds {count} numbers, not rows of {width}"),
        );
    }
    let place_of = place_of.into_inner();
    Ok(Locations { place_of })
}

/// JavaScript's string order (UTF-16 code units), which DevTools sorts property names by.
fn js_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// JavaScript's `length` of a string.
fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

mod interfaces;
