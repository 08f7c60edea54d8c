//! Retained sizes: the bytes that would be freed if an object were freed.
//!
//! An object's retained size is its shallow size plus that of everything it dominates. In the dominator
//! tree's preorder every vertex is numbered after its immediate dominator, so one sweep from the last vertex to the
//! first, adding each vertex's total into its dominator's, is the whole post-order accumulation: no
//! children lists and no stack.
//!
//! A type's retained size counts only instances that no other instance of the same type dominates:
//! otherwise a linked list of 1000 nodes would count its tail 1000 times.

use crate::dominators::Dominators;
use heapgraph_graph::{Column, Graph, NodeId, TypeId};
use rayon::prelude::*;

/// Retained sizes of every node, of the whole heap and of every type.
///
/// Kept in the dominator tree's preorder space, as the sweep makes them: a node-indexed copy would cost
/// 8 bytes per object more (163 MB on a 20M-object heap) for nothing a query needs. The node-to-preorder
/// map is the dominator tree's own, shared rather than copied.
pub struct RetainedSizes {
    /// Node -> preorder number (see [`Dominators::preorder_number`]); `u32::MAX` for unreachable nodes.
    pre: Column<u32>,
    /// Preorder number -> node; entry 0, the super-root's, is a placeholder.
    vertex: Column<NodeId>,
    /// Per preorder vertex; entry 0 is the super-root's: the shallow size of every reachable object.
    by_vertex: Column<u64>,
    /// Per type, counting only instances not dominated by another instance of the same type.
    by_type: Vec<u64>,
}

impl RetainedSizes {
    pub fn compute(graph: &Graph, dominators: &Dominators) -> RetainedSizes {
        let (vertex, idom) = dominators.preorder_arrays();
        let mut by_vertex: Vec<u64> = Vec::with_capacity(vertex.len());
        by_vertex.push(0);
        by_vertex.par_extend(vertex[1..].par_iter().map(|&n| graph.shallow_size(n)));
        for v in (1..vertex.len()).rev() {
            let size = by_vertex[v];
            by_vertex[idom[v] as usize] += size;
        }
        let by_type = per_type(graph, dominators, &by_vertex);
        let (pre, vertex) = dominators.shared_maps();
        RetainedSizes {
            pre,
            vertex,
            by_vertex: by_vertex.into(),
            by_type,
        }
    }

    /// Sizes as an index file keeps them: per preorder vertex of `dominators` and per type of the graph
    /// they belong to. Fails if the lengths do not match.
    pub fn from_saved(
        dominators: &Dominators,
        by_vertex: Column<u64>,
        by_type: Vec<u64>,
        type_count: usize,
    ) -> Result<RetainedSizes, String> {
        let (pre, vertex) = dominators.shared_maps();
        if by_vertex.len() != vertex.len() || by_type.len() != type_count {
            return Err("its retained sizes do not match the graph".into());
        }
        Ok(RetainedSizes {
            pre,
            vertex,
            by_vertex,
            by_type,
        })
    }

    /// Retained size of `node` (0 if unreachable).
    pub fn of(&self, node: NodeId) -> u64 {
        match self.pre[node as usize] {
            u32::MAX => 0,
            v => self.by_vertex[v as usize],
        }
    }

    /// `(node, retained size)` of every reachable node, in the dominator tree's preorder.
    pub fn reachable(&self) -> impl IndexedParallelIterator<Item = (NodeId, u64)> + '_ {
        self.vertex[1..]
            .par_iter()
            .copied()
            .zip(self.by_vertex[1..].par_iter().copied())
    }

    /// Retained sizes by preorder vertex, as an index file keeps them.
    pub fn by_vertex(&self) -> &[u64] {
        &self.by_vertex
    }

    /// The super-root's retained size: the shallow size of every reachable object.
    pub fn total(&self) -> u64 {
        self.by_vertex[0]
    }

    /// Retained size of type `ty`, counting only instances no other instance of `ty` dominates.
    pub fn of_type(&self, ty: TypeId) -> u64 {
        self.by_type[ty as usize]
    }

    /// Per-type retained sizes, indexed by type id.
    pub fn types(&self) -> &[u64] {
        &self.by_type
    }
}

/// Walks the dominator tree depth-first keeping, per type, how many instances are on the current
/// root-to-node chain; an instance counts when it is the first of its type on its chain.
///
/// The vertices are numbered in the tree's preorder, so the walk is a sweep from the first vertex to the
/// last with a stack of the open vertices (and their types): before a vertex is entered, the vertices
/// whose subtrees it is not in are closed, which are the ones above its dominator on the stack.
fn per_type(graph: &Graph, dominators: &Dominators, by_vertex: &[u64]) -> Vec<u64> {
    let (vertex, idom) = dominators.preorder_arrays();
    let mut by_type = vec![0u64; graph.type_count()];
    let mut on_chain = vec![0u32; graph.type_count()];
    // (vertex, its type) from the top of the tree down; the super-root is not an instance of anything.
    let mut open: Vec<(u32, TypeId)> = Vec::new();
    for v in 1..vertex.len() {
        let d = idom[v];
        while let Some(&(u, ty)) = open.last() {
            if u == d {
                break;
            }
            on_chain[ty as usize] -= 1;
            open.pop();
        }
        let ty = graph.type_of(vertex[v]);
        if on_chain[ty as usize] == 0 {
            by_type[ty as usize] += by_vertex[v];
        }
        on_chain[ty as usize] += 1;
        open.push((v as u32, ty));
    }
    by_type
}
