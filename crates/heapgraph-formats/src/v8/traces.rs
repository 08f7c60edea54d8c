//! Allocation stacks, in snapshots taken while V8 tracked allocations (`node --track-heap-objects`,
//! DevTools' "Allocation instrumentation on timeline", the inspector's
//! `HeapProfiler.startTrackingHeapObjects`).
//!
//! - `trace_function_infos` lists the functions seen on allocation stacks: name, script name and the
//!   line and column where the function is defined (not the line of the allocation: V8 records functions,
//!   not call sites). V8 writes both 1-based, 0 when unknown, so lines are kept as written.
//! - `trace_tree` is the tree of stacks: a node per distinct path of calls, the synthetic `(root)` at the
//!   top, each node a row of `meta.trace_node_fields` whose `children` field is the array of its
//!   children's rows.
//! - A snapshot node's `trace_node_id` names the tree node its allocation ended at; 0 for objects
//!   allocated before tracking began.
//!
//! An object's stack is the path from its tree node up to the root, the root left out, as DevTools'
//! `serializeAllocationStack` walks it (which keeps the root as a last `(root)` frame). Objects whose
//! tree node is the root itself were allocated with no JavaScript on the stack: they have no site.
//!
//! Snapshots taken without tracking have empty arrays; they cost nothing here.

use super::header::{Header, Sections};
use super::strings::StringTable;
use crate::error::{err, FormatError};
use hashbrown::HashMap;
use heapgraph_graph::{AllocationSites, AllocationSitesBuilder, FrameId, NodeId, TraceId};
use serde_json::Value;
use std::ops::Range;

/// Marks the tree node without a parent (the root) and a function whose frame is not made yet.
const NONE: u32 = u32::MAX;

/// The allocation stacks of the graph's nodes, `order[node]` being each one's snapshot ordinal and
/// `trace_nodes[ordinal]` its node of the trace tree (`Nodes::trace_nodes`).
pub fn read(
    data: &[u8],
    header: &Header,
    sections: &Sections,
    strings: &StringTable,
    order: &[u32],
    trace_nodes: &[u32],
) -> Result<AllocationSites, FormatError> {
    let (Some(infos), Some(tree)) = (&sections.trace_function_infos, &sections.trace_tree) else {
        return Ok(AllocationSites::default());
    };
    let tree = array(data, tree, "trace_tree")?;
    if tree.is_empty() {
        return Ok(AllocationSites::default());
    }
    let functions = Functions::read(data, header, infos, strings)?;
    let tree = Tree::read(&tree, header, functions.names.len())?;
    // The column is read whenever the nodes have the field: empty, it is missing.
    header.node_field("trace_node_id")?;

    let mut builder = AllocationSitesBuilder::default();
    let mut frames: Vec<FrameId> = vec![NONE; functions.names.len()];
    // Each tree node's trace once made: `Some(None)` for the root, which has no frames.
    let mut traces: Vec<Option<Option<TraceId>>> = vec![None; tree.parents.len()];
    let mut stack = Vec::new();
    for (node, &o) in order.iter().enumerate() {
        let id = trace_nodes[o as usize];
        if id == 0 {
            continue;
        }
        let Some(&at) = tree.index.get(&id) else {
            return err(
                sections.nodes.start,
                format!("node {o} names trace node {id}, which trace_tree does not hold"),
            );
        };
        let trace = *traces[at as usize].get_or_insert_with(|| {
            stack.clear();
            let mut t = at;
            while tree.parents[t as usize] != NONE {
                let f = tree.functions[t as usize] as usize;
                if frames[f] == NONE {
                    frames[f] =
                        builder.frame(&functions.names[f], &functions.files[f], functions.lines[f]);
                }
                stack.push(frames[f]);
                t = tree.parents[t as usize];
            }
            (!stack.is_empty()).then(|| builder.trace(&stack))
        });
        if let Some(trace) = trace {
            builder.object(node as NodeId, trace);
        }
    }
    Ok(builder.finish())
}

/// The JSON array whose body is `body`, parsed (the trace arrays are small next to `nodes`).
fn array(data: &[u8], body: &Range<usize>, what: &str) -> Result<Vec<Value>, FormatError> {
    let whole = body.start.saturating_sub(1)..(body.end + 1).min(data.len());
    let bad = |why: String| FormatError {
        offset: whole.start as u64,
        message: format!("the {what} array is malformed: {why}"),
    };
    match serde_json::from_slice(&data[whole.clone()]).map_err(|e| bad(e.to_string()))? {
        Value::Array(items) => Ok(items),
        _ => Err(bad("it is not an array".into())),
    }
}

/// The position of field `name` in `fields`, the header's list `list`.
fn field(fields: &[String], name: &str, list: &str) -> Result<usize, FormatError> {
    fields
        .iter()
        .position(|f| f == name)
        .ok_or_else(|| FormatError {
            offset: 0,
            message: format!(
            "the snapshot has allocation traces but snapshot.meta.{list} has no \"{name}\" field"
        ),
        })
}

/// `trace_function_infos`: each function's name, script and line.
struct Functions {
    names: Vec<String>,
    files: Vec<String>,
    lines: Vec<u32>,
}

impl Functions {
    fn read(
        data: &[u8],
        header: &Header,
        body: &Range<usize>,
        strings: &StringTable,
    ) -> Result<Functions, FormatError> {
        let fields = &header.trace_function_info_fields;
        let list = "trace_function_info_fields";
        let cols = [
            field(fields, "name", list)?,
            field(fields, "script_name", list)?,
            field(fields, "line", list)?,
        ];
        let bad = |what: String| FormatError {
            offset: body.start as u64,
            message: format!("trace_function_infos: {what}"),
        };
        let values = array(data, body, "trace_function_infos")?;
        let numbers: Vec<u64> = values
            .iter()
            .map(Value::as_u64)
            .collect::<Option<_>>()
            .ok_or_else(|| bad("not a list of numbers".into()))?;
        if numbers.len() % fields.len() != 0 {
            return Err(bad(format!(
                "{} numbers, not rows of {}",
                numbers.len(),
                fields.len()
            )));
        }
        let text = |i: u64| {
            strings
                .get(data, i as usize)
                .map(|s| s.into_owned())
                .ok_or_else(|| {
                    bad(format!(
                        "string {i} is beyond the {} strings",
                        strings.len()
                    ))
                })
        };
        let mut functions = Functions {
            names: Vec::new(),
            files: Vec::new(),
            lines: Vec::new(),
        };
        for row in numbers.chunks_exact(fields.len()) {
            functions.names.push(text(row[cols[0]])?);
            functions.files.push(text(row[cols[1]])?);
            functions.lines.push(
                u32::try_from(row[cols[2]]).map_err(|_| bad(format!("line {}", row[cols[2]])))?,
            );
        }
        Ok(functions)
    }
}

/// `trace_tree`, flattened: per tree node, its parent (a position here, [`NONE`] for the root) and its
/// function; `index` finds a tree node's position by its id.
struct Tree {
    parents: Vec<u32>,
    functions: Vec<u32>,
    index: HashMap<u32, u32>,
}

impl Tree {
    fn read(rows: &[Value], header: &Header, function_count: usize) -> Result<Tree, FormatError> {
        let fields = &header.trace_node_fields;
        let list = "trace_node_fields";
        let (id, function, children) = (
            field(fields, "id", list)?,
            field(fields, "function_info_index", list)?,
            field(fields, "children", list)?,
        );
        let width = fields.len();
        let bad = |what: String| FormatError {
            offset: 0,
            message: format!("trace_tree: {what}"),
        };
        let mut tree = Tree {
            parents: Vec::new(),
            functions: Vec::new(),
            index: HashMap::new(),
        };
        // The rows of one children array, and their parent; walked without recursion.
        let mut pending: Vec<(&[Value], u32)> = vec![(rows, NONE)];
        while let Some((rows, parent)) = pending.pop() {
            if rows.len() % width != 0 {
                return Err(bad(format!("{} values, not rows of {width}", rows.len())));
            }
            for row in rows.chunks_exact(width) {
                let number = |i: usize| row[i].as_u64().and_then(|v| u32::try_from(v).ok());
                let (Some(node_id), Some(f), Some(kids)) =
                    (number(id), number(function), row[children].as_array())
                else {
                    return Err(bad(format!("a node is not {fields:?}")));
                };
                if f as usize >= function_count {
                    return Err(bad(format!(
                        "node {node_id} names function {f} of {function_count}"
                    )));
                }
                let at = tree.parents.len() as u32;
                if tree.index.insert(node_id, at).is_some() {
                    return Err(bad(format!("two nodes have id {node_id}")));
                }
                tree.parents.push(parent);
                tree.functions.push(f);
                pending.push((kids, at));
            }
        }
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use crate::{load, Dump, LoadError, NoProgress};

    /// A snapshot of one object, `Obj`, whose node names trace node `trace`, with `tree` as its
    /// `trace_tree`: function 1 is `make` of app.js, defined at line 7.
    fn snapshot(name: &str, trace: u32, tree: &str) -> Result<Dump, LoadError> {
        let text = format!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id"],
"node_types":[["synthetic","object"]],"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["element","property"]],
"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],
"trace_node_fields":["id","function_info_index","count","size","children"]}},
"node_count":2,"edge_count":1}},
"nodes":[0,0,1,0,1,0,1,1,3,16,0,{trace}],"edges":[1,1,6],
"trace_function_infos":[0,0,2,0,0,0,1,3,4,1,7,3],"trace_tree":{tree},
"strings":["(root)","Obj","","make","app.js"]}}"#
        );
        let path = std::env::temp_dir().join(format!(
            "heapgraph-unit-{}-{name}.heapsnapshot",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        let dump = load(&path, &NoProgress);
        std::fs::remove_file(&path).unwrap();
        dump
    }

    const TREE: &str = "[1,0,0,0,[2,1,1,16,[]]]";

    #[test]
    fn an_object_gets_the_stack_of_its_trace_node_without_the_root() {
        let dump = snapshot("traced", 2, TREE).unwrap();
        let sites = dump.graph.allocation_sites();
        assert_eq!(sites.object_count(), 1);
        let frames = sites.frames(sites.trace_of(0).unwrap());
        let frame = sites.frame(frames[0]);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            (frame.function, frame.file, frame.line),
            ("make", "app.js", 7)
        );
    }

    #[test]
    fn objects_at_the_root_or_before_tracking_have_no_site() {
        for (name, trace, tree) in [
            ("root", 1, TREE),
            ("before", 0, TREE),
            ("untracked", 0, "[]"),
        ] {
            let dump = snapshot(name, trace, tree).unwrap();
            assert!(dump.graph.allocation_sites().is_empty(), "{name}");
            assert_eq!(dump.graph.node_count(), 1);
        }
    }

    #[test]
    fn a_malformed_trace_tree_is_an_error_naming_what_is_wrong() {
        for (trace, tree, says) in [
            (9, TREE, "names trace node 9"),
            (2, "[1,0,0,0,[2,5,1,16,[]]]", "names function 5 of 2"),
            (2, "[1,0,0,0,[2,1,1,16]]", "not rows of 5"),
            (2, r#"[1,0,0,0,"x"]"#, "a node is not"),
            (2, "[1,0,0,0,[1,1,1,16,[]]]", "two nodes have id 1"),
            (2, "{}", "not an array"),
        ] {
            let Err(e) = snapshot("bad", trace, tree).map(|_| ()) else {
                panic!("{tree} loaded");
            };
            let e = e.to_string();
            assert!(
                e.contains(says) && e.contains("heapsnapshot"),
                "{tree}: {e}"
            );
        }
        // V8 nests the tree at most 65 deep; one 200 deep is beyond the JSON parser's limit.
        let deep = (1..=200)
            .rev()
            .fold("[]".to_string(), |kids, id| format!("[{id},1,0,0,{kids}]"));
        let e = snapshot("deep", 2, &deep)
            .err()
            .expect("too deep")
            .to_string();
        assert!(e.contains("trace_tree array is malformed"), "{e}");
    }
}
