//! Growth suspects: what grew in every interval between several dumps of one process.
//!
//! Objects are matched across dumps by where they are, never by address (CPython reuses addresses, a JVM
//! moves objects). Every reachable object gets a *path key*: a hash of its BFS parent's key (see
//! [`ShortestPaths`]), the edge from that parent and its own type, written as [`fingerprint`]s write
//! them (indices `[i]`, keys that are numbers or addresses `[k]`, collection internals left out); a
//! root's key hashes its root kind, name and type. The objects of one key are tallied per dump
//! ([`PathTally`]): how many, their shallow bytes, their retaining references (so that a map growing by
//! unique keys shows as well as a list), and the same sums over every key below it.
//!
//! A key *grows* when its objects, or their references, grew by at least
//! [`GrowthOptions::min_growth`] in every interval (LeakCanary's heap-growth rule), under a parent key
//! that every dump has (references: on objects every dump has), and the objects below every key above
//! it, up to its root, grew too. So a cache churned within a bound, whatever it allocates, never grows;
//! nor does an entry under a fresh key, whatever it holds; nor do objects that only move between paths
//! (the entries of a churned linked map, reached through other chains in every dump).
//!
//! One leak makes many keys grow (the list, its elements, their fields): only the highest growing key
//! of a chain is a suspect, with what grew below it tallied by type; growth in collection internals (a
//! V8 Map's table, a Java HashMap's) is reported at their owner. Suspects are ranked by the bytes below
//! them that the last interval added.
//!
//! Counts and shallow bytes are exact. The bytes "below" a key add the shallow sizes of the objects whose
//! shortest path runs through it: an estimate of what it keeps alive (an object shared with another path
//! counts where the BFS reached it first). A leak that grows in depth (a linked list) makes one new key
//! per object and shows only where some key's count or references grow.

use super::fingerprint;
use crate::paths::{Parent, PathStep, ShortestPaths};
use heapgraph_graph::{EdgeKind, EdgeLabel, Graph, NodeId, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Marks "no key": a root's parent, a node no root reaches.
const NONE: u32 = u32::MAX;

/// Types a runtime makes for its own use as the program runs, named as DevTools names V8's: compiled
/// code (bytecode, optimised code and function metadata, made lazily and again on every tier-up),
/// hidden system objects (feedback vectors and the like) and object shapes (hidden classes, their
/// descriptor and transition arrays, made as objects get properties and as code's feedback settles).
/// They grow while code warms up, bounded by the program's code rather than its data, so growth never
/// counts them: a key of these types never grows and adds nothing to the objects below its parents.
/// What they hold (a closure context's variables) still counts.
pub const ENGINE_TYPES: &[&str] = &["(compiled code)", "(system)", "(object shape)"];

/// How growth suspects are found.
#[derive(Clone, Debug)]
pub struct GrowthOptions {
    /// A key grows when its objects or their references grew by at least this much in every interval.
    pub min_growth: u64,
    /// Types listed per suspect.
    pub top: usize,
}

impl Default for GrowthOptions {
    fn default() -> Self {
        GrowthOptions {
            min_growth: 2,
            top: 5,
        }
    }
}

/// The objects of one path key in one dump.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyStats {
    pub key: u64,
    /// The parent key's position in [`PathTally::keys`] (always before this one), or none for a root's.
    parent: u32,
    /// Reached from the parent through collection internals (a `Map`'s table).
    internal: bool,
    pub type_id: TypeId,
    pub totals: Totals,
    /// The smallest node with this key.
    pub first: NodeId,
}

/// Sums over the objects of one key, and over every key below it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: u64,
    pub shallow_bytes: u64,
    /// Retaining references of these objects.
    pub references: u64,
    /// Objects of this key and of every key below it.
    pub objects_below: u64,
    /// Their shallow bytes.
    pub bytes_below: u64,
}

/// Every reachable object of one dump tallied by path key.
pub struct PathTally {
    /// Parents before children.
    pub keys: Vec<KeyStats>,
    index: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    /// Type names by the dump's type id.
    pub type_names: Vec<String>,
}

/// Keys are hashes already: they are their own hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl PathTally {
    /// Tallies the objects of `graph` that `paths` reaches by path key, in one pass over the nodes (each
    /// node's key is computed once, after its BFS parent's).
    pub fn compute(graph: &Graph, paths: &ShortestPaths) -> PathTally {
        let n = graph.node_count();
        let labels = graph.all_labels();
        let roots = root_names(graph);
        let mut steps: HashMap<(EdgeLabel, TypeId), u64> = HashMap::new();
        let mut tally = PathTally {
            keys: Vec::new(),
            index: HashMap::default(),
            type_names: (0..graph.type_count() as TypeId)
                .map(|t| graph.type_name(t))
                .collect(),
        };
        let mut slot = vec![NONE; n];
        let mut pending = Vec::new();
        for node in 0..n as NodeId {
            if slot[node as usize] != NONE || !paths.is_reached(node) {
                continue;
            }
            // Up to the first ancestor with a key (or a root); a walk longer than the graph is a loop
            // only a forged index makes, and ends there.
            let mut at = node;
            loop {
                // Finding a parent is a search for the edge's source: done once per node.
                let parent = paths.parent(graph, at);
                pending.push((at, parent));
                match parent {
                    Parent::Node(p, _) if slot[p as usize] == NONE && pending.len() <= n => at = p,
                    _ => break,
                }
            }
            while let Some((u, parent)) = pending.pop() {
                let ty = graph.type_of(u);
                let (parent, step, internal) = match parent {
                    Parent::Node(p, e) => {
                        let label = labels.get(e as usize).copied().unwrap_or_default();
                        let internal = label.kind() == EdgeKind::Internal;
                        let step = *steps.entry((label, ty)).or_insert_with(|| {
                            let via = PathStep {
                                node: u,
                                via: Some(label),
                            };
                            hash_text(&fingerprint::normalized(graph, &[via], None))
                        });
                        (slot[p as usize], step, internal)
                    }
                    _ => (NONE, hash_text(roots.get(&u).map_or("", |r| r)), false),
                };
                let parent_key = tally.keys.get(parent as usize).map_or(0, |k| k.key);
                let at = tally.slot_of(mix(parent_key, step), parent, internal, ty, u);
                slot[u as usize] = at;
                let references = graph
                    .node_edges(u)
                    .filter(|&(e, _)| graph.retains(e))
                    .count();
                let totals = &mut tally.keys[at as usize].totals;
                totals.count += 1;
                totals.shallow_bytes = totals.shallow_bytes.saturating_add(graph.shallow_size(u));
                totals.references += references as u64;
            }
        }
        tally.sum_below();
        tally
    }

    /// The position of `key`, added (with node `first`) if it is new.
    fn slot_of(
        &mut self,
        key: u64,
        parent: u32,
        internal: bool,
        type_id: TypeId,
        first: NodeId,
    ) -> u32 {
        let keys = &mut self.keys;
        *self.index.entry(key).or_insert_with(|| {
            keys.push(KeyStats {
                key,
                parent,
                internal,
                type_id,
                totals: Totals::default(),
                first,
            });
            (keys.len() - 1) as u32
        })
    }

    /// Adds every key's own objects to its ancestors' `*_below` sums: children come after parents.
    fn sum_below(&mut self) {
        for i in 0..self.keys.len() {
            let engine = self.is_engine(&self.keys[i]);
            let totals = &mut self.keys[i].totals;
            totals.objects_below = if engine { 0 } else { totals.count };
            totals.bytes_below = if engine { 0 } else { totals.shallow_bytes };
        }
        for i in (0..self.keys.len()).rev() {
            let (parent, own) = (self.keys[i].parent as usize, self.keys[i].totals);
            if parent < i {
                let up = &mut self.keys[parent].totals;
                up.objects_below += own.objects_below;
                up.bytes_below = up.bytes_below.saturating_add(own.bytes_below);
            }
        }
    }

    /// Whether `k`'s objects are of one of the [`ENGINE_TYPES`].
    fn is_engine(&self, k: &KeyStats) -> bool {
        ENGINE_TYPES.contains(&self.type_names[k.type_id as usize].as_str())
    }

    /// The totals of `key` in this dump; zero if no object has it.
    pub fn totals(&self, key: u64) -> Totals {
        self.index
            .get(&key)
            .map_or_else(Totals::default, |&i| self.keys[i as usize].totals)
    }

    /// For each key, the picked key (`chosen` numbers them) it is or is below, and how many steps
    /// below.
    fn owners(&self, chosen: &HashMap<u64, usize>) -> Vec<Option<(usize, u32)>> {
        let mut owners: Vec<Option<(usize, u32)>> = Vec::with_capacity(self.keys.len());
        for (i, k) in self.keys.iter().enumerate() {
            let inherited = match k.parent as usize {
                p if p < i => owners[p].map(|(s, depth)| (s, depth + 1)),
                _ => None,
            };
            owners.push(chosen.get(&k.key).map(|&s| (s, 0)).or(inherited));
        }
        owners
    }
}

/// A key that grew in every interval, with no growing key above it.
#[derive(Clone, Debug, PartialEq)]
pub struct GrowthSuspect {
    /// The smallest node of the key in the last dump.
    pub node: NodeId,
    /// Its shortest path from a root in the last dump.
    pub path: Vec<PathStep>,
    /// The key's totals in each dump, oldest first (zero where it had no object).
    pub per_dump: Vec<Totals>,
    /// What grew: its objects' count, or their references.
    pub grew: Grew,
    /// That measure in each dump: of the path's objects, or of the collection internals they own.
    pub measure: Vec<u64>,
    /// The type of the collection internals whose growth is the path's (a V8 `Map`'s table, a Java
    /// `HashMap`'s), if any.
    pub internal: Option<String>,
    /// The types below it that grew in the last interval, the nearest first, then most bytes added; at
    /// most [`GrowthOptions::top`].
    pub types: Vec<TypeGrowth>,
    /// Fingerprint of `path` from its root (see [`fingerprint`]): the same in every dump.
    pub fingerprint: String,
}

/// Which measure of a key grew in every interval.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Grew {
    /// Its objects, and their references.
    Both,
    Objects,
    /// The references of its objects (a container growing in place).
    References,
}

/// Objects of one type below a growth suspect, per dump.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeGrowth {
    pub type_name: String,
    /// References from the suspect to the nearest objects of this type whose path gained objects in
    /// the last interval (`u32::MAX`: none did, they only grew in bytes).
    pub depth: u32,
    /// Count and shallow bytes in each dump, oldest first.
    pub per_dump: Vec<(u64, u64)>,
}

impl GrowthSuspect {
    /// Bytes below the key the last interval added (negative: freed).
    pub fn bytes_added(&self) -> i128 {
        match self.per_dump.as_slice() {
            [.., a, b] => b.bytes_below as i128 - a.bytes_below as i128,
            _ => 0,
        }
    }
}

/// The growth suspects of `tallies` (one per dump of one process, oldest first), read off the last
/// dump (`graph` and its `paths`); most bytes added in the last interval first, ties by fingerprint.
pub fn find_growth(
    tallies: &[PathTally],
    graph: &Graph,
    paths: &ShortestPaths,
    options: &GrowthOptions,
) -> Vec<GrowthSuspect> {
    let Some(last) = tallies.last() else {
        return Vec::new();
    };
    if tallies.len() < 2 {
        return Vec::new();
    }
    let in_every = |key: u64| tallies.iter().all(|t| t.totals(key).count > 0);
    // A path grows where the program keeps adding to something it already had: its parent path (a
    // root's own) is in every dump, and references grow only on objects in every dump. A path new in
    // the last dump (a cache entry under a fresh key) is no growth, whatever it holds.
    let grew = |k: &KeyStats| -> Option<Grew> {
        if last.is_engine(k) {
            return None;
        }
        // A root's objects grow only from some: a root kind new in the last dump is no growth.
        let parent = last.keys.get(k.parent as usize).unwrap_or(k);
        if !in_every(parent.key) {
            return None;
        }
        let per_dump: Vec<Totals> = tallies.iter().map(|t| t.totals(k.key)).collect();
        let every = |f: fn(&Totals) -> u64| {
            per_dump
                .windows(2)
                .all(|w| f(&w[1]) >= f(&w[0]).saturating_add(options.min_growth))
        };
        let present = per_dump.iter().all(|t| t.count > 0);
        match (every(|t| t.count), present && every(|t| t.references)) {
            (true, true) => Some(Grew::Both),
            (true, false) => Some(Grew::Objects),
            (false, true) => Some(Grew::References),
            (false, false) => None,
        }
    };
    // Growth shows in the totals all the way down from the root: objects that only move between the
    // paths of a bounded structure (the entries of a churned linked map, reached through ever other
    // chains) make some paths grow, but not the structure above them.
    let below_grows = |key: u64| {
        let below: Vec<u64> = tallies
            .iter()
            .map(|t| t.totals(key).objects_below)
            .collect();
        below
            .windows(2)
            .all(|w| w[1] >= w[0].saturating_add(options.min_growth))
    };
    // The highest growing key of each chain, in the last dump's key tree.
    let mut growing_above: Vec<bool> = Vec::with_capacity(last.keys.len());
    let mut grows_from_root: Vec<bool> = Vec::with_capacity(last.keys.len());
    let mut chosen: Vec<(usize, Grew)> = Vec::new();
    for (i, k) in last.keys.iter().enumerate() {
        let (above, from_root) = match k.parent as usize {
            p if p < i => (growing_above[p], grows_from_root[p]),
            _ => (false, true),
        };
        let from_root = from_root && below_grows(k.key);
        let grows = grew(k).filter(|_| from_root);
        if let (false, Some(how)) = (above, grows) {
            chosen.push((i, how));
        }
        growing_above.push(above || grows.is_some());
        grows_from_root.push(from_root);
    }
    // Growth in collection internals is its owner's: one suspect per owner. Internals are what an
    // `<internal>` reference reaches (a V8 Map's table) and arrays only their owner references (a Java
    // HashMap's table, an ArrayList's elementData).
    // Referrers of the chosen keys' objects and their owners, counted in one sweep over the edges
    // (asking the graph for in-degrees would build its reverse edges: 4 bytes per edge).
    let mut on_chains: Vec<NodeId> = Vec::new();
    for &(grown, _) in &chosen {
        let mut at = grown;
        on_chains.push(last.keys[at].first);
        while (last.keys[at].parent as usize) < at {
            at = last.keys[at].parent as usize;
            on_chains.push(last.keys[at].first);
        }
    }
    let referrers = super::referrer_counts(graph, &on_chains);
    let plumbing = |k: &KeyStats| {
        k.internal
            || (last.type_names[k.type_id as usize].ends_with("[]")
                && referrers.get(&k.first).copied().unwrap_or(0) <= 1)
    };
    let mut owned: Vec<(usize, usize, Grew)> = Vec::new();
    let mut picked: HashMap<u64, usize> = HashMap::new();
    for (grown, how) in chosen {
        let mut owner = grown;
        while (last.keys[owner].parent as usize) < owner && plumbing(&last.keys[owner]) {
            owner = last.keys[owner].parent as usize;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = picked.entry(last.keys[owner].key)
        {
            slot.insert(owned.len());
            owned.push((owner, grown, how));
        }
    }
    let types = types_below(tallies, &picked, owned.len());
    let mut suspects: Vec<GrowthSuspect> = owned
        .into_iter()
        .zip(types)
        .map(|((owner, grown, grew), mut types)| {
            let k = &last.keys[owner];
            let path = paths.path_to(graph, k.first).unwrap_or_default();
            types.truncate(options.top);
            let grown = &last.keys[grown];
            let measure = |t: Totals| match grew {
                Grew::References => t.references,
                _ => t.count,
            };
            GrowthSuspect {
                node: k.first,
                fingerprint: fingerprint::of_path(graph, &path, None),
                path,
                per_dump: tallies.iter().map(|t| t.totals(k.key)).collect(),
                grew,
                measure: tallies
                    .iter()
                    .map(|t| measure(t.totals(grown.key)))
                    .collect(),
                internal: (grown.key != k.key)
                    .then(|| last.type_names[grown.type_id as usize].clone()),
                types,
            }
        })
        .collect();
    suspects.sort_by(|a, b| {
        b.bytes_added()
            .cmp(&a.bytes_added())
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    suspects
}

/// For each of `count` suspects (`picked` maps their keys to their numbers), the types below it that
/// grew in the last interval, per dump: the nearest first (the container's elements before what they
/// hold), then most bytes added.
fn types_below(
    tallies: &[PathTally],
    picked: &HashMap<u64, usize>,
    count: usize,
) -> Vec<Vec<TypeGrowth>> {
    let dumps = tallies.len();
    let mut rows: Vec<BTreeMap<&str, TypeGrowth>> = vec![BTreeMap::new(); count];
    for (d, tally) in tallies.iter().enumerate() {
        for (k, owner) in tally.keys.iter().zip(tally.owners(picked)) {
            let Some((s, depth @ 1..)) = owner else {
                continue;
            };
            let name = tally.type_names[k.type_id as usize].as_str();
            let row = rows[s].entry(name).or_insert_with(|| TypeGrowth {
                type_name: name.to_string(),
                depth: u32::MAX,
                per_dump: vec![(0, 0); dumps],
            });
            let grew_last = d + 1 == dumps && tallies[d - 1].totals(k.key).count < k.totals.count;
            if grew_last {
                row.depth = row.depth.min(depth);
            }
            row.per_dump[d].0 += k.totals.count;
            row.per_dump[d].1 = row.per_dump[d].1.saturating_add(k.totals.shallow_bytes);
        }
    }
    let added = |t: &TypeGrowth| match t.per_dump.as_slice() {
        [.., a, b] => (b.1 as i128 - a.1 as i128, b.0 as i128 - a.0 as i128),
        _ => (0, 0),
    };
    rows.into_iter()
        .map(|by_type| {
            let mut grown: Vec<TypeGrowth> = by_type
                .into_values()
                .filter(|t| matches!(added(t), (bytes, count) if bytes > 0 || count > 0))
                .collect();
            grown.sort_by(|x, y| (x.depth.cmp(&y.depth)).then_with(|| added(y).cmp(&added(x))));
            grown
        })
        .collect()
}

/// What a root's key hashes: its root kind and name (a recorded root's over an inferred one's, whose
/// name says nothing) and its type.
fn root_names(graph: &Graph) -> HashMap<NodeId, String> {
    let mut best: HashMap<NodeId, &heapgraph_graph::Root> = HashMap::new();
    for r in graph.roots() {
        let slot = best.entry(r.node).or_insert(r);
        if slot.kind.is_inferred() && !r.kind.is_inferred() {
            *slot = r;
        }
    }
    best.into_iter()
        .map(|(node, r)| {
            let name = match r.kind.is_inferred() {
                true => "",
                false => graph.strings().get(r.name),
            };
            let ty = graph.type_name(graph.type_of(node));
            (node, format!("{} {name} {ty}", r.kind.as_str()))
        })
        .collect()
}

/// A child key from its parent's and its step's (MurmurHash3's finalizer over both).
fn mix(parent: u64, step: u64) -> u64 {
    let mut h = parent ^ step.rotate_left(29);
    h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Keys live only while one command compares its dumps: the standard library's hash will do.
fn hash_text(text: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(text.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze;
    use heapgraph_graph::{EdgeKind, GraphBuilder, RootKind};

    /// One dump of a program whose module holds a list of `leaked` items (each with a payload string)
    /// and a dict of four sessions (each with two strings) whose keys (`generation`) change from dump to
    /// dump. Addresses start
    /// at `base`, so that no object keeps its address.
    fn dump(leaked: u64, generation: u64, base: u64) -> Graph {
        let mut b = GraphBuilder::new();
        let module = b.add_type("builtins", "module", 0);
        let list = b.add_type("builtins", "list", 0);
        let dict = b.add_type("builtins", "dict", 0);
        let item = b.add_type("app", "Item", 48);
        let session = b.add_type("app", "Session", 48);
        let string = b.add_type("builtins", "str", 0);
        let (leak, cache, payload) = (b.intern("leak"), b.intern("cache"), b.intern("payload"));
        let mut next = base;
        let mut node = |b: &mut GraphBuilder, ty, size| {
            next += 16;
            b.add_node(next, ty, size);
            next
        };
        let m = node(&mut b, module, 100);
        b.add_root(m, RootKind::Module, "app");
        let l = node(&mut b, list, 56 + 8 * leaked);
        b.add_edge(m, l, EdgeLabel::named(EdgeKind::Attribute, leak));
        for i in 0..leaked {
            let it = node(&mut b, item, 48);
            b.add_edge(l, it, EdgeLabel::index(i));
            let s = node(&mut b, string, 60);
            b.add_edge(it, s, EdgeLabel::named(EdgeKind::Attribute, payload));
        }
        let d = node(&mut b, dict, 640);
        b.add_edge(m, d, EdgeLabel::named(EdgeKind::Attribute, cache));
        for i in 0..4 {
            let key = b.intern(&format!("['session-{generation}-{i}']"));
            let s = node(&mut b, session, 48);
            b.add_edge(d, s, EdgeLabel::named(EdgeKind::Key, key));
            for j in 0..2 {
                let seen = node(&mut b, string, 30);
                b.add_edge(s, seen, EdgeLabel::index(j));
            }
        }
        b.build().unwrap().graph
    }

    fn suspects_of(dumps: &[Graph]) -> Vec<GrowthSuspect> {
        let analyses: Vec<_> = dumps.iter().map(analyze).collect();
        let tallies: Vec<PathTally> = dumps
            .iter()
            .zip(&analyses)
            .map(|(g, a)| PathTally::compute(g, &a.paths))
            .collect();
        let (graph, last) = (dumps.last().unwrap(), analyses.last().unwrap());
        find_growth(&tallies, graph, &last.paths, &GrowthOptions::default())
    }

    #[test]
    fn the_growing_list_is_one_suspect_and_the_churned_cache_none() {
        let dumps = [dump(3, 0, 0x1000), dump(6, 1, 0x9000), dump(9, 2, 0x5000)];
        let found = suspects_of(&dumps);
        assert_eq!(found.len(), 1, "{found:?}");
        let s = &found[0];
        let graph = &dumps[2];
        assert_eq!(graph.type_name(graph.type_of(s.node)), "list");
        assert_eq!(s.grew, Grew::References);
        let refs: Vec<u64> = s.per_dump.iter().map(|t| t.references).collect();
        assert_eq!(refs, [3, 6, 9]);
        assert_eq!((s.measure.as_slice(), &s.internal), (&[3, 6, 9][..], &None));
        let below: Vec<u64> = s.per_dump.iter().map(|t| t.objects_below).collect();
        assert_eq!(below, [7, 13, 19]);
        assert_eq!(s.bytes_added(), 24 + 3 * (48 + 60));
        let names: Vec<&str> = s.types.iter().map(|t| t.type_name.as_str()).collect();
        assert_eq!(
            names,
            ["app.Item", "str"],
            "the elements, then what they hold"
        );
        assert_eq!(s.types[0].per_dump, [(3, 144), (6, 288), (9, 432)]);
        assert_eq!((s.types[0].depth, s.types[1].depth), (1, 2));
        assert_eq!(s.path.len(), 2);
        let same = suspects_of(&[dump(3, 5, 0x100), dump(6, 6, 0x200), dump(9, 7, 0x300)]);
        assert_eq!(
            same[0].fingerprint, s.fingerprint,
            "named by path, not by address"
        );
    }

    #[test]
    fn growth_in_only_some_intervals_is_no_suspect() {
        let dumps = [dump(3, 0, 0x1000), dump(6, 1, 0x9000), dump(6, 2, 0x5000)];
        assert_eq!(suspects_of(&dumps), []);
        let one_more = [dump(3, 0, 0x1000), dump(4, 1, 0x9000), dump(5, 2, 0x5000)];
        assert_eq!(suspects_of(&one_more), [], "below the minimum growth");
    }

    /// A module holding a function with `code` compiled-code objects, as many object shapes, and a
    /// closure context (a system object) whose variables hold `items` items.
    fn warming(code: u64, items: u64) -> Graph {
        let mut b = GraphBuilder::new();
        let module = b.add_type("", "module", 0);
        let function = b.add_type("", "Function", 64);
        let compiled = b.add_type("", "(compiled code)", 0);
        let system = b.add_type("", "(system)", 0);
        let shape = b.add_type("", "(object shape)", 0);
        let item = b.add_type("", "Item", 32);
        let (f, context) = (b.intern("f"), b.intern("context"));
        b.add_node(0x10, module, 100);
        b.add_root(0x10, RootKind::Module, "app");
        b.add_node(0x20, function, 64);
        b.add_edge(0x10, 0x20, EdgeLabel::named(EdgeKind::Attribute, f));
        b.add_node(0x30, system, 40);
        b.add_edge(0x20, 0x30, EdgeLabel::named(EdgeKind::Internal, context));
        for i in 0..code {
            b.add_node(0x1000 + 0x10 * i, compiled, 200);
            b.add_edge(0x20, 0x1000 + 0x10 * i, EdgeLabel::index(i));
            b.add_node(0x8000 + 0x10 * i, shape, 80);
            b.add_edge(0x20, 0x8000 + 0x10 * i, EdgeLabel::index(code + i));
        }
        for i in 0..items {
            b.add_node(0x100000 + 0x10 * i, item, 32);
            b.add_edge(0x30, 0x100000 + 0x10 * i, EdgeLabel::index(i));
        }
        b.build().unwrap().graph
    }

    #[test]
    fn code_warming_up_is_no_growth_but_what_a_context_holds_is() {
        let warming_up = [warming(3, 5), warming(6, 5), warming(9, 5)];
        assert_eq!(
            suspects_of(&warming_up),
            [],
            "compiled code and object shapes are the runtime's"
        );
        let leaking = suspects_of(&[warming(3, 5), warming(3, 8), warming(3, 11)]);
        assert_eq!(leaking.len(), 1, "{leaking:?}");
        let (s, graph) = (&leaking[0], &warming(3, 11));
        assert_eq!(graph.type_name(graph.type_of(s.node)), "Item");
        assert_eq!(
            (s.grew, s.measure.as_slice()),
            (Grew::Objects, &[5, 8, 11][..])
        );
    }

    /// A module holding a list of `first + second` entries, the first `first` reached straight from
    /// it, the others only through a chain: `[i] Entry`, or `[i] Link .next Entry`.
    fn moving(first: u64, second: u64) -> Graph {
        let mut b = GraphBuilder::new();
        let module = b.add_type("builtins", "module", 0);
        let list = b.add_type("builtins", "list", 0);
        let entry = b.add_type("app", "Entry", 48);
        let link = b.add_type("app", "Link", 16);
        let next = b.intern("next");
        b.add_node(0x10, module, 100);
        b.add_root(0x10, RootKind::Module, "app");
        b.add_node(0x20, list, 100);
        b.add_edge(0x10, 0x20, EdgeLabel::index(0));
        for i in 0..first + second {
            let at = 0x100 + 0x100 * i;
            b.add_node(at, entry, 48);
            if i < first {
                b.add_edge(0x20, at, EdgeLabel::index(i));
            } else {
                b.add_node(at + 8, link, 16);
                b.add_edge(0x20, at + 8, EdgeLabel::index(i));
                b.add_edge(at + 8, at, EdgeLabel::named(EdgeKind::Attribute, next));
            }
        }
        b.build().unwrap().graph
    }

    #[test]
    fn objects_moving_between_paths_of_a_bounded_structure_are_no_growth() {
        // `[i] Entry` gains 2 a dump, but the list above keeps its size.
        let dumps = [moving(2, 8), moving(4, 6), moving(6, 4)];
        assert_eq!(suspects_of(&dumps), []);
        let growing = [moving(2, 8), moving(4, 8), moving(6, 8)];
        assert_eq!(suspects_of(&growing).len(), 1);
    }

    /// `n` objects of one type, each a root of one kind and name.
    fn rooted(n: u64) -> Graph {
        let mut b = GraphBuilder::new();
        let handle = b.add_type("app", "Handle", 32);
        for i in 0..n {
            b.add_node(0x100 + 0x10 * i, handle, 32);
            b.add_root(0x100 + 0x10 * i, RootKind::External, "pool");
        }
        b.build().unwrap().graph
    }

    #[test]
    fn roots_grow_only_from_some() {
        assert_eq!(suspects_of(&[rooted(0), rooted(3), rooted(6)]), []);
        let found = suspects_of(&[rooted(1), rooted(4), rooted(7)]);
        let counts: Vec<u64> = found[0].per_dump.iter().map(|t| t.count).collect();
        assert_eq!(counts, [1, 4, 7]);
    }

    #[test]
    fn two_dumps_of_a_churned_cache_show_no_growth() {
        let dumps = [dump(3, 0, 0x1000), dump(3, 1, 0x9000)];
        assert_eq!(suspects_of(&dumps), [], "sessions under fresh keys");
    }
}
