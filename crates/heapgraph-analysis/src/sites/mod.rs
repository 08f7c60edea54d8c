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
}

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
    /// The sites of every object with a stack (only those of `types`, when given), ranked by retained
    /// bytes, then objects.
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
        for (site, sum) in tally.sites.iter_mut().zip(sums) {
            site.retained = sum;
        }
        let asked = match types {
            Some(types) => (0..graph.node_count() as NodeId)
                .filter(|&n| types.contains(&graph.type_of(n)))
                .count() as u64,
            None => graph.node_count() as u64,
        };
        let mut table = tally.finish(asked);
        table.sites.sort_by_key(|s| {
            (
                std::cmp::Reverse((s.retained, s.objects, s.shallow)),
                s.trace,
            )
        });
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
