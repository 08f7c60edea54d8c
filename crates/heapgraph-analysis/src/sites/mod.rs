//! Allocation sites: where the live objects were allocated, ranked by what they keep alive.
//!
//! The graph's [`AllocationSites`] give each object the stack the runtime recorded when it was made. A
//! site groups objects by one of three keys ([`SiteGrouping`]): the allocating frame (function, file and
//! line), the allocating frame's file, or the whole stack. Per site: its objects, their shallow bytes,
//! and their **retained** bytes, counted as a type's are: only the objects that no other object of the
//! same site dominates add their retained size, so a linked list built at one line counts once, not once
//! per node ([`RetainedSizes::of_groups`]). Sites can share bytes (a dict made at one line holding
//! strings made at another counts in both), exactly as types do, so the shares of several sites are not
//! added up.
//!
//! The allocating frame is often library code; every site also names the first frame in the program's
//! own code ([`user_code`]) under which most of its objects were allocated.
//!
//! Objects and shallow bytes count every object of the dump with a stack, reachable or not, as the type
//! histogram counts; an object no root reaches retains nothing.

mod user_code;

pub use user_code::is_user_frame;

use crate::dominators::Dominators;
use crate::retained::RetainedSizes;
use heapgraph_graph::{AllocationSites, FrameId, Graph, NodeId, TraceId, TypeId};
use std::collections::HashMap;

/// What makes two objects' allocation sites the same site.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SiteGrouping {
    /// The allocating frame: function, file and line.
    #[default]
    Line,
    /// The allocating frame's file.
    File,
    /// The whole stack.
    Traceback,
}

/// The first frame of the program's own code on a site's stacks, and how many of the site's objects
/// were allocated under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserFrame {
    pub frame: FrameId,
    pub objects: u64,
}

/// One allocation site and its objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// One of the site's stacks, the first met: its allocating frame is the site's (`Line`), its file
    /// is (`File`), or it is the site (`Traceback`).
    pub trace: TraceId,
    pub objects: u64,
    pub shallow: u64,
    /// Bytes the site's objects retain, each byte once (see the module docs); 0 when not computed.
    pub retained: u64,
    /// The user frame under which most of the site's objects were allocated (the lowest frame id among
    /// equals); `None` when no stack of the site reaches the program's own code.
    pub user_frame: Option<UserFrame>,
    /// The site whose objects hold most of what this one retains, when they hold at least
    /// [`HOLDS_SHARE`] of it (see [`SiteTable::compute`]).
    pub holds: Option<HeldSite>,
}

/// Another site whose objects a site's objects keep alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldSite {
    /// Its position in [`SiteTable::sites`].
    pub site: usize,
    /// The bytes the holding site retains through the held site's objects.
    pub bytes: u64,
    /// More of the held site's objects than the holder has hold those bytes: the holder gathers them
    /// (a cache), rather than each of its objects owning one (a bind parameter its label).
    pub gathers: bool,
}

/// The share of a site's retained bytes that another site's objects must account for for the first to
/// hold the second: the share MAT's leak suspects keep walking down the dominator tree with.
pub const HOLDS_SHARE: f64 = 0.7;

/// Allocation sites of a set of objects, ranked.
#[derive(Clone, Debug, Default)]
pub struct SiteTable {
    pub by: SiteGrouping,
    /// Every site, first the ones retaining most ([`SiteTable::compute`]) or with most objects
    /// ([`SiteTable::of_objects`]).
    pub sites: Vec<Site>,
    /// The objects asked about that have a stack, and those that have none.
    pub objects: u64,
    pub untraced: u64,
}

impl SiteTable {
    /// The sites of every object with a stack (only those of `types`, when given), ranked by where the
    /// memory accumulates.
    ///
    /// A container made at one line and filled at others retains what it holds, so by retained bytes
    /// alone the line that made a cache would come before the lines that made what is in it. So a site
    /// *holds* another when the other's objects account for at least [`HOLDS_SHARE`] of the bytes it
    /// retains (the most of any site). The memory accumulates at the last site of a holding chain that
    /// more objects hold than hold them (the parameters a cache's query gathers, not the label each
    /// parameter owns). A site is ranked by its retained bytes, or by those of the site its memory
    /// accumulates at when they are fewer: that site first, then the sites holding it, nearest first;
    /// `holds` is kept only on those. A site holding a sliver of a big one keeps its own place. Ties by
    /// objects, then shallow bytes.
    pub fn compute(
        graph: &Graph,
        dominators: &Dominators,
        retained: &RetainedSizes,
        by: SiteGrouping,
        types: Option<&[TypeId]>,
    ) -> SiteTable {
        let sites = graph.allocation_sites();
        let wanted = |node: NodeId| types.is_none_or(|t| t.contains(&graph.type_of(node)));
        let mut tally = Tally::new(sites, by);
        let mut members = Vec::new();
        for (node, trace) in sites.iter().filter(|&(node, _)| wanted(node)) {
            let group = tally.add(trace, graph.shallow_size(node));
            members.push((node, group));
        }
        let sums = retained.of_groups(dominators, tally.sites.len(), members.into_iter());
        for (site, &sum) in tally.sites.iter_mut().zip(&sums.retained) {
            site.retained = sum;
        }
        for (&(holder, held), &(objects, bytes)) in &sums.held {
            let site = &mut tally.sites[holder as usize];
            let better = site.holds.is_none_or(|h| {
                (bytes, std::cmp::Reverse(held as usize)) > (h.bytes, std::cmp::Reverse(h.site))
            });
            if better && bytes as f64 >= HOLDS_SHARE * site.retained as f64 {
                site.holds = Some(HeldSite {
                    site: held as usize,
                    bytes,
                    gathers: objects > site.objects,
                });
            }
        }
        let asked = match types {
            Some(types) => (0..graph.node_count() as NodeId)
                .filter(|&n| types.contains(&graph.type_of(n)))
                .count() as u64,
            None => graph.node_count() as u64,
        };
        let mut table = tally.finish(asked);
        let chains = holding_chains(&table.sites);
        for (site, &(_, steps)) in table.sites.iter_mut().zip(&chains) {
            if steps == 0 {
                site.holds = None;
            }
        }
        let mut order: Vec<usize> = (0..table.sites.len()).collect();
        let size = |s: &Site| (s.retained, s.objects, s.shallow);
        order.sort_by_key(|&i| {
            let (end, steps) = chains[i];
            let (s, e) = (&table.sites[i], &table.sites[end]);
            let rank = if s.retained < e.retained { s } else { e };
            (
                std::cmp::Reverse(size(rank)),
                rank.trace,
                steps,
                std::cmp::Reverse(size(s)),
                s.trace,
            )
        });
        let mut position = vec![0; order.len()];
        for (at, &i) in order.iter().enumerate() {
            position[i] = at;
        }
        table.sites = order.iter().map(|&i| table.sites[i].clone()).collect();
        for site in &mut table.sites {
            if let Some(held) = &mut site.holds {
                held.site = position[held.site];
            }
        }
        table
    }

    /// The sites of `nodes` (each given once), ranked by objects, then shallow bytes, without retained
    /// sizes: what a report shows beside a group of objects it is about.
    pub fn of_objects(
        graph: &Graph,
        nodes: impl IntoIterator<Item = NodeId>,
        by: SiteGrouping,
    ) -> SiteTable {
        let sites = graph.allocation_sites();
        let mut tally = Tally::new(sites, by);
        let mut asked = 0u64;
        for node in nodes {
            asked += 1;
            if let Some(trace) = sites.trace_of(node) {
                tally.add(trace, graph.shallow_size(node));
            }
        }
        let mut table = tally.finish(asked);
        table
            .sites
            .sort_by_key(|s| (std::cmp::Reverse((s.objects, s.shallow)), s.trace));
        table
    }
}

/// Per site, the site its memory accumulates at (the last site its holding chain reaches by a step that
/// gathers, itself when none does) and how many steps away it is. A chain that comes back to a site it
/// passed ends before it does. Each site is walked once: a chain stops at a site whose answer is known.
fn holding_chains(sites: &[Site]) -> Vec<(usize, u32)> {
    // Per site: (accumulation site, steps, whether a step gathers), or not known yet.
    let mut chains: Vec<Option<(usize, u32, bool)>> = vec![None; sites.len()];
    let mut on_path = vec![false; sites.len()];
    let mut path = Vec::new();
    for start in 0..sites.len() {
        let mut at = start;
        while chains[at].is_none() && !on_path[at] {
            on_path[at] = true;
            path.push(at);
            match sites[at].holds {
                Some(held) => at = held.site,
                None => break,
            }
        }
        let mut below = chains[at];
        while let Some(site) = path.pop() {
            on_path[site] = false;
            // `below` is the chain of the site this one holds, when the walk went on to it.
            let chain = match (below, sites[site].holds) {
                (Some((end, steps, true)), Some(_)) => (end, steps + 1, true),
                (Some(_), Some(held)) if held.gathers => (held.site, 1, true),
                _ => (site, 0, false),
            };
            chains[site] = Some(chain);
            below = Some(chain);
        }
    }
    chains
        .into_iter()
        .map(|c| c.map_or((0, 0), |(end, steps, _)| (end, steps)))
        .collect()
}

/// What identifies a site under a grouping.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SiteKey<'a> {
    Frame(Option<FrameId>),
    File(Option<&'a str>),
    Trace(TraceId),
}

/// Sites as objects are added: each trace's site and user frame are worked out on first sight.
struct Tally<'a> {
    table: &'a AllocationSites,
    by: SiteGrouping,
    /// Per trace: its site, or `UNSEEN`.
    site_of_trace: Vec<u32>,
    keys: HashMap<SiteKey<'a>, u32>,
    sites: Vec<Site>,
    /// Objects per (site, first user frame of their stack).
    user_frames: HashMap<(u32, FrameId), u64>,
    /// Per trace: its first user frame, `NO_USER_FRAME`, or `UNSEEN`.
    user_frame_of_trace: Vec<u32>,
    objects: u64,
}

const UNSEEN: u32 = u32::MAX;
const NO_USER_FRAME: u32 = u32::MAX - 1;

impl<'a> Tally<'a> {
    fn new(table: &'a AllocationSites, by: SiteGrouping) -> Tally<'a> {
        Tally {
            table,
            by,
            site_of_trace: vec![UNSEEN; table.trace_count()],
            keys: HashMap::new(),
            sites: Vec::new(),
            user_frames: HashMap::new(),
            user_frame_of_trace: vec![UNSEEN; table.trace_count()],
            objects: 0,
        }
    }

    /// Adds an object of `shallow` bytes allocated by `trace`; returns its site.
    fn add(&mut self, trace: TraceId, shallow: u64) -> u32 {
        let site = self.site_of(trace);
        let entry = &mut self.sites[site as usize];
        entry.objects += 1;
        entry.shallow += shallow;
        self.objects += 1;
        if let Some(frame) = self.user_frame_of(trace) {
            *self.user_frames.entry((site, frame)).or_default() += 1;
        }
        site
    }

    fn site_of(&mut self, trace: TraceId) -> u32 {
        let t = trace as usize;
        if self.site_of_trace[t] != UNSEEN {
            return self.site_of_trace[t];
        }
        let table = self.table;
        let first = table.frames(trace).first().copied();
        let key = match self.by {
            SiteGrouping::Line => SiteKey::Frame(first),
            SiteGrouping::File => SiteKey::File(first.map(|f| table.frame(f).file)),
            SiteGrouping::Traceback => SiteKey::Trace(trace),
        };
        let sites = &mut self.sites;
        let site = *self.keys.entry(key).or_insert_with(|| {
            sites.push(Site {
                trace,
                objects: 0,
                shallow: 0,
                retained: 0,
                user_frame: None,
                holds: None,
            });
            (sites.len() - 1) as u32
        });
        self.site_of_trace[t] = site;
        site
    }

    fn user_frame_of(&mut self, trace: TraceId) -> Option<FrameId> {
        let t = trace as usize;
        if self.user_frame_of_trace[t] == UNSEEN {
            let table = self.table;
            self.user_frame_of_trace[t] = table
                .frames(trace)
                .iter()
                .copied()
                .find(|&f| is_user_frame(&table.frame(f)))
                .unwrap_or(NO_USER_FRAME);
        }
        Some(self.user_frame_of_trace[t]).filter(|&f| f != NO_USER_FRAME)
    }

    /// The table, with `asked` objects asked about in all.
    fn finish(mut self, asked: u64) -> SiteTable {
        for ((site, frame), objects) in self.user_frames {
            let best = &mut self.sites[site as usize].user_frame;
            let better = best.is_none_or(|b| {
                (objects, std::cmp::Reverse(frame)) > (b.objects, std::cmp::Reverse(b.frame))
            });
            if better {
                *best = Some(UserFrame { frame, objects });
            }
        }
        SiteTable {
            by: self.by,
            sites: self.sites,
            objects: self.objects,
            untraced: asked - self.objects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze;
    use heapgraph_graph::{AllocationSitesBuilder, EdgeLabel, GraphBuilder, RootKind};

    /// A module holds a cache (a dict made at `app.py:1`) of one query (made at `query.py:2`) whose
    /// clause list (`query.py:3`) holds `n` parameters (`param.py:4`), each with a value string
    /// (`param.py:5`).
    fn cache(n: u64) -> Graph {
        let mut b = GraphBuilder::new();
        let module = b.add_type("builtins", "module", 0);
        let dict = b.add_type("builtins", "dict", 0);
        let query = b.add_type("sql", "Select", 0);
        let list = b.add_type("builtins", "list", 0);
        let param = b.add_type("sql", "BindParameter", 0);
        let string = b.add_type("builtins", "str", 0);
        b.add_node(0x10, module, 100);
        b.add_root(0x10, RootKind::Module, "app");
        let chain = [
            (0x20, dict, 200),
            (0x30, query, 64),
            (0x40, list, 56 + 8 * n),
        ];
        let mut above = 0x10;
        for (at, ty, size) in chain {
            b.add_node(at, ty, size);
            b.add_edge(above, at, EdgeLabel::index(0));
            above = at;
        }
        for i in 0..n {
            let (p, v) = (0x1000 + 0x20 * i, 0x1010 + 0x20 * i);
            b.add_node(p, param, 48);
            b.add_edge(0x40, p, EdgeLabel::index(i));
            b.add_node(v, string, 40);
            b.add_edge(p, v, EdgeLabel::index(0));
        }
        let graph = b.build().unwrap().graph;
        let mut s = AllocationSitesBuilder::default();
        let traces: Vec<TraceId> = [("app.py", 1), ("query.py", 2), ("query.py", 3)]
            .iter()
            .chain(&[("param.py", 4), ("param.py", 5)])
            .map(|&(file, line)| {
                let frame = s.frame("f", file, line);
                s.trace(&[frame])
            })
            .collect();
        for node in 1..4 {
            s.object(node, traces[node as usize - 1]);
        }
        for i in 0..n as NodeId {
            s.object(4 + 2 * i, traces[3]);
            s.object(5 + 2 * i, traces[4]);
        }
        graph.with_allocation_sites(s.finish()).unwrap()
    }

    fn lines(graph: &Graph, table: &SiteTable) -> Vec<u32> {
        let sites = graph.allocation_sites();
        let first = |s: &Site| sites.frame(sites.frames(s.trace)[0]).line;
        table.sites.iter().map(first).collect()
    }

    #[test]
    fn the_site_where_memory_accumulates_comes_before_the_sites_holding_it() {
        let graph = cache(100);
        let analysis = analyze(&graph);
        let (d, r) = (&analysis.dominators, &analysis.retained);
        let table = SiteTable::compute(&graph, d, r, SiteGrouping::Line, None);
        // The parameters retain 8,800 of the list's 9,656 bytes; their strings 4,000 of their 8,800,
        // under 70%: the parameters are where the memory accumulates.
        assert_eq!(lines(&graph, &table), [4, 3, 2, 1, 5]);
        let retained: Vec<u64> = table.sites.iter().map(|s| s.retained).collect();
        assert_eq!(retained, [8_800, 9_656, 9_720, 9_920, 4_000]);
        let holds: Vec<Option<HeldSite>> = table.sites.iter().map(|s| s.holds).collect();
        let held = |site, bytes, gathers| {
            Some(HeldSite {
                site,
                bytes,
                gathers,
            })
        };
        // The list gathers the parameters; the query and the dict hold one object each.
        let (gathers, owns) = (true, false);
        assert_eq!(
            holds,
            [
                None,
                held(0, 8_800, gathers),
                held(1, 9_656, owns),
                held(2, 9_720, owns),
                None
            ]
        );
        // Only some types: their own chains.
        let strings = graph.find_types("str");
        let only = SiteTable::compute(&graph, d, r, SiteGrouping::Line, Some(&strings));
        assert_eq!(lines(&graph, &only), [5]);
    }

    #[test]
    fn chains_end_at_the_last_gathered_site_and_before_they_come_back() {
        let site = |holds: Option<(usize, bool)>| Site {
            trace: 0,
            objects: 1,
            shallow: 1,
            retained: 1,
            user_frame: None,
            holds: holds.map(|(site, gathers)| HeldSite {
                site,
                bytes: 1,
                gathers,
            }),
        };
        let sites = [
            site(Some((1, true))),
            site(Some((2, true))),
            site(Some((0, true))),
            site(Some((1, false))),
            site(None),
            site(Some((6, true))),
            site(Some((7, false))),
            site(None),
        ];
        assert_eq!(
            holding_chains(&sites),
            [
                (2, 2),
                (2, 1),
                (2, 0),
                (2, 2),
                (4, 0),
                (6, 1),
                (6, 0),
                (7, 0)
            ]
        );
    }
}
