//! The `nodes` and `edges` arrays as columns: one array per field heapgraph uses, filled in parallel.
//!
//! Fields are found by name in `meta`; the others are skipped. Values that
//! do not fit their column are kept as an out-of-range marker and reported by [`Nodes::check`] and
//! [`Edges::check`], with the index of the first bad node or edge, before anything relies on them.

use super::header::{Header, Sections};
use super::numbers;
use crate::error::{err, FormatError};
use crate::scatter::Scatter;
use heapgraph_graph::{NarrowValues, NarrowWriter};
use rayon::prelude::*;
use std::ops::Range;

/// Marks a value that does not fit its column.
const BAD: u32 = u32::MAX;

pub struct Nodes {
    pub types: Vec<u8>,
    /// Index into the strings table: the class name of objects, the text of strings, a function's name.
    pub names: Vec<u32>,
    /// Stable across snapshots of one process. V8's fit 4 bytes (`SnapshotObjectId` is 32 bits); other
    /// engines' need not.
    pub ids: NarrowValues<u32>,
    /// Nearly all fit 4 bytes; an embedder's native node can count more.
    pub sizes: NarrowValues<u32>,
    pub edge_counts: Vec<u32>,
    /// An embedder (DOM) node's state: 0 unknown, 1 attached, 2 detached; empty when the snapshot has
    /// no `detachedness` field (V8 before 9.x).
    pub detachedness: Vec<u8>,
    /// The node of `trace_tree` that allocated each node (0: none); empty unless the snapshot holds a
    /// trace tree, which only allocation tracking fills.
    pub trace_nodes: Vec<u32>,
}

pub struct Edges {
    pub types: Vec<u8>,
    /// A string index for named edges, a number for element and hidden edges.
    pub names: Vec<u32>,
    /// Target node's ordinal (position in `nodes`).
    pub to: Vec<u32>,
}

impl Nodes {
    /// Parses the `nodes` array; `done` hears of each part of it once parsed (see [`numbers::parse`]).
    pub fn read(
        data: &[u8],
        header: &Header,
        s: &Sections,
        done: &(dyn Fn(Range<usize>) + Sync),
    ) -> Result<Nodes, FormatError> {
        let n = header.node_count;
        let width = header.node_fields.len();
        let cols = [
            header.node_field("type")?,
            header.node_field("name")?,
            header.node_field("id")?,
            header.node_field("self_size")?,
            header.node_field("edge_count")?,
        ];
        let detachedness = header.node_fields.iter().position(|f| f == "detachedness");
        let trace_node = match has_trace_tree(data, s) {
            true => header.node_fields.iter().position(|f| f == "trace_node_id"),
            false => None,
        };
        fits(n, width, &s.nodes, "node_count")?;
        let optional = |field: Option<usize>| if field.is_some() { n } else { 0 };
        let mut nodes = Nodes {
            types: vec![0; n],
            names: vec![0; n],
            ids: NarrowValues::default(),
            sizes: NarrowValues::default(),
            edge_counts: vec![0; n],
            detachedness: vec![0; optional(detachedness)],
            trace_nodes: vec![0; optional(trace_node)],
        };
        let (ids, sizes) = (NarrowWriter::new(n), NarrowWriter::new(n));
        {
            let types = Scatter::new(&mut nodes.types);
            let names = Scatter::new(&mut nodes.names);
            let edge_counts = Scatter::new(&mut nodes.edge_counts);
            let detached = Scatter::new(&mut nodes.detachedness);
            let trace_nodes = Scatter::new(&mut nodes.trace_nodes);
            parse_rows(data, &s.nodes, "node", n, width, done, &|row, col, v| {
                // SAFETY: each (row, column) cell is put once, so each is written once.
                unsafe {
                    match col {
                        c if c == cols[0] => types.write(row, byte(v)),
                        c if c == cols[1] => names.write(row, narrow(v)),
                        c if c == cols[2] => ids.set(row, v),
                        c if c == cols[3] => sizes.set(row, v),
                        c if c == cols[4] => edge_counts.write(row, narrow(v)),
                        c if Some(c) == detachedness => detached.write(row, byte(v)),
                        c if Some(c) == trace_node => trace_nodes.write(row, narrow(v)),
                        _ => {}
                    }
                }
            })?;
        }
        nodes.ids = ids.finish();
        nodes.sizes = sizes.finish();
        Ok(nodes)
    }

    /// Every node's type names a node type and its name a string.
    pub fn check(&self, header: &Header, strings: usize, at: usize) -> Result<(), FormatError> {
        if let Some(i) = first_at_least(&self.types, header.node_types.len()) {
            return err(
                at,
                format!(
                    "node {i} has type {}, which meta.node_types does not list",
                    self.types[i]
                ),
            );
        }
        if let Some(i) = first_at_least(&self.names, strings) {
            return err(
                at,
                format!(
                    "node {i} is named by string {}, beyond the {strings} strings",
                    self.names[i]
                ),
            );
        }
        Ok(())
    }
}

impl Edges {
    /// Parses the `edges` array; `done` hears of each part of it once parsed (see [`numbers::parse`]).
    pub fn read(
        data: &[u8],
        header: &Header,
        s: &Sections,
        done: &(dyn Fn(Range<usize>) + Sync),
    ) -> Result<Edges, FormatError> {
        let m = header.edge_count;
        let width = header.edge_fields.len();
        let node_width = header.node_fields.len() as u64;
        let node_count = header.node_count as u64;
        let cols = [
            header.edge_field("type")?,
            header.edge_field("name_or_index")?,
            header.edge_field("to_node")?,
        ];
        fits(m, width, &s.edges, "edge_count")?;
        let mut edges = Edges {
            types: vec![0; m],
            names: vec![0; m],
            to: vec![0; m],
        };
        {
            let types = Scatter::new(&mut edges.types);
            let names = Scatter::new(&mut edges.names);
            let to = Scatter::new(&mut edges.to);
            parse_rows(data, &s.edges, "edge", m, width, done, &|row, col, v| {
                // SAFETY: each (row, column) cell is put once, so each is written once.
                unsafe {
                    match col {
                        c if c == cols[0] => types.write(row, byte(v)),
                        c if c == cols[1] => names.write(row, narrow(v)),
                        // `to_node` indexes the flat nodes array: a multiple of the node width.
                        c if c == cols[2] => to.write(
                            row,
                            if v % node_width == 0 && v / node_width < node_count {
                                (v / node_width) as u32
                            } else {
                                BAD
                            },
                        ),
                        _ => {}
                    }
                }
            })?;
        }
        Ok(edges)
    }

    /// Every edge's type names an edge type and its target is a node.
    pub fn check(&self, header: &Header, at: usize) -> Result<(), FormatError> {
        if let Some(i) = first_at_least(&self.types, header.edge_types.len()) {
            return err(
                at,
                format!(
                    "edge {i} has type {}, which meta.edge_types does not list",
                    self.types[i]
                ),
            );
        }
        if let Some(i) = first_at_least(&self.to, BAD as usize) {
            return err(
                at,
                format!("edge {i} points to no node (to_node is not the index of a node in the nodes array)"),
            );
        }
        Ok(())
    }
}

/// Whether `count` rows of `width` numbers can be in `body` at all (each number takes at least two bytes
/// with its comma), checked before allocating columns sized by a count the file states.
fn fits(
    count: usize,
    width: usize,
    body: &std::ops::Range<usize>,
    what: &str,
) -> Result<(), FormatError> {
    let least = count.checked_mul(width).and_then(|n| n.checked_mul(2));
    if least.is_none_or(|least| least > body.len() + 1) {
        return err(
            body.start,
            format!(
                "snapshot.{what} is {count}, more than the {} bytes of its array can hold",
                body.len()
            ),
        );
    }
    Ok(())
}

/// The position of the first of `values` at or above `limit`. The parallel maximum comes first: it
/// vectorizes, and it is the whole answer for a well-formed file.
pub fn first_at_least<T>(values: &[T], limit: usize) -> Option<usize>
where
    T: Copy + Ord + Default + Into<u64> + Send + Sync,
{
    let most = values
        .par_chunks(1 << 20)
        .map(|chunk| chunk.iter().copied().fold(T::default(), T::max))
        .max()?;
    if most.into() < limit as u64 {
        return None;
    }
    values.iter().position(|&v| v.into() >= limit as u64)
}

fn narrow(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(BAD)
}

/// `v` as a byte column's value, `u8::MAX` if it does not fit (no type or state has that number).
fn byte(v: u64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// Parses `data[body]`, the array of `rows` `kind`s of `width` numbers each, handing each cell to `put`
/// (see [`numbers::parse`]); numbers past the last row are not handed on, and an array that does not
/// hold exactly `rows` rows is an error naming the header's count.
fn parse_rows<F: Fn(usize, usize, u64) + Sync>(
    data: &[u8],
    body: &Range<usize>,
    kind: &str,
    rows: usize,
    width: usize,
    done: &(dyn Fn(Range<usize>) + Sync),
    put: &F,
) -> Result<(), FormatError> {
    let count = numbers::parse(
        data,
        body.clone(),
        width,
        &|row, col, v| {
            if row < rows {
                put(row, col, v)
            }
        },
        done,
    )?;
    let expected = rows.saturating_mul(width);
    if count != expected {
        return err(
            body.start,
            format!(
                "the {kind}s array holds {count} numbers; {rows} {kind}s of {width} fields \
                 (snapshot.{kind}_count) need {expected}"
            ),
        );
    }
    Ok(())
}

/// Whether the snapshot holds a `trace_tree` with anything in it: V8 writes an empty one unless it
/// tracked allocations.
fn has_trace_tree(data: &[u8], s: &Sections) -> bool {
    s.trace_tree
        .as_ref()
        .is_some_and(|body| data[body.clone()].iter().any(|b| !b.is_ascii_whitespace()))
}
