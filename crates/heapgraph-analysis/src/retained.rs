//! Retained sizes: the bytes that would be freed if an object were freed.
//!
//! An object's retained size is its shallow size plus that of everything it dominates. In the dominator
//! tree's preorder every vertex is numbered after its immediate dominator, so one sweep from the last vertex to the
//! first, adding each vertex's total into its dominator's, is the whole post-order accumulation: no
//! children lists and no stack.
//!
//! A type's retained size ([`TypeRetained`]) counts only instances that no other instance of the same
//! type dominates: otherwise a linked list of 1000 nodes would count its tail 1000 times. It takes a
//! sweep of its own, which a report that prints no per-type sizes (`top`) never pays for.

use crate::atomic_view::as_atomic;
use crate::dominators::Dominators;
use heapgraph_graph::timings::phase;
use heapgraph_graph::{
    Column, Graph, GraphError, MappedColumns, NarrowFiller, NarrowValues, NodeId, SavedColumns,
    SharedNodeBits, Slot, TypeId,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// Marks an unreachable node in node-to-preorder.
const NONE: u32 = u32::MAX;

/// Retained sizes of every node and of the whole heap.
///
/// Kept in the dominator tree's preorder space, as the sweep makes them: a node-indexed copy would cost
/// 4 bytes per object more for nothing a query needs. The node-to-preorder map is the dominator tree's
/// own, shared rather than copied.
pub struct RetainedSizes {
    /// Node -> preorder number (see [`Dominators::preorder_number`]); `u32::MAX` for unreachable nodes.
    pre: Column<u32>,
    /// Per preorder vertex, 4 bytes each; entry 0 is the super-root's: the shallow size of every
    /// reachable object. Only a vertex retaining 4 GiB or more (the top of the tree on a big heap) has its
    /// size in a side table: 82 MB less than 8-byte slots on a 20M-object heap, where none of them is that
    /// big but the super-root.
    by_vertex: NarrowValues<u32>,
}

impl RetainedSizes {
    /// Sizes reach preorder space through node-to-preorder, in one pass over the nodes: the
    /// preorder-to-node map, 4 bytes per object, is never needed.
    pub fn compute(graph: &Graph, dominators: &Dominators) -> RetainedSizes {
        let idom = dominators.preorder_idoms();
        let pre = dominators.shared_pre();
        let mut sizes = in_preorder(graph, &pre, idom.len());
        for v in (1..idom.len()).rev() {
            let d = idom[v] as usize;
            let total = sizes.get(d) + sizes.get(v);
            sizes.set(d, total);
        }
        RetainedSizes {
            pre,
            by_vertex: sizes.finish(),
        }
    }

    /// Sizes as [`RetainedSizes::save`] gave them (an index file's): per preorder vertex of `dominators`
    /// in 4 bytes, `u32::MAX` marking one of the big ones. Fails if the lengths do not match or a big
    /// one names a vertex that does not exist.
    fn from_saved(dominators: &Dominators, saved: SavedRetained) -> Result<RetainedSizes, String> {
        let pre = dominators.shared_pre();
        let vertices = dominators.preorder_idoms().len();
        let SavedRetained {
            by_vertex,
            big_vertices,
            big_sizes,
        } = saved;
        if by_vertex.len() != vertices
            || big_vertices.len() != big_sizes.len()
            || big_vertices.iter().any(|&v| v as usize >= vertices)
        {
            return Err("its retained sizes do not match the graph".into());
        }
        Ok(RetainedSizes {
            pre,
            by_vertex: NarrowValues::from_saved(
                by_vertex,
                big_vertices.iter().copied().zip(big_sizes.iter().copied()),
            ),
        })
    }

    /// Hands the sizes to an index file: 4 bytes per vertex, the big ones beside by vertex.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        let (big_vertices, big_sizes): (Vec<u32>, Vec<u64>) =
            self.by_vertex.big_entries().into_iter().unzip();
        out.put(BY_VERTEX, self.by_vertex.dense());
        out.put_owned(BIG_VERTICES, big_vertices);
        out.put_owned(BIG_SIZES, big_sizes);
    }

    /// The sizes [`RetainedSizes::save`] wrote, checked against `dominators` (see
    /// [`RetainedSizes::from_saved`]).
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        dominators: &Dominators,
    ) -> Result<RetainedSizes, GraphError> {
        let saved = SavedRetained {
            by_vertex: columns.column(BY_VERTEX)?,
            big_vertices: columns.column(BIG_VERTICES)?,
            big_sizes: columns.column(BIG_SIZES)?,
        };
        RetainedSizes::from_saved(dominators, saved).map_err(GraphError::Saved)
    }

    /// Retained size of `node` (0 if unreachable).
    pub fn of(&self, node: NodeId) -> u64 {
        match self.pre[node as usize] {
            u32::MAX => 0,
            v => self.by_vertex.get(v as usize),
        }
    }

    /// Retained size of the node with dominator-tree preorder number `number` (see
    /// [`Dominators::numbered_children`]).
    pub fn of_number(&self, number: u32) -> u64 {
        self.by_vertex.get(number as usize)
    }

    /// `(node, retained size)` of every reachable node, by node id.
    pub fn reachable(&self) -> impl ParallelIterator<Item = (NodeId, u64)> + '_ {
        self.pre
            .par_iter()
            .enumerate()
            .with_min_len(1 << 14)
            .filter(|&(_, &v)| v != NONE)
            .map(|(node, &v)| (node as NodeId, self.by_vertex.get(v as usize)))
    }

    /// `(node, retained size)` of every reachable node retaining at least `floor` bytes, by node id, or
    /// `None` when more than `limit` nodes do. One sweep reads the sizes in the tree's order, marking and
    /// counting the vertices that qualify, and one reads node-to-preorder in order: looking up every
    /// node's size through node-to-preorder instead is a cache miss per object.
    pub fn at_least(&self, floor: u64, limit: usize) -> Option<Vec<(NodeId, u64)>> {
        let marked = SharedNodeBits::new(self.by_vertex.len());
        let count = (1..self.by_vertex.len())
            .into_par_iter()
            .with_min_len(1 << 14)
            .filter(|&v| self.by_vertex.get(v) >= floor)
            .map(|v| {
                marked.insert(v as u32);
                1
            })
            .sum::<usize>();
        if count > limit {
            return None;
        }
        let marked = marked.into_bits();
        Some(
            self.pre
                .par_iter()
                .enumerate()
                .with_min_len(1 << 14)
                .filter(|&(_, &v)| v != NONE && marked.contains(v))
                .map(|(node, &v)| (node as NodeId, self.by_vertex.get(v as usize)))
                .collect(),
        )
    }

    /// The retained size of every reachable node, in the dominator tree's preorder (the super-root's
    /// left out).
    pub fn sizes_in_tree_order(&self) -> impl IndexedParallelIterator<Item = u64> + '_ {
        (1..self.by_vertex.len())
            .into_par_iter()
            .with_min_len(1 << 14)
            .map(|v| self.by_vertex.get(v))
    }

    /// `(node, retained size)` of every reachable node in the dominator tree's preorder, given the tree's
    /// preorder-to-node map ([`Dominators::made_preorder`]): both arrays read in order.
    pub fn in_preorder<'a>(
        &'a self,
        preorder: &'a [NodeId],
    ) -> impl ParallelIterator<Item = (NodeId, u64)> + 'a {
        let vertices = self.by_vertex.len().min(preorder.len() + 1);
        (1..vertices)
            .into_par_iter()
            .with_min_len(1 << 14)
            .map(move |v| (preorder[v - 1], self.by_vertex.get(v)))
    }

    /// The super-root's retained size: the shallow size of every reachable object.
    pub fn total(&self) -> u64 {
        self.by_vertex.get(0)
    }

    /// Retained sizes of `groups` groups of objects, each counting only its members that no other member
    /// of the same group dominates, as a type's does. `members` gives (object, group below `groups`);
    /// an object named twice is in the last group given; unreachable objects add nothing.
    ///
    /// Also what holds what: for each counted member, its nearest dominator in a group (necessarily
    /// another) is its holder, and the pair (holder's group, member's group) counts those members and
    /// sums their retained sizes: the bytes one group retains through the other's objects.
    pub fn of_groups(
        &self,
        dominators: &Dominators,
        groups: usize,
        members: impl Iterator<Item = (NodeId, u32)>,
    ) -> GroupSums {
        let idom = dominators.preorder_idoms();
        let mut group_of = vec![NONE; idom.len()];
        for (node, group) in members {
            let v = self.pre[node as usize];
            if v != NONE {
                group_of[v as usize] = group;
            }
        }
        let mut sums = GroupSums {
            retained: vec![0; groups],
            held: HashMap::new(),
        };
        let in_group = |v: usize| Some(group_of[v] as usize).filter(|&g| g < groups);
        outermost_walk(idom, groups, in_group, |v, g, holder| {
            let bytes = self.by_vertex.get(v);
            sums.retained[g] += bytes;
            if let Some(h) = holder {
                let held = sums.held.entry((h as u32, g as u32)).or_default();
                held.0 += 1;
                held.1 += bytes;
            }
        });
        sums
    }
}

/// Per type, the bytes its instances retain, counting only instances that no other instance of the same
/// type dominates.
pub struct TypeRetained {
    by_type: Vec<u64>,
}

impl TypeRetained {
    /// One sweep of the dominator tree, with each vertex's type copied into preorder first.
    pub fn compute(
        graph: &Graph,
        dominators: &Dominators,
        retained: &RetainedSizes,
    ) -> TypeRetained {
        let by_type = phase("retained sizes: by type", || {
            per_type(
                graph,
                &retained.pre,
                dominators.preorder_idoms(),
                &retained.by_vertex,
            )
        });
        TypeRetained { by_type }
    }

    /// Retained size of type `ty`.
    pub fn of(&self, ty: TypeId) -> u64 {
        self.by_type[ty as usize]
    }

    /// Hands the sizes to an index file.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        out.put(BY_TYPE, &self.by_type);
    }

    /// The sizes [`TypeRetained::save`] wrote, for a graph of `type_count` types.
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        type_count: usize,
    ) -> Result<TypeRetained, GraphError> {
        let by_type = columns.column::<u64>(BY_TYPE)?.to_vec();
        if by_type.len() != type_count {
            return Err(GraphError::Saved(
                "its per-type retained sizes do not match the graph's types".into(),
            ));
        }
        Ok(TypeRetained { by_type })
    }
}

/// Retained sizes of groups of objects ([`RetainedSizes::of_groups`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupSums {
    /// Per group, the bytes its members retain, each byte once.
    pub retained: Vec<u64>,
    /// (holder, group) to how many of `group`'s counted members have their nearest dominator in a group
    /// in `holder`, and the bytes they retain.
    pub held: HashMap<(u32, u32), (u64, u64)>,
}

/// The arrays of a [`RetainedSizes`], as an index file keeps them (see [`RetainedSizes::from_saved`]).
struct SavedRetained {
    by_vertex: Column<u32>,
    big_vertices: Column<u32>,
    big_sizes: Column<u64>,
}

/// Every reachable node's shallow size at its preorder number in `pre` (`vertices` slots, the
/// super-root's 0), written from every core: each node has its own number, and each write is a cache
/// miss, which one core would take one after the other.
fn in_preorder(graph: &Graph, pre: &[u32], vertices: usize) -> NarrowFiller<u32> {
    const CHUNK: usize = 1 << 16;
    let mut small = vec![0u32; vertices];
    let slots = as_atomic(&mut small);
    let big: Vec<(u32, u64)> = (0..pre.len().div_ceil(CHUNK))
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let mut big = Vec::new();
            let nodes = chunk * CHUNK..((chunk + 1) * CHUNK).min(pre.len());
            graph.for_each_size(nodes, |node, size| {
                let v = pre[node as usize];
                if v != NONE {
                    let slot = u32::of(size);
                    if slot == u32::BIG {
                        big.push((v, size));
                    }
                    slots[v as usize].store(slot, Ordering::Relaxed);
                }
            });
            big
        })
        .collect();
    NarrowFiller::from_parts(small, big)
}

const BY_VERTEX: &str = "retained.by_vertex";
const BIG_VERTICES: &str = "retained.big_vertices";
const BIG_SIZES: &str = "retained.big_sizes";
const BY_TYPE: &str = "retained.by_type";

/// Per type, the retained sizes of the instances that are the first of their type on their dominator
/// chain ([`outermost_sums`]).
fn per_type(graph: &Graph, pre: &[u32], idom: &[u32], by_vertex: &NarrowValues<u32>) -> Vec<u64> {
    match u16::try_from(graph.type_count()) {
        Ok(_) => per_type_with::<u16>(graph, pre, idom, by_vertex),
        Err(_) => per_type_with::<TypeId>(graph, pre, idom, by_vertex),
    }
}

/// [`per_type`] with the types copied into preorder as `T`: 2 bytes per object when the type table has
/// fewer than 65,536 types, as it nearly always has, since the copy is made at the retained sizes' peak.
fn per_type_with<T>(
    graph: &Graph,
    pre: &[u32],
    idom: &[u32],
    by_vertex: &NarrowValues<u32>,
) -> Vec<u64>
where
    T: Copy + Default + TryFrom<TypeId> + Into<u64>,
{
    let mut types = vec![T::default(); idom.len()];
    for (node, &v) in pre.iter().enumerate() {
        if v != NONE {
            // Every type id fits `T`: `per_type` picks `T` by the type count.
            types[v as usize] = T::try_from(graph.type_of(node as NodeId)).unwrap_or_default();
        }
    }
    outermost_sums(idom, by_vertex, graph.type_count(), |v| {
        Some(types[v].into() as usize)
    })
}

/// Sums, per group, the retained sizes of the vertices that are the first of their group on their
/// dominator chain, so that no byte counts twice for one group. `group_of(v)` is vertex `v`'s group
/// (below `groups`), or `None` for a vertex in none.
fn outermost_sums(
    idom: &[u32],
    by_vertex: &NarrowValues<u32>,
    groups: usize,
    group_of: impl Fn(usize) -> Option<usize>,
) -> Vec<u64> {
    let mut sums = vec![0u64; groups];
    outermost_walk(idom, groups, group_of, |v, g, _| {
        sums[g] += by_vertex.get(v)
    });
    sums
}

/// Calls `outermost(v, group, holder)` for each vertex that is the first of its group on its dominator
/// chain, with the group of its nearest dominator in any group (`None` when no dominator is in one).
///
/// The vertices are numbered in the tree's preorder, so the walk is a sweep from the first vertex to the
/// last with a stack of the open vertices (with their groups, and the group of the nearest open vertex
/// in one) and, per group, how many of them are open: before a vertex is entered, the vertices whose
/// subtrees it is not in are closed, which are the ones above its dominator on the stack.
fn outermost_walk(
    idom: &[u32],
    groups: usize,
    group_of: impl Fn(usize) -> Option<usize>,
    mut outermost: impl FnMut(usize, usize, Option<usize>),
) {
    let mut on_chain = vec![0u32; groups];
    // (vertex, its group, the nearest group at or above it) from the top of the tree down; the
    // super-root is in no group.
    let mut open: Vec<(u32, Option<usize>, Option<usize>)> = Vec::new();
    for (v, &d) in idom.iter().enumerate().skip(1) {
        while let Some(&(u, group, _)) = open.last() {
            if u == d {
                break;
            }
            if let Some(g) = group {
                on_chain[g] -= 1;
            }
            open.pop();
        }
        let above = open.last().and_then(|o| o.2);
        let group = group_of(v);
        if let Some(g) = group {
            if on_chain[g] == 0 {
                outermost(v, g, above);
            }
            on_chain[g] += 1;
        }
        open.push((v as u32, group, group.or(above)));
    }
}
