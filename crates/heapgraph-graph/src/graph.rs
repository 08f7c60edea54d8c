//! The graph itself and its invariants.

use crate::address::Addresses;
use crate::allocation_sites::AllocationSites;
use crate::by_type::SharedValues;
use crate::column::Column;
use crate::details::NodeDetailSource;
use crate::edge_labels::{DerivedCache, EdgeLabels, WeakEdges};
use crate::edge_offsets::EdgeOffsets;
use crate::label::EdgeLabel;
use crate::reverse::reverse_csr;
use crate::roots::Root;
use crate::sizes::{NodeSizes, ShallowSizes};
use crate::strings::Strings;
use crate::targets::{EdgeCursor, NodeEdges, Targets};
use crate::types::{NodeTypes, TypeId, TypeInfo};
use crate::NodeId;
use rayon::prelude::*;
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::ops::Range;
use std::sync::Arc;
use std::sync::OnceLock;

/// What a format reader hands over to become a [`Graph`]. [`Graph::from_parts`] checks every invariant.
pub struct GraphParts {
    /// Node addresses, strictly ascending (node id = position).
    pub addresses: Addresses,
    /// Type of each node, an index into `type_table`.
    pub types: NodeTypes,
    /// Every node's size.
    pub sizes: ShallowSizes,
    /// Forward CSR: edges of node `n` are `offsets[n]..offsets[n + 1]` of `targets` and `labels`.
    pub offsets: Column<u32>,
    /// Every edge's target.
    pub targets: Column<NodeId>,
    pub labels: EdgeLabels,
    pub roots: Vec<Root>,
    pub type_table: Vec<TypeInfo>,
    pub strings: Strings,
    pub details: Box<dyn NodeDetailSource>,
}

/// A graph as an index file keeps it ([`RawGraph::saved_sizes`], [`RawGraph::saved_targets`]): the sizes
/// and first targets shared per type apart from those stored per node. [`Graph::from_saved`] checks every
/// invariant, so a forged index is refused rather than trusted.
pub(crate) struct SavedGraph {
    pub common: CommonParts,
    /// The sizes of the nodes `shared_sizes` does not mark as their type's, in node order.
    pub stored_sizes: ShallowSizes,
    /// One size per type, and a bit per node that has it ([`NodeSizes`]).
    pub shared_sizes: SharedValues,
    pub offsets: Column<u32>,
    /// Every edge's target but the first targets `shared_first` takes out, in CSR order.
    pub stored_targets: Column<NodeId>,
    /// One first target per type, and a bit per node whose first edge has it (see [`EdgeCursor`]).
    pub shared_first: SharedValues,
}

/// What both ways of making a graph hand over the same way, but the offsets.
pub(crate) struct CommonParts {
    pub addresses: Addresses,
    pub types: NodeTypes,
    pub labels: EdgeLabels,
    pub roots: Vec<Root>,
    pub type_table: Vec<TypeInfo>,
    pub strings: Strings,
    pub details: Box<dyn NodeDetailSource>,
}

/// Most edges a graph has: analyses keep edge positions as `u32` and use the two values above as marks.
pub const MAX_EDGES: usize = u32::MAX as usize - 2;

/// One node's edge labels: borrowed from the graph's stored labels, or derived (and maybe cached).
pub enum NodeLabels<'a> {
    Stored(&'a [EdgeLabel]),
    Derived(Arc<Vec<EdgeLabel>>),
}

impl Deref for NodeLabels<'_> {
    type Target = [EdgeLabel];

    fn deref(&self) -> &[EdgeLabel] {
        match self {
            NodeLabels::Stored(labels) => labels,
            NodeLabels::Derived(labels) => labels,
        }
    }
}

/// A violated graph invariant: a bug in a format reader, never the user's dump (readers validate dumps),
/// or an index file forged to pass its checksums. Each variant holds the sentence saying what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// Counts beyond the node or edge id space, or arrays whose lengths disagree.
    Shape(String),
    /// Addresses or edge offsets out of order, or two nodes at one address.
    Order(String),
    /// An edge, node type or root that names something that does not exist.
    Dangling(String),
    /// A saved table of shared sizes or first targets that disagrees with the graph.
    Shared(String),
    /// Saved columns that are missing, of the wrong element size, or that disagree with each other.
    Saved(String),
}

impl GraphError {
    /// What is wrong, without the "inconsistent graph" that `Display` puts first.
    pub fn what(&self) -> &str {
        match self {
            GraphError::Shape(what)
            | GraphError::Order(what)
            | GraphError::Dangling(what)
            | GraphError::Shared(what)
            | GraphError::Saved(what) => what,
        }
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inconsistent graph: {}", self.what())
    }
}

impl std::error::Error for GraphError {}

/// The reverse CSR: sources of node `n` are `sources[offsets[n]..offsets[n + 1]]`.
struct Reverse {
    offsets: Vec<u32>,
    sources: Vec<NodeId>,
}

/// The reference graph of one dump. See the crate docs for the layout.
pub struct Graph {
    addresses: Addresses,
    types: NodeTypes,
    sizes: NodeSizes,
    offsets: EdgeOffsets,
    targets: Targets,
    /// One per edge, or `None` when `details` derives them (see [`EdgeLabels`]).
    labels: Option<Column<EdgeLabel>>,
    weak: WeakEdges,
    /// Derived labels of the last nodes with many edges that were asked about.
    derived: DerivedCache,
    /// Built on first use: only the commands that follow references backwards (`graph --backrefs`) need
    /// it, and it costs 4 bytes per object and per reference (267 MB on a 20M-object Java heap).
    reverse: OnceLock<Reverse>,
    roots: Vec<Root>,
    type_table: Vec<TypeInfo>,
    strings: Strings,
    details: Box<dyn NodeDetailSource>,
    sites: AllocationSites,
}

impl Graph {
    /// A format reader's graph: checks the parts, then takes out the sizes and first targets that nodes
    /// share with their type.
    pub fn from_parts(parts: GraphParts) -> Result<Graph, GraphError> {
        let GraphParts {
            addresses,
            types,
            sizes,
            offsets,
            targets,
            labels,
            roots,
            type_table,
            strings,
            details,
        } = parts;
        let common = CommonParts {
            addresses,
            types,
            labels,
            roots,
            type_table,
            strings,
            details,
        };
        check_parts(&common, &offsets, &sizes, &targets, false)?;
        let types = common.type_table.len();
        let offsets = EdgeOffsets::new(offsets);
        let sizes = NodeSizes::new(sizes, &common.types, types);
        let targets = Targets::new(targets, &offsets, &common.types, types);
        Ok(Graph::assemble(common, offsets, sizes, targets))
    }

    /// A graph read back from an index file: checks the parts, the shared values included.
    pub(crate) fn from_saved(saved: SavedGraph) -> Result<Graph, GraphError> {
        let SavedGraph {
            common,
            stored_sizes,
            shared_sizes,
            offsets,
            stored_targets,
            shared_first,
        } = saved;
        check_parts(&common, &offsets, &stored_sizes, &stored_targets, true)?;
        let types = common.type_table.len();
        let offsets = EdgeOffsets::new(offsets);
        let sizes = NodeSizes::from_saved(stored_sizes, shared_sizes, &common.types, types)
            .map_err(GraphError::Shared)?;
        let targets =
            Targets::from_saved(stored_targets, shared_first, &offsets, &common.types, types)
                .map_err(GraphError::Shared)?;
        Ok(Graph::assemble(common, offsets, sizes, targets))
    }

    fn assemble(
        common: CommonParts,
        offsets: EdgeOffsets,
        sizes: NodeSizes,
        targets: Targets,
    ) -> Graph {
        let CommonParts {
            addresses,
            types,
            labels,
            roots,
            type_table,
            strings,
            details,
        } = common;
        Graph {
            addresses,
            types,
            sizes,
            offsets,
            targets,
            labels: labels.stored,
            weak: labels.weak,
            derived: DerivedCache::default(),
            reverse: OnceLock::new(),
            roots,
            type_table,
            strings,
            details,
            sites: AllocationSites::default(),
        }
    }

    /// The graph with the allocation stacks its dump recorded for its objects.
    pub fn with_allocation_sites(mut self, sites: AllocationSites) -> Result<Graph, GraphError> {
        sites.check_nodes(self.node_count())?;
        self.sites = sites;
        Ok(self)
    }

    /// Where the dump says its objects were allocated; empty when it says nothing.
    pub fn allocation_sites(&self) -> &AllocationSites {
        &self.sites
    }

    pub fn node_count(&self) -> usize {
        self.addresses.len()
    }

    pub fn edge_count(&self) -> usize {
        self.offsets.get(self.node_count()) as usize
    }

    pub fn address(&self, node: NodeId) -> u64 {
        self.addresses.get(node)
    }

    /// The node at `addr`, if the dump has one.
    pub fn node_at(&self, addr: u64) -> Option<NodeId> {
        self.addresses.find(addr)
    }

    pub fn type_of(&self, node: NodeId) -> TypeId {
        self.types.get(node)
    }

    pub fn type_info(&self, ty: TypeId) -> &TypeInfo {
        &self.type_table[ty as usize]
    }

    pub fn type_count(&self) -> usize {
        self.type_table.len()
    }

    /// The printable name of a type (`dict`, `app.models.User`).
    pub fn type_name(&self, ty: TypeId) -> String {
        self.type_info(ty).qualified_name(&self.strings)
    }

    /// Types that `query` names, by short or qualified name.
    pub fn find_types(&self, query: &str) -> Vec<TypeId> {
        (0..self.type_table.len() as TypeId)
            .filter(|&t| self.type_info(t).matches(query, &self.strings))
            .collect()
    }

    pub fn shallow_size(&self, node: NodeId) -> u64 {
        self.sizes.get(node, &self.types)
    }

    /// Calls `f(node, shallow size)` for the nodes `nodes`, in order: what a sweep over all the sizes
    /// should use, cheaper than [`Graph::shallow_size`] node by node.
    pub fn for_each_size(&self, nodes: Range<usize>, f: impl FnMut(NodeId, u64)) {
        self.sizes.for_each(nodes, &self.types, f);
    }

    /// Targets of `node`'s references, in the dump's order.
    pub fn out_targets(&self, node: NodeId) -> impl ExactSizeIterator<Item = NodeId> + Clone + '_ {
        self.node_edges(node).map(|(_, t)| t)
    }

    /// `node`'s references in the dump's order, as (position in the forward CSR, target).
    #[inline]
    pub fn node_edges(&self, node: NodeId) -> NodeEdges<'_> {
        let raw = self.raw();
        NodeEdges {
            cursor: raw.edge_cursor(node),
            stored: raw.stored_targets(),
        }
    }

    /// Targets of `node`'s retaining references (not weak ones), in the dump's order.
    #[inline]
    pub fn retaining_targets(&self, node: NodeId) -> impl Iterator<Item = NodeId> + Clone + '_ {
        self.node_edges(node)
            .filter(|&(e, _)| self.retains(e))
            .map(|(_, t)| t)
    }

    /// Whether edge `edge` (a position in the forward CSR) keeps its target alive: false for a weak
    /// reference. What the analyses follow, read from one bit per edge (never from the dump).
    #[inline]
    pub fn retains(&self, edge: usize) -> bool {
        self.weak.retains(edge)
    }

    /// Calls `f(node, position, target)` for every reference of the nodes `nodes`, in order: what a
    /// sweep over all the edges should use, cheaper than [`Graph::node_edges`] node by node.
    #[inline]
    pub fn for_each_edge(&self, nodes: Range<usize>, f: impl FnMut(NodeId, usize, NodeId)) {
        self.targets.for_each(nodes, &self.offsets, &self.types, f);
    }

    /// [`Graph::for_each_edge`] over the retaining references alone (see [`Graph::retains`]).
    #[inline]
    pub fn for_each_retaining_edge(
        &self,
        nodes: Range<usize>,
        mut f: impl FnMut(NodeId, usize, NodeId),
    ) {
        self.for_each_edge(nodes, |u, e, t| {
            if self.weak.retains(e) {
                f(u, e, t);
            }
        });
    }

    /// The graph's compact layout: edge cursors, prefetching, and the columns as an index file keeps
    /// them. For the hot loops that walk the graph node by node, and for the index writer.
    #[inline]
    pub fn raw(&self) -> RawGraph<'_> {
        RawGraph { graph: self }
    }

    /// Labels of `node`'s references, parallel to [`Graph::out_targets`]: stored ones, or derived from
    /// the dump (unnamed if the dump no longer gives as many references as the graph has). For printing
    /// a few nodes: on an HPROF dump this decodes the object again. Whether an edge retains is
    /// [`Graph::retains`].
    pub fn out_labels(&self, node: NodeId) -> NodeLabels<'_> {
        let range = self.out_range(node);
        if let Some(labels) = &self.labels {
            return NodeLabels::Stored(&labels[range]);
        }
        let derive = || self.derive_labels(node, range.len());
        if range.len() < DerivedCache::MIN_EDGES {
            return NodeLabels::Derived(Arc::new(derive()));
        }
        NodeLabels::Derived(self.derived.get(node).unwrap_or_else(|| {
            let labels = Arc::new(derive());
            self.derived.put(node, labels.clone());
            labels
        }))
    }

    /// Every edge's label, in CSR order: the stored ones, or all of them derived (for an index to keep).
    pub fn all_labels(&self) -> Cow<'_, [EdgeLabel]> {
        if let Some(labels) = &self.labels {
            return Cow::Borrowed(labels);
        }
        const CHUNK: usize = 1 << 14;
        let n = self.node_count();
        let mut labels = vec![EdgeLabel::PLAIN; self.edge_count()];
        let mut tasks = Vec::new();
        let mut rest = &mut labels[..];
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let (chunk, tail) =
                rest.split_at_mut((self.offsets.get(end) - self.offsets.get(start)) as usize);
            rest = tail;
            tasks.push((start..end, chunk));
        }
        tasks.into_par_iter().for_each(|(nodes, chunk)| {
            let mut at = 0;
            for node in nodes {
                let degree = self.out_range(node as NodeId).len();
                chunk[at..at + degree].copy_from_slice(&self.derive_labels(node as NodeId, degree));
                at += degree;
            }
        });
        Cow::Owned(labels)
    }

    /// `node`'s labels from the detail source; unnamed if it cannot give `degree` of them.
    fn derive_labels(&self, node: NodeId, degree: usize) -> Vec<EdgeLabel> {
        if degree == 0 {
            return Vec::new();
        }
        match self.details.edge_labels(node, self) {
            Some(labels) if labels.len() == degree => labels,
            _ => vec![EdgeLabel::PLAIN; degree],
        }
    }

    /// The label of edge `edge` (a position in the forward CSR), one of `source`'s; unnamed if it is not.
    pub fn edge_label(&self, source: NodeId, edge: usize) -> EdgeLabel {
        if let Some(labels) = &self.labels {
            return labels.get(edge).copied().unwrap_or_default();
        }
        let first = self.offsets.get(source as usize) as usize;
        let labels = self.out_labels(source);
        edge.checked_sub(first)
            .and_then(|i| labels.get(i).copied())
            .unwrap_or_default()
    }

    /// The node whose reference edge `edge` (a position in the forward CSR, below [`Graph::edge_count`])
    /// is: it lets an analysis keep an edge's position alone, 4 bytes, where it would keep the source
    /// and the label.
    pub fn edge_source(&self, edge: usize) -> NodeId {
        self.offsets.source_of(edge)
    }

    /// `(target, label)` pairs of `node`'s references. For printing a few nodes, as
    /// [`Graph::out_labels`]; a walk over many follows [`Graph::retaining_targets`] or
    /// [`Graph::for_each_retaining_edge`].
    pub fn out_edges(&self, node: NodeId) -> impl Iterator<Item = (NodeId, EdgeLabel)> + '_ {
        let labels = self.out_labels(node);
        self.out_targets(node)
            .enumerate()
            .map(move |(i, t)| (t, labels[i]))
    }

    /// Nodes that reference `node`, ascending, once per edge (a node referencing it twice appears twice).
    pub fn in_sources(&self, node: NodeId) -> &[NodeId] {
        let (offsets, sources) = self.reverse_csr();
        let n = node as usize;
        &sources[offsets[n] as usize..offsets[n + 1] as usize]
    }

    pub fn in_degree(&self, node: NodeId) -> usize {
        let (offsets, _) = self.reverse_csr();
        let n = node as usize;
        (offsets[n + 1] - offsets[n]) as usize
    }

    /// The stored labels, one per edge; `None` when they are derived from the dump.
    pub fn stored_labels(&self) -> Option<&[EdgeLabel]> {
        self.labels.as_deref()
    }

    /// The reverse CSR as raw arrays: `(offsets, sources)`, built by the first call.
    pub fn reverse_csr(&self) -> (&[u32], &[NodeId]) {
        let reverse = self.reverse.get_or_init(|| {
            let (offsets, sources) = reverse_csr(self);
            Reverse { offsets, sources }
        });
        (&reverse.offsets, &reverse.sources)
    }

    /// Every node's address, ascending.
    pub fn addresses(&self) -> &Addresses {
        &self.addresses
    }

    /// Every node's type, by node id.
    pub fn types(&self) -> &NodeTypes {
        &self.types
    }

    pub fn type_table(&self) -> &[TypeInfo] {
        &self.type_table
    }

    /// Where [`Graph::details`] reads from, for an index to save what it needs.
    pub fn detail_source(&self) -> &dyn NodeDetailSource {
        &*self.details
    }

    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    /// Value preview, name, length and refcount of one node, read on demand.
    pub fn details(&self, node: NodeId) -> crate::NodeDetails {
        self.details.details(node)
    }

    /// Every object the dump states a [`LeakFact`](crate::LeakFact) about, by ascending node id.
    pub fn leak_facts(&self) -> impl Iterator<Item = (NodeId, crate::LeakFact)> + '_ {
        let facts = self.details.leak_facts().into_iter().flat_map(|f| f.iter());
        facts.filter(|&(node, _)| (node as usize) < self.node_count())
    }

    /// The fact the dump states about `node`, if any.
    pub fn leak_fact(&self, node: NodeId) -> Option<crate::LeakFact> {
        self.details.leak_facts()?.get(node)
    }

    /// Bytes held by the graph's arrays (not counting the dump file it may read details from, arrays read
    /// in place from an index file, nor the reverse edges until something has asked for them).
    pub fn heap_bytes(&self) -> usize {
        fn bytes<T>(v: &[T]) -> usize {
            std::mem::size_of_val(v)
        }
        self.addresses.heap_bytes()
            + self.types.heap_bytes()
            + self.sizes.heap_bytes()
            + self.offsets.heap_bytes()
            + self.targets.heap_bytes()
            + self.labels.as_ref().map_or(0, Column::heap_bytes)
            + self.weak.heap_bytes()
            + self
                .reverse
                .get()
                .map_or(0, |r| bytes(&r.offsets) + bytes(&r.sources))
            + bytes(&self.roots)
            + bytes(&self.type_table)
            + self.strings.heap_bytes()
            + self.sites.heap_bytes()
    }

    fn out_range(&self, node: NodeId) -> std::ops::Range<usize> {
        let n = node as usize;
        self.offsets.range(n)
    }
}

/// The graph's compact layout ([`Graph::raw`]): what a hot loop needs to walk it node by node with
/// cursors and prefetches, and the columns an index file keeps.
#[derive(Clone, Copy)]
pub struct RawGraph<'a> {
    graph: &'a Graph,
}

impl<'a> RawGraph<'a> {
    /// A cursor over `node`'s references, for a walk that keeps one per node on its stack; it reads
    /// [`RawGraph::stored_targets`].
    #[inline]
    pub fn edge_cursor(self, node: NodeId) -> EdgeCursor {
        let g = self.graph;
        g.targets
            .cursor(node, g.offsets.range(node as usize), &g.types)
    }

    /// The targets the graph stores, which [`EdgeCursor::next`] reads.
    #[inline]
    pub fn stored_targets(self) -> &'a [NodeId] {
        self.graph.targets.stored()
    }

    /// Starts loading what finding `node`'s references reads: its offset, its type and its bit of the
    /// shared first targets. A walk calls this some steps before [`RawGraph::prefetch_edges`].
    #[inline]
    pub fn prefetch_node(self, node: NodeId) {
        let g = self.graph;
        g.offsets.prefetch(node as usize);
        g.types.prefetch(node);
        g.targets.prefetch_bits(node);
    }

    /// Starts loading `node`'s first stored target (reading its offset and rank, which had better be
    /// loaded by then: see [`RawGraph::prefetch_node`]).
    #[inline]
    pub fn prefetch_edges(self, node: NodeId) {
        let g = self.graph;
        let first = g.offsets.get(node as usize) as usize;
        g.targets.prefetch_first(node, first);
    }

    /// The forward CSR's offsets and weak bits.
    pub(crate) fn forward_csr(self) -> (&'a EdgeOffsets, &'a WeakEdges) {
        (&self.graph.offsets, &self.graph.weak)
    }

    /// The targets as an index file keeps them: the stored ones, and the shared first ones beside.
    pub(crate) fn saved_targets(self) -> (&'a Column<NodeId>, SharedValues) {
        self.graph.targets.saved()
    }

    /// The sizes as an index file keeps them: those stored per node, and the shared ones beside.
    pub(crate) fn saved_sizes(self) -> (&'a ShallowSizes, SharedValues) {
        self.graph.sizes.saved()
    }
}

/// Checks the parts; with `saved`, fewer sizes and targets are stored (`NodeSizes::from_saved` and
/// `Targets::from_saved` check how many).
fn check_parts(
    p: &CommonParts,
    offsets: &Column<u32>,
    sizes: &ShallowSizes,
    targets: &Column<NodeId>,
    saved: bool,
) -> Result<(), GraphError> {
    let n = p.addresses.len();
    if n > u32::MAX as usize {
        return Err(GraphError::Shape(format!(
            "{n} nodes exceed the u32 node id space"
        )));
    }
    let sizes_ok = saved || sizes.len() == n;
    if p.types.len() != n || !sizes_ok || offsets.len() != n + 1 {
        return Err(GraphError::Shape(format!(
            "array lengths disagree: {n} addresses, {} types, {} sizes, {} offsets",
            p.types.len(),
            sizes.len(),
            offsets.len()
        )));
    }
    let edges = offsets[n] as usize;
    let labels = p.labels.stored.as_ref().map_or(edges, |l| l.len());
    let stored_ok = saved || targets.len() == edges;
    if !stored_ok || edges != labels || p.labels.weak.word_count() != edges.div_ceil(64) {
        return Err(GraphError::Shape(format!(
            "edge arrays disagree: {} targets, {labels} labels, {} words of weak bits, offsets end at {edges}",
            targets.len(),
            p.labels.weak.word_count(),
        )));
    }
    if edges > MAX_EDGES {
        return Err(GraphError::Shape(format!(
            "{edges} references exceed the u32 edge position space"
        )));
    }
    if offsets[0] != 0 || offsets.par_windows(2).any(|w| w[0] > w[1]) {
        return Err(GraphError::Order(
            "edge offsets are not ascending from 0".into(),
        ));
    }
    if targets.par_iter().any(|&t| t as usize >= n) {
        return Err(GraphError::Dangling(
            "an edge targets a node that does not exist".into(),
        ));
    }
    let type_count = p.type_table.len();
    if !p.types.all_below(type_count) {
        return Err(GraphError::Dangling(
            "a node has a type that does not exist".into(),
        ));
    }
    if p.roots.iter().any(|r| r.node as usize >= n) {
        return Err(GraphError::Dangling(
            "a root is a node that does not exist".into(),
        ));
    }
    Ok(())
}
