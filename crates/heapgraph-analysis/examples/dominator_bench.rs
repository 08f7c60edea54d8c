//! Benchmark: our dominators and retained sizes against petgraph's `simple_fast` on a synthetic,
//! heap-like graph.
//!
//! ```text
//! cargo run --release -p heapgraph-analysis --example dominator_bench -- --nodes 10000000
//!     [--petgraph-nodes N]   petgraph on its own graph of N nodes (default: min(nodes, 1M); 0 = skip)
//!     [--seed S]
//! cargo run --release -p heapgraph-analysis --example dominator_bench -- --dump FILE [--petgraph-nodes 0]
//!     the graph of a real heap dump instead; petgraph runs on that same graph unless told 0
//! ```
//!
//! The graph imitates a heap in allocation (= address) order: every live object has an allocating
//! parent, mostly a recent object; 0.5% are roots; 1/2000 of objects start a linked list of 1k-128k
//! nodes whose elements only their predecessor holds (a true dominance chain, with back pointers); extra
//! references have a Pareto out-degree (mean ~1.2) and go 60% to a few hot "hub" objects (types,
//! interned strings), 25% to neighbours, 15% anywhere; 2% of references are weak; 2% of objects are
//! garbage that nothing live references (they may reference anything, each other included).
//!
//! Peak memory per phase is read from `VmHWM` after resetting it (`/proc/self/clear_refs`), so run
//! under `/usr/bin/time -v` for the whole-process figure.

use heapgraph_analysis::{analyze, Dominators, Idom, RetainedSizes, TypeRetained};
use heapgraph_graph::{
    Addresses, EdgeKind, EdgeLabel, EdgeLabels, Graph, GraphParts, NoDetails, NodeId, NodeTypes,
    Root, RootKind, ShallowSizes, StringInterner, TypeInfo,
};
use petgraph::algo::dominators::simple_fast;
use petgraph::graph::{DiGraph, NodeIndex};
use std::time::Instant;

fn main() {
    let mut nodes = 10_000_000usize;
    let mut petgraph_nodes = None;
    let mut seed = 42u64;
    let mut dump = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || -> u64 {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| usage(&format!("{arg} needs a number")))
        };
        if arg == "--dump" {
            dump = Some(args.next().unwrap_or_else(|| usage("--dump needs a file")));
            continue;
        }
        match arg.as_str() {
            "--nodes" => nodes = value() as usize,
            "--petgraph-nodes" => petgraph_nodes = Some(value() as usize),
            "--seed" => seed = value(),
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    let from_dump = dump.is_some();
    let graph = match dump {
        Some(path) => timed("load dump", || load_dump(&path)),
        None => timed("generate graph", || generate(nodes, seed)),
    };
    let nodes = graph.node_count();
    let petgraph_nodes = match petgraph_nodes {
        Some(p) if from_dump && p != 0 && p != nodes => usage(
            "with --dump, petgraph runs on the dump's own graph: omit --petgraph-nodes or give 0",
        ),
        Some(p) => p,
        None if from_dump => nodes,
        None => nodes.min(1_000_000),
    };
    describe(&graph);
    let (dom, ours) = run_ours(&graph);
    timed("analyze() (everything, overlapped)", || analyze(&graph));
    if petgraph_nodes == 0 {
        return;
    }
    if petgraph_nodes == nodes {
        run_petgraph(&graph, &dom, ours);
    } else {
        drop(dom);
        drop(graph);
        let small = timed("generate petgraph-sized graph", || {
            generate(petgraph_nodes, seed)
        });
        describe(&small);
        let (dom, ours) = run_ours(&small);
        run_petgraph(&small, &dom, ours);
    }
}

fn load_dump(path: &str) -> Graph {
    heapgraph_formats::load(std::path::Path::new(path), &heapgraph_formats::NoProgress)
        .unwrap_or_else(|e| usage(&e.to_string()))
        .graph
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: dominator_bench [--nodes N | --dump FILE] [--petgraph-nodes N] [--seed S]"
    );
    std::process::exit(2)
}

/// Runs our dominators and retained sizes, returning the tree and the seconds both took.
fn run_ours(graph: &Graph) -> (Dominators, f64) {
    let start = Instant::now();
    let dom = timed("ours: dominators", || Dominators::compute(graph));
    let retained = timed("ours: retained sizes (per node + per type)", || {
        let retained = RetainedSizes::compute(graph, &dom);
        TypeRetained::compute(graph, &dom, &retained);
        retained
    });
    let total = start.elapsed().as_secs_f64();
    println!(
        "ours: dominators + retained = {total:.3} s; {} reachable, {} unreachable, {} bytes retained by the super-root",
        dom.reachable_count(),
        dom.unreachable_count(),
        retained.total()
    );
    (dom, total)
}

/// Runs petgraph's `simple_fast` on the same retaining edges and checks it agrees with us.
fn run_petgraph(graph: &Graph, dom: &Dominators, ours: f64) {
    let n = graph.node_count();
    let start = Instant::now();
    let pg = timed("petgraph: build DiGraph", || {
        let mut pg: DiGraph<(), (), u32> = DiGraph::with_capacity(n + 1, graph.edge_count());
        for _ in 0..=n {
            pg.add_node(());
        }
        for u in 0..n as NodeId {
            for (t, label) in graph.out_edges(u) {
                if label.retains() {
                    pg.add_edge(NodeIndex::new(u as usize), NodeIndex::new(t as usize), ());
                }
            }
        }
        for root in graph.roots() {
            pg.add_edge(NodeIndex::new(n), NodeIndex::new(root.node as usize), ());
        }
        pg
    });
    let doms = timed("petgraph: simple_fast", || {
        simple_fast(&pg, NodeIndex::new(n))
    });
    let theirs = start.elapsed().as_secs_f64();
    let disagree = (0..n)
        .filter(|&v| {
            let expected = match dom.idom(v as NodeId) {
                Idom::Unreachable => None,
                Idom::SuperRoot => Some(n),
                Idom::Node(d) => Some(d as usize),
            };
            doms.immediate_dominator(NodeIndex::new(v))
                .map(|d| d.index())
                != expected
        })
        .count();
    println!(
        "petgraph (build + simple_fast) = {theirs:.3} s vs ours (dominators + retained) = {ours:.3} s: {:.1}x; idom disagreements: {disagree}",
        theirs / ours
    );
}

fn describe(graph: &Graph) {
    println!(
        "graph: {} nodes, {} edges, {} roots, {} MB in graph arrays",
        graph.node_count(),
        graph.edge_count(),
        graph.roots().len(),
        graph.heap_bytes() >> 20
    );
}

/// Runs `f`, printing its wall time and the peak resident memory reached meanwhile.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let before = reset_peak_rss();
    let start = Instant::now();
    let result = f();
    let secs = start.elapsed().as_secs_f64();
    match (before, peak_rss_kib()) {
        (Some(before), Some(peak)) => println!(
            "{what}: {secs:.3} s, peak RSS {} MB (+{} MB)",
            peak >> 10,
            peak.saturating_sub(before) >> 10
        ),
        _ => println!("{what}: {secs:.3} s"),
    }
    result
}

/// Resets the kernel's peak-RSS mark to the current RSS (Linux); returns the current RSS in KiB.
fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const LIVE: u8 = 0;
const CHAIN: u8 = 1;
const GARBAGE: u8 = 2;

/// The heap-like graph described in the module docs.
fn generate(n: usize, seed: u64) -> Graph {
    let mut rng = Rng(seed);
    let n = n.max(2);
    let hubs = (n / 1000).max(1) as u64;
    let mut strings = StringInterner::default();
    let module = strings.intern("bench");
    let weak_name = strings.intern("ref");
    let attr_name = strings.intern("value");
    let type_table: Vec<TypeInfo> = (0..1000)
        .map(|t| TypeInfo {
            module,
            name: strings.intern(&format!("T{t}")),
            object: 0x100 + t,
        })
        .collect();

    // Which objects are list elements and which are garbage.
    let mut kind = vec![LIVE; n];
    let mut i = hubs as usize + 1;
    while i < n {
        if rng.below(200_000) == 0 {
            let len = 1000 + (127_000.0 * rng.unit().powi(3)) as usize;
            for k in kind.iter_mut().skip(i + 1).take(len) {
                *k = CHAIN;
            }
            i += len + 1;
        } else {
            if rng.below(50) == 0 {
                kind[i] = GARBAGE;
            }
            i += 1;
        }
    }

    let mut edges: Vec<(u32, u32, EdgeLabel)> = Vec::with_capacity(n * 22 / 10);
    let label = |rng: &mut Rng| match rng.below(100) {
        0..=1 => EdgeLabel::named(EdgeKind::Weak, weak_name),
        2..=40 => EdgeLabel::named(EdgeKind::Attribute, attr_name),
        41..=70 => EdgeLabel::index(rng.below(64)),
        _ => EdgeLabel::PLAIN,
    };
    let strong = |rng: &mut Rng| loop {
        let l = label(rng);
        if l.retains() {
            return l;
        }
    };
    let hub = |rng: &mut Rng| (hubs as f64 * rng.unit().powi(3)) as u64;
    let mut roots = vec![Root {
        node: 0,
        kind: RootKind::Interpreter,
        name: module,
    }];
    for i in 1..n {
        let i64 = i as u64;
        match kind[i] {
            CHAIN => {
                // Only the predecessor holds a list element; it points back and at hubs.
                edges.push(((i - 1) as u32, i as u32, strong(&mut rng)));
                edges.push((i as u32, (i - 1) as u32, strong(&mut rng)));
            }
            LIVE => {
                let parent = if rng.below(100) < 60 {
                    i64.saturating_sub(1 + rng.below(256))
                } else {
                    rng.below(i64)
                };
                if kind[parent as usize] == LIVE {
                    edges.push((parent as u32, i as u32, strong(&mut rng)));
                } else {
                    edges.push((0, i as u32, strong(&mut rng)));
                }
                if rng.below(200) == 0 {
                    let kinds = [RootKind::Module, RootKind::Local, RootKind::External];
                    roots.push(Root {
                        node: i as NodeId,
                        kind: kinds[rng.below(3) as usize],
                        name: module,
                    });
                }
            }
            _ => {}
        }
        // Extra references: Pareto out-degree.
        let extra = ((0.4 / rng.unit().max(1e-9).powf(1.0 / 1.5)) as u64).min(1000);
        for _ in 0..extra {
            let r = rng.below(100);
            let mut t = if kind[i] == CHAIN || r < 60 {
                hub(&mut rng)
            } else if r < 85 {
                (i64 + rng.below(129)).saturating_sub(64).min(n as u64 - 1)
            } else {
                rng.below(n as u64)
            };
            // Live objects never reference garbage, and nothing outside a list references its elements.
            if (kind[i] != GARBAGE && kind[t as usize] == GARBAGE) || kind[t as usize] == CHAIN {
                t = hub(&mut rng);
            }
            edges.push((i as u32, t as u32, label(&mut rng)));
        }
    }

    // Forward CSR by counting sort on the source.
    let mut offsets = vec![0u32; n + 1];
    for &(s, _, _) in &edges {
        offsets[s as usize + 1] += 1;
    }
    for k in 0..n {
        offsets[k + 1] += offsets[k];
    }
    let mut cursor = offsets.clone();
    let mut targets = vec![0 as NodeId; edges.len()];
    let mut labels = vec![EdgeLabel::PLAIN; edges.len()];
    for (s, t, l) in edges {
        let slot = &mut cursor[s as usize];
        targets[*slot as usize] = t;
        labels[*slot as usize] = l;
        *slot += 1;
    }
    drop(cursor);

    let sizes: ShallowSizes = (0..n)
        .map(|_| 16 + 8 * (rng.unit().powi(4) * 64.0) as u64)
        .collect();
    let types = NodeTypes::new(
        (0..n)
            .map(|_| (1000.0 * rng.unit().powi(3)) as u32)
            .collect(),
        type_table.len(),
    );
    Graph::from_parts(GraphParts {
        addresses: Addresses::new(
            &(0..n as u64)
                .map(|k| 0x10_0000 + 32 * k)
                .collect::<Vec<_>>(),
        )
        .expect("ascending addresses"),
        types,
        sizes,
        offsets: offsets.into(),
        targets: targets.into(),
        labels: EdgeLabels::stored(labels.into()),
        roots,
        type_table,
        strings: strings.freeze(),
        details: Box::new(NoDetails),
    })
    .expect("generated graph is consistent")
}
