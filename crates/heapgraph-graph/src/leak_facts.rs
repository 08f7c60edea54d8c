//! Facts a dump states about an object that prove the program is done with it: a file already closed, a
//! generator that has finished, a DOM node detached from its document, an Android Activity destroyed.
//!
//! Such an object, still reachable, is a leak whatever its size. A format that records facts keeps them
//! as a sparse list, a few bytes per object that has one and nothing for the others; a format that has
//! none keeps an empty list.

use crate::column::Column;
use crate::details::SavedDetails;
use crate::NodeId;

/// Why an object should be gone. The codes are those of the `.hgd` FACT record (docs/formats.md) and
/// of the index; a code this build does not know is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum LeakFact {
    /// A file object whose file descriptor is closed.
    FileClosed = 1,
    /// A socket already closed.
    SocketClosed = 2,
    /// A generator that has returned or raised: it can never run again.
    GeneratorFinished = 3,
    /// A coroutine or async generator that has finished.
    CoroutineFinished = 4,
    /// The frame of a call that has returned (kept by a traceback, most often).
    ReturnedFrame = 5,
    /// A DOM node no longer in any document.
    DetachedDomNode = 6,
    /// A channel (a Java NIO file or socket channel) already closed.
    ChannelClosed = 7,
    /// An Android Activity whose `onDestroy` has run.
    ActivityDestroyed = 8,
}

impl LeakFact {
    pub const ALL: [LeakFact; 8] = [
        LeakFact::FileClosed,
        LeakFact::SocketClosed,
        LeakFact::GeneratorFinished,
        LeakFact::CoroutineFinished,
        LeakFact::ReturnedFrame,
        LeakFact::DetachedDomNode,
        LeakFact::ChannelClosed,
        LeakFact::ActivityDestroyed,
    ];

    pub fn from_code(code: u8) -> Option<LeakFact> {
        LeakFact::ALL.into_iter().find(|f| *f as u8 == code)
    }

    /// The fact in a few words: `file closed`.
    pub fn reason(self) -> &'static str {
        match self {
            LeakFact::FileClosed => "file closed",
            LeakFact::SocketClosed => "socket closed",
            LeakFact::GeneratorFinished => "generator finished",
            LeakFact::CoroutineFinished => "coroutine finished",
            LeakFact::ReturnedFrame => "frame of a returned call",
            LeakFact::DetachedDomNode => "detached DOM node",
            LeakFact::ChannelClosed => "channel closed",
            LeakFact::ActivityDestroyed => "Activity destroyed",
        }
    }
}

/// The objects a dump states a [`LeakFact`] about, by ascending node id.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct LeakFacts {
    nodes: Column<u32>,
    codes: Column<u8>,
}

impl LeakFacts {
    /// The facts of `pairs` (node, code), in any order; the last fact said about a node wins, unknown codes
    /// are dropped.
    pub fn new(mut pairs: Vec<(NodeId, u8)>) -> LeakFacts {
        pairs.retain(|&(_, code)| LeakFact::from_code(code).is_some());
        pairs.sort_by_key(|&(node, _)| node);
        let mut nodes: Vec<u32> = Vec::with_capacity(pairs.len());
        let mut codes: Vec<u8> = Vec::with_capacity(pairs.len());
        for (node, code) in pairs {
            if nodes.last() == Some(&node) {
                *codes.last_mut().expect("one code per node") = code;
            } else {
                nodes.push(node);
                codes.push(code);
            }
        }
        LeakFacts {
            nodes: nodes.into(),
            codes: codes.into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The fact about `node`, if any.
    pub fn get(&self, node: NodeId) -> Option<LeakFact> {
        let at = self.nodes.binary_search(&node).ok()?;
        LeakFact::from_code(*self.codes.get(at)?)
    }

    /// Every (node, fact), by ascending node id.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, LeakFact)> + '_ {
        let codes = self.codes.iter();
        let facts = codes.map(|&c| LeakFact::from_code(c));
        self.nodes
            .iter()
            .zip(facts)
            .filter_map(|(&n, f)| Some((n, f?)))
    }

    /// Appends the facts to what a detail source saves in an index: one more `u32` and one more `u8`
    /// array, last.
    pub fn save_into(&self, saved: &mut SavedDetails) {
        saved.u32s.push(self.nodes.clone());
        saved.u8s.push(self.codes.clone());
    }

    /// The facts [`LeakFacts::save_into`] appended, taken off the end of `saved`; `None` when they are
    /// missing or do not fit (arrays of two lengths, node ids not ascending).
    pub fn take_saved(saved: &mut SavedDetails) -> Option<LeakFacts> {
        let nodes = saved.u32s.pop()?;
        let codes = saved.u8s.pop()?;
        let ascending = nodes.windows(2).all(|w| w[0] < w[1]);
        (nodes.len() == codes.len() && ascending).then_some(LeakFacts { nodes, codes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_dropped() {
        for fact in LeakFact::ALL {
            assert_eq!(LeakFact::from_code(fact as u8), Some(fact));
        }
        let facts = LeakFacts::new(vec![(9, 3), (2, 1), (5, 200), (2, 2)]);
        let all: Vec<_> = facts.iter().collect();
        assert_eq!(
            all,
            [
                (2, LeakFact::SocketClosed),
                (9, LeakFact::GeneratorFinished)
            ]
        );
        assert_eq!(facts.get(9), Some(LeakFact::GeneratorFinished));
        assert_eq!(facts.get(5), None);
    }

    #[test]
    fn saved_facts_come_back_and_forged_ones_do_not() {
        let facts = LeakFacts::new(vec![(1, 1), (4, 6)]);
        let mut saved = SavedDetails::default();
        facts.save_into(&mut saved);
        assert_eq!(LeakFacts::take_saved(&mut saved.clone()), Some(facts));
        saved.u32s[0] = vec![4u32, 1].into();
        assert_eq!(LeakFacts::take_saved(&mut saved), None);
    }
}
