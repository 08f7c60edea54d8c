//! Leak suspects: what holds a large share of the heap, where it accumulates, and the reference to fix.
//!
//! Eclipse MAT's Leak Suspects, over any graph. A *single* suspect is an object the super-root alone
//! dominates (a top of the dominator tree) that retains more than a threshold share of the reachable heap;
//! a *group* suspect is a type whose remaining top-level instances together retain more than it. The
//! suspect's memory is said to accumulate where the dominator tree stops narrowing: walking down from the
//! top to the biggest dominated child while that child keeps at least [`SuspectOptions::big_drop`] of its
//! parent ([`accumulation`]). For a group, the accumulation point is the end of the path that most of a
//! sample of its instances share from the roots.
//!
//! Each suspect is then read off its shortest path from a root ([`marks`]): the *holder* (the first object
//! a program named on the way, past namespace plumbing) and the *reference to fix* (the named reference
//! that keeps the accumulated objects, past the backing arrays of a collection), and gets a
//! [`fingerprint`] from the types and edge names of that path, stable across dumps, runs and machines.

mod accumulation;
pub mod fingerprint;
pub mod growth;
mod marks;
pub mod proven;

use crate::dominators::Dominators;
use crate::java_platform::JAVA_PLATFORM_PACKAGES;
use crate::paths::{PathStep, ShortestPaths};
use crate::retained::RetainedSizes;
use crate::Analysis;
use heapgraph_graph::NodeBits;
use heapgraph_graph::{Graph, NodeId, TypeId};
use rayon::prelude::*;
use std::collections::HashMap;

/// How suspects are found.
#[derive(Clone, Debug)]
pub struct SuspectOptions {
    /// Share (0..=1) of the reachable heap a suspect must retain.
    pub threshold: f64,
    /// A walk down the dominator tree stops where the biggest child keeps less than this share of its
    /// parent.
    pub big_drop: f64,
    /// A group's common path continues while one object is on more than this share of the sampled paths.
    pub coverage: f64,
    /// Instances of a group whose paths are sampled.
    pub sample: usize,
    /// Names of library code: a suspect whose path to its holder runs only through objects whose
    /// type (module-qualified, `builtins.dict`) or own name (a class, a module) starts with one of these
    /// is listed apart, and so is a group of such a type.
    pub library_prefixes: Vec<String>,
    /// Types listed per suspect, and biggest instances.
    pub top: usize,
}

impl Default for SuspectOptions {
    fn default() -> Self {
        SuspectOptions {
            threshold: 0.10,
            big_drop: 0.7,
            coverage: 0.8,
            sample: 10_000,
            library_prefixes: JAVA_PLATFORM_PACKAGES
                .iter()
                .chain(OTHER_LIBRARY_PREFIXES)
                .map(|p| p.to_string())
                .collect(),
            top: 5,
        }
    }
}

/// Runtime and framework code whose own structures are reported apart, besides the Java platform's
/// packages (MAT skips those when it looks for a referrer to blame): Kotlin's, CPython's builtins and
/// import machinery, and the runtime's own parenthesised categories (V8's `(system)`).
const OTHER_LIBRARY_PREFIXES: &[&str] = &[
    "kotlin.",
    "builtins.",
    "importlib.",
    "_frozen_importlib",
    "(",
];

/// One or many objects that retain a large share of the heap.
#[derive(Clone, Debug, PartialEq)]
pub enum SuspectKind {
    /// One object at the top of the dominator tree.
    Single,
    /// The top-level instances of one type.
    Group { type_id: TypeId, instances: u64 },
}

/// Objects of one type under an accumulation point.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeTally {
    pub type_id: TypeId,
    pub count: u64,
    pub shallow_bytes: u64,
}

/// A leak suspect.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspect {
    pub kind: SuspectKind,
    /// The object at the top (single), or the group's instance retaining the most.
    pub top: NodeId,
    /// Bytes the suspect retains: the top object's retained size, or the sum over the group's instances
    /// (top-level dominators, so none is counted twice).
    pub retained: u64,
    /// Where the memory accumulates (see the module docs); `None` for a group whose sampled paths share
    /// no object.
    pub accumulation: Option<NodeId>,
    /// The shortest path from a root to the accumulation point (or to the top object).
    pub path: Vec<PathStep>,
    /// The step of `path` that the sentence names.
    pub holder: usize,
    /// The step of `path` whose incoming reference is the one to fix; `None` without an accumulation
    /// point.
    pub fix: Option<usize>,
    /// Objects the accumulation point dominates, by type, most shallow bytes first (at most
    /// [`SuspectOptions::top`]).
    pub accumulated: Vec<TypeTally>,
    /// How many objects the accumulation point dominates, itself included, and their types.
    pub accumulated_objects: u64,
    pub accumulated_types: u64,
    /// The program's type among `accumulated` with the most objects (not the accumulation point's own,
    /// not library code): what `heapgraph retainers` should be asked about.
    pub main_type: Option<TypeId>,
    /// The biggest objects the accumulation point immediately dominates that retain at least 1% of the
    /// reachable heap each (MAT's biggest instances), with their retained sizes.
    pub biggest: Vec<(NodeId, u64)>,
    /// Held by library or runtime code (see [`SuspectOptions::library_prefixes`]).
    pub library: bool,
    /// Stable across dumps, runs and machines (see [`fingerprint`]).
    pub fingerprint: String,
}

/// Everything the suspects were found in, and the suspects, biggest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspects {
    pub suspects: Vec<Suspect>,
    /// Bytes reachable from the roots, which shares are of.
    pub reachable_bytes: u64,
    /// The threshold in bytes.
    pub threshold_bytes: u64,
    /// Objects the dump proves should be gone, at any size (see [`proven`]).
    pub proven: Vec<proven::ProvenGroup>,
}

/// Finds the leak suspects of `graph`, biggest first (a single object before a group of equal size);
/// ties by fingerprint, so the order does not depend on the machine.
pub fn find_suspects(graph: &Graph, analysis: &Analysis, options: &SuspectOptions) -> Suspects {
    let (dominators, retained, paths) = (&analysis.dominators, &analysis.retained, &analysis.paths);
    let reachable_bytes = retained.total();
    let threshold_bytes = (options.threshold * reachable_bytes as f64).ceil() as u64;
    let threshold_bytes = threshold_bytes.max(1);
    let mut singles = Vec::new();
    let mut by_type: std::collections::BTreeMap<TypeId, (u64, Vec<NodeId>)> = Default::default();
    for (top, number) in dominators.numbered_super_root_children() {
        let r = retained.of_number(number);
        if r > threshold_bytes {
            singles.push(top);
        } else {
            let slot = by_type.entry(graph.type_of(top)).or_default();
            slot.0 = slot.0.saturating_add(r);
            slot.1.push(top);
        }
    }
    let mut found: Vec<(SuspectKind, NodeId, u64, Option<NodeId>)> = singles
        .par_iter()
        .map(|&top| {
            let point = accumulation::walk_down(dominators, retained, top, options.big_drop);
            (SuspectKind::Single, top, retained.of(top), Some(point))
        })
        .collect();
    let groups: Vec<(TypeId, u64, Vec<NodeId>)> = by_type
        .into_iter()
        .filter(|(_, (bytes, _))| *bytes > threshold_bytes)
        .map(|(ty, (bytes, nodes))| (ty, bytes, nodes))
        .collect();
    found.extend(groups.into_iter().map(|(type_id, bytes, instances)| {
        let top = *instances
            .iter()
            .max_by_key(|&&n| (retained.of(n), std::cmp::Reverse(n)))
            .expect("a group has instances");
        let point = accumulation::common_path(graph, paths, &instances, options);
        let kind = SuspectKind::Group {
            type_id,
            instances: instances.len() as u64,
        };
        (kind, top, bytes, point)
    }));
    let reader = Reader {
        graph,
        dominators,
        retained,
        paths,
        options,
    };
    let mut suspects: Vec<Suspect> = found
        .into_par_iter()
        .map(|(kind, top, bytes, point)| reader.suspect(kind, top, bytes, point))
        .collect();
    suspects.sort_by(|a, b| {
        b.retained
            .cmp(&a.retained)
            .then_with(|| (a.kind != SuspectKind::Single).cmp(&(b.kind != SuspectKind::Single)))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    Suspects {
        suspects,
        reachable_bytes,
        threshold_bytes,
        proven: proven::find_proven(graph, analysis),
    }
}

struct Reader<'a> {
    graph: &'a Graph,
    dominators: &'a Dominators,
    retained: &'a RetainedSizes,
    paths: &'a ShortestPaths,
    options: &'a SuspectOptions,
}

/// How many references point at each of `nodes`, weak ones included: one parallel sweep over every
/// edge, where asking the graph for in-degrees would build its reverse edges (4 bytes per edge).
pub(crate) fn referrer_counts(graph: &Graph, nodes: &[NodeId]) -> HashMap<NodeId, u64> {
    let mut wanted = NodeBits::new(graph.node_count());
    for &n in nodes {
        wanted.insert(n);
    }
    const CHUNK: usize = 1 << 16;
    let n = graph.node_count();
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .fold(HashMap::new, |mut counts: HashMap<NodeId, u64>, chunk| {
            graph.for_each_edge(chunk * CHUNK..((chunk + 1) * CHUNK).min(n), |_, _, t| {
                if wanted.contains(t) {
                    *counts.entry(t).or_default() += 1;
                }
            });
            counts
        })
        .reduce(HashMap::new, |mut a, b| {
            for (node, count) in b {
                *a.entry(node).or_default() += count;
            }
            a
        })
}

impl Reader<'_> {
    fn suspect(
        &self,
        kind: SuspectKind,
        top: NodeId,
        retained: u64,
        accumulation: Option<NodeId>,
    ) -> Suspect {
        let graph = self.graph;
        let end = accumulation.unwrap_or(top);
        let path = self.paths.path_to(graph, end).unwrap_or_default();
        let holder = marks::holder(graph, &path);
        let fix = accumulation.map(|_| marks::fix(graph, self.dominators, &path, holder));
        let (accumulated, accumulated_objects, accumulated_types) = self.tally(end);
        let mut biggest: Vec<(NodeId, u64)> = self
            .dominators
            .numbered_children(end)
            .map(|(n, v)| (n, self.retained.of_number(v)))
            .collect();
        let one_percent = self.retained.total() / 100;
        biggest.retain(|&(_, r)| r >= one_percent.max(1));
        biggest.sort_by_key(|&(n, r)| (std::cmp::Reverse(r), n));
        biggest.truncate(self.options.top);
        let own_type = graph.type_of(end);
        let main_type = accumulated
            .iter()
            .filter(|t| t.type_id != own_type && !self.is_library_type(t.type_id))
            .max_by_key(|t| (t.count, t.shallow_bytes, std::cmp::Reverse(t.type_id)))
            .map(|t| t.type_id);
        let library = match kind {
            SuspectKind::Single => path
                .get(..=holder)
                .is_some_and(|steps| steps.iter().all(|step| self.is_library(step.node))),
            SuspectKind::Group { type_id, .. } => self.is_library_type(type_id),
        };
        let group_type = match kind {
            SuspectKind::Group { type_id, .. } => Some(graph.type_name(type_id)),
            SuspectKind::Single => None,
        };
        let fingerprint = fingerprint::of_path(
            graph,
            &path[holder.min(path.len())..],
            group_type.as_deref(),
        );
        Suspect {
            kind,
            top,
            retained,
            accumulation,
            path,
            holder,
            fix,
            accumulated,
            accumulated_objects,
            accumulated_types,
            main_type,
            biggest,
            library,
            fingerprint,
        }
    }

    /// Whether `node` is the runtime's or a library's: a named object (a class, a module, a function)
    /// by its name, anything else by its type's module-qualified name.
    fn is_library(&self, node: NodeId) -> bool {
        match self.graph.details(node).name {
            Some(name) => self.matches_library(&name),
            _ => self.is_library_type(self.graph.type_of(node)),
        }
    }

    fn is_library_type(&self, ty: TypeId) -> bool {
        let info = self.graph.type_info(ty);
        let strings = self.graph.strings();
        let full = format!("{}.{}", strings.get(info.module), strings.get(info.name));
        self.matches_library(&full) || self.matches_library(&self.graph.type_name(ty))
    }

    fn matches_library(&self, name: &str) -> bool {
        let prefixes = &self.options.library_prefixes;
        prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }

    /// The objects `node` dominates (itself included) by type, most shallow bytes first, the first
    /// [`SuspectOptions::top`]; with how many objects and types there are in all.
    fn tally(&self, node: NodeId) -> (Vec<TypeTally>, u64, u64) {
        let graph = self.graph;
        let types = graph.type_count();
        let subtree = self.dominators.subtree(node);
        let zero = || vec![(0u64, 0u64); types];
        let add = |acc: &mut Vec<(u64, u64)>, n: NodeId, size: u64| {
            let slot = &mut acc[graph.type_of(n) as usize];
            slot.0 += 1;
            slot.1 = slot.1.saturating_add(size);
        };
        let sum = |mut a: Vec<(u64, u64)>, b: Vec<(u64, u64)>| {
            for (x, y) in a.iter_mut().zip(b) {
                x.0 += y.0;
                x.1 = x.1.saturating_add(y.1);
            }
            a
        };
        const CHUNK: usize = 1 << 16;
        // In parallel, a counter per type. A suspect can hold most of the heap: then a sweep over every
        // node in id order, keeping those whose preorder number falls in the subtree's range, reads the
        // sizes and types front to back instead of looking each up in preorder.
        let by_type = if subtree.len() > graph.node_count() / 4 {
            let first = self.dominators.preorder_number(node).unwrap_or(0);
            let range = first..first + subtree.len() as u32;
            let n = graph.node_count();
            (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .fold(zero, |mut acc, chunk| {
                    graph.for_each_size(chunk * CHUNK..((chunk + 1) * CHUNK).min(n), |n, size| {
                        if self
                            .dominators
                            .preorder_number(n)
                            .is_some_and(|v| range.contains(&v))
                        {
                            add(&mut acc, n, size);
                        }
                    });
                    acc
                })
                .reduce(zero, sum)
        } else {
            subtree
                .par_chunks(CHUNK)
                .fold(zero, |mut acc, nodes| {
                    for &n in nodes {
                        add(&mut acc, n, graph.shallow_size(n));
                    }
                    acc
                })
                .reduce(zero, sum)
        };
        let objects = by_type.iter().map(|t| t.0).sum();
        let by_type: Vec<(TypeId, (u64, u64))> = by_type
            .into_iter()
            .enumerate()
            .filter(|(_, t)| t.0 > 0)
            .map(|(ty, t)| (ty as TypeId, t))
            .collect();
        let types = by_type.len() as u64;
        let mut tallies: Vec<TypeTally> = by_type
            .into_iter()
            .map(|(type_id, (count, shallow_bytes))| TypeTally {
                type_id,
                count,
                shallow_bytes,
            })
            .collect();
        tallies.sort_by_key(|t| {
            (
                std::cmp::Reverse(t.shallow_bytes),
                std::cmp::Reverse(t.count),
                t.type_id,
            )
        });
        tallies.truncate(self.options.top);
        (tallies, objects, types)
    }
}
