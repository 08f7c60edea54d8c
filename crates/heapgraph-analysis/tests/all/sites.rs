//! Allocation sites against a straightforward computation: a site retains every reachable object that
//! is one of its objects or that one of its objects dominates, found with the brute-force dominators.

use crate::support::{oracle, random_spec, Rng};
use heapgraph_analysis::{
    is_user_frame, Dominators, RetainedSizes, SiteGrouping, SiteTable, UserFrame, HOLDS_SHARE,
};
use heapgraph_graph::{AllocationSitesBuilder, Graph, NodeId, TraceId, TypeId};
use std::collections::{BTreeMap, HashMap};

const FILES: [&str; 4] = [
    "/srv/app/reports.py",
    "/srv/app/models.py",
    "/usr/lib/python3.12/site-packages/sqlalchemy/sql/elements.py",
    "/usr/lib/python3.12/json/decoder.py",
];

/// `graph` with random stacks of 0-3 frames drawn from a few frames over [`FILES`], on some objects.
fn with_random_sites(graph: Graph, rng: &mut Rng) -> Graph {
    let mut b = AllocationSitesBuilder::default();
    let frames: Vec<_> = (0..6)
        .map(|i| {
            b.frame(
                &format!("f{}", i % 3),
                FILES[i % FILES.len()],
                10 + i as u32 % 4,
            )
        })
        .collect();
    let traces: Vec<TraceId> = (0..1 + rng.below(6))
        .map(|_| {
            let stack: Vec<_> = (0..rng.below(4))
                .map(|_| frames[rng.below(frames.len() as u64) as usize])
                .collect();
            b.trace(&stack)
        })
        .collect();
    for node in 0..graph.node_count() as NodeId {
        if rng.chance(70) {
            b.object(node, traces[rng.below(traces.len() as u64) as usize]);
        }
    }
    graph
        .with_allocation_sites(b.finish())
        .expect("sites name graph nodes")
}

/// What identifies a node's site, computed directly from its stack.
fn key(graph: &Graph, node: NodeId, by: SiteGrouping) -> Option<String> {
    let sites = graph.allocation_sites();
    let trace = sites.trace_of(node)?;
    let frames = sites.frames(trace);
    let text = |f: &u32| {
        let f = sites.frame(*f);
        format!("{}:{}:{}", f.function, f.file, f.line)
    };
    Some(match by {
        SiteGrouping::Line => frames.first().map(text).unwrap_or_default(),
        SiteGrouping::File => frames
            .first()
            .map(|&f| sites.frame(f).file.to_string())
            .unwrap_or_default(),
        SiteGrouping::Traceback => format!("{trace}"),
    })
}

fn check(graph: &Graph, by: SiteGrouping, types: Option<&[TypeId]>, context: &str) {
    let dominators = Dominators::compute(graph);
    let retained = RetainedSizes::compute(graph, &dominators);
    let table = SiteTable::compute(graph, &dominators, &retained, by, types);
    let truth = oracle(graph);
    let n = graph.node_count();
    let wanted = |v: usize| types.is_none_or(|t| t.contains(&graph.type_of(v as NodeId)));

    // Expected per key: objects, shallow, retained, and objects per first user frame.
    #[derive(Default, Debug)]
    struct Expected {
        objects: u64,
        shallow: u64,
        retained: u64,
        user: HashMap<String, u64>,
    }
    let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
    let site_key = |v: usize| {
        if wanted(v) {
            key(graph, v as NodeId, by)
        } else {
            None
        }
    };
    let sites = graph.allocation_sites();
    for v in 0..n {
        let Some(k) = site_key(v) else { continue };
        let e = expected.entry(k.clone()).or_default();
        e.objects += 1;
        e.shallow += graph.shallow_size(v as NodeId);
        let trace = sites.trace_of(v as NodeId).expect("traced");
        let user = sites.frames(trace).iter().find_map(|&f| {
            let frame = sites.frame(f);
            is_user_frame(&frame)
                .then(|| format!("{}:{}:{}", frame.function, frame.file, frame.line))
        });
        if let Some(u) = user {
            *e.user.entry(u).or_default() += 1;
        }
    }
    for w in (0..n).filter(|&w| truth.reachable[w]) {
        let mut keys: Vec<String> = std::iter::once(w)
            .chain(truth.strict_dominators[w].iter().copied())
            .filter_map(site_key)
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            expected.get_mut(&k).expect("a site").retained += graph.shallow_size(w as NodeId);
        }
    }

    assert_eq!(table.sites.len(), expected.len(), "{context}: site count");
    let traced = expected.values().map(|e| e.objects).sum::<u64>();
    assert_eq!(table.objects, traced, "{context}");
    let asked = (0..n).filter(|&v| wanted(v)).count() as u64;
    assert_eq!(table.untraced, asked - traced, "{context}");
    for site in &table.sites {
        let k = key_of_trace(graph, site.trace, by);
        let e = &expected[&k];
        assert_eq!(
            (site.objects, site.shallow, site.retained),
            (e.objects, e.shallow, e.retained),
            "{context}: site {k}"
        );
        let most = e.user.values().copied().max();
        assert_eq!(site.user_frame.map(|u| u.objects), most, "{context}: {k}");
        if let Some(UserFrame { frame, objects }) = site.user_frame {
            let f = sites.frame(frame);
            let text = format!("{}:{}:{}", f.function, f.file, f.line);
            assert_eq!(e.user.get(&text), Some(&objects), "{context}: {k}");
        }
    }
    // What holds what: each outermost object of a site, by the site of its nearest dominator with one.
    let mut held: HashMap<(String, String), (u64, u64)> = HashMap::new();
    for w in (0..n).filter(|&w| truth.reachable[w]) {
        let Some(k) = site_key(w) else { continue };
        if truth.strict_dominators[w]
            .iter()
            .any(|&d| site_key(d).as_ref() == Some(&k))
        {
            continue;
        }
        let mut up = truth.idom[w].flatten();
        while let Some(d) = up {
            if let Some(h) = site_key(d) {
                let pair = held.entry((h, k)).or_default();
                pair.0 += 1;
                pair.1 += truth.retained[w];
                break;
            }
            up = truth.idom[d].flatten();
        }
    }
    for site in &table.sites {
        let k = key_of_trace(graph, site.trace, by);
        let most = held
            .iter()
            .filter(|((h, _), _)| *h == k)
            .map(|(_, &(_, bytes))| bytes)
            .max()
            .filter(|&bytes| bytes as f64 >= HOLDS_SHARE * site.retained as f64);
        // Kept only on sites ranked after the site they hold.
        if let Some(h) = site.holds {
            assert_eq!(Some(h.bytes), most, "{context}: {k} holds");
            let other = key_of_trace(graph, table.sites[h.site].trace, by);
            let pair = held[&(k.clone(), other)];
            assert_eq!(pair.1, h.bytes, "{context}");
            assert_eq!(h.gathers, pair.0 > site.objects, "{context}");
        }
    }
    // Ranked by retained bytes, or the fewer of the site its holding chain ends at.
    let ends: Vec<u64> = (0..table.sites.len())
        .map(|start| {
            let mut at = start;
            for _ in 0..table.sites.len() {
                match table.sites[at].holds {
                    Some(h) if h.site != start => at = h.site,
                    _ => break,
                }
            }
            table.sites[at].retained.min(table.sites[start].retained)
        })
        .collect();
    assert!(
        ends.windows(2).all(|w| w[0] >= w[1]),
        "{context}: ranked by where the memory accumulates: {ends:?}"
    );

    // The same sites by objects for any group of objects, without retained sizes.
    let group: Vec<NodeId> = (0..n as NodeId).filter(|&v| wanted(v as usize)).collect();
    let of = SiteTable::of_objects(graph, group, by);
    assert_eq!((of.objects, of.untraced), (table.objects, table.untraced));
    for site in &of.sites {
        let e = &expected[&key_of_trace(graph, site.trace, by)];
        assert_eq!(
            (site.objects, site.shallow, site.retained),
            (e.objects, e.shallow, 0)
        );
    }
    assert!(of.sites.windows(2).all(|w| w[0].objects >= w[1].objects));
}

/// The key [`key`] gives the objects of `trace`.
fn key_of_trace(graph: &Graph, trace: TraceId, by: SiteGrouping) -> String {
    let sites = graph.allocation_sites();
    let node = sites
        .iter()
        .find(|&(_, t)| t == trace)
        .map(|(n, _)| n)
        .expect("a site's trace is some object's");
    key(graph, node, by).expect("traced")
}

#[test]
fn random_graphs_match_a_straightforward_computation() {
    let groupings = [
        SiteGrouping::Line,
        SiteGrouping::File,
        SiteGrouping::Traceback,
    ];
    for seed in 0..600 {
        let mut rng = Rng::new(seed);
        let spec = random_spec(&mut rng, 24);
        let graph = with_random_sites(spec.build(), &mut rng);
        let by = groupings[seed as usize % 3];
        check(&graph, by, None, &format!("seed {seed}, {by:?}"));
        let one_type = [rng.below(spec.type_count as u64) as TypeId];
        check(
            &graph,
            by,
            Some(&one_type),
            &format!("seed {seed}, {by:?}, one type"),
        );
    }
}

#[test]
fn a_graph_without_sites_has_none() {
    let mut rng = Rng::new(7);
    let graph = random_spec(&mut rng, 20).build();
    let dominators = Dominators::compute(&graph);
    let retained = RetainedSizes::compute(&graph, &dominators);
    let table = SiteTable::compute(&graph, &dominators, &retained, SiteGrouping::Line, None);
    assert!(table.sites.is_empty());
    assert_eq!(table.objects, 0);
    assert_eq!(table.untraced, graph.node_count() as u64);
}
