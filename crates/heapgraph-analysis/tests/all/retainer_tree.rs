//! Merged retainer trees: a hand-built heap with known chains, and random graphs against the BFS paths
//! and brute-force dominance.

use crate::support::{oracle, random_spec, Rng};
use heapgraph_analysis::{
    Branch, Dominators, Folded, Parent, RetainedSizes, RetainerTree, ShortestPaths, TreeLimits,
};
use heapgraph_graph::{EdgeKind, EdgeLabel, Graph, GraphBuilder, NodeId, RootKind};

fn tree_of(graph: &Graph, targets: &[NodeId], limits: TreeLimits) -> RetainerTree {
    let paths = ShortestPaths::compute(graph);
    let dominators = Dominators::compute(graph);
    let retained = RetainedSizes::compute(graph, &dominators);
    RetainerTree::build(graph, &paths, &dominators, &retained, targets, limits)
}

const ALL: TreeLimits = TreeLimits {
    max_depth: 100,
    top: 100,
};

/// module 0 -.__dict__-> dict 1 -['CACHE']-> list 2 -[0..2]-> Items 3, 4, 5; dict 1 -['one']-> Item 6;
/// Item 7 unreferenced and no root; Item 8 only weakly referenced by the dict; Item 9 a local root.
fn cache_heap() -> (Graph, Vec<NodeId>) {
    let mut b = GraphBuilder::new();
    let module = b.add_type("builtins", "module", 1);
    let dict = b.add_type("builtins", "dict", 2);
    let list = b.add_type("builtins", "list", 3);
    let item = b.add_type("app", "Item", 4);
    let named = |b: &mut GraphBuilder, kind, text: &str| EdgeLabel::named(kind, b.intern(text));
    let a = |i: u64| 0x100 + 16 * i;
    for (i, ty, size) in [
        (0, module, 72),
        (1, dict, 640),
        (2, list, 120),
        (3, item, 10),
        (4, item, 10),
        (5, item, 10),
        (6, item, 10),
        (7, item, 10),
        (8, item, 10),
        (9, item, 10),
    ] {
        b.add_node(a(i), ty, size);
    }
    let dict_edge = named(&mut b, EdgeKind::Attribute, "__dict__");
    let cache = named(&mut b, EdgeKind::Key, "'CACHE'");
    let one = named(&mut b, EdgeKind::Key, "'one'");
    let weak = named(&mut b, EdgeKind::Weak, "referent");
    b.add_edge(a(0), a(1), dict_edge);
    b.add_edge(a(1), a(2), cache);
    for (i, n) in [3, 4, 5].into_iter().enumerate() {
        b.add_edge(a(2), a(n), EdgeLabel::index(i as u64));
    }
    b.add_edge(a(1), a(6), one);
    b.add_edge(a(1), a(8), weak);
    b.add_root(a(0), RootKind::Module, "app");
    b.add_root(a(9), RootKind::Local, "x in f() [MainThread]");
    let graph = b.build().unwrap().graph;
    (graph, (3..=9).collect())
}

fn labels(graph: &Graph, branch: &Branch) -> Vec<String> {
    branch
        .steps
        .iter()
        .map(|s| {
            s.step
                .via
                .map_or(String::new(), |l| l.display(graph.strings()).to_string())
        })
        .collect()
}

#[test]
fn chains_merge_by_object_and_ends_group_by_type_and_edge_kind() {
    let (graph, targets) = cache_heap();
    let tree = tree_of(&graph, &targets, ALL);
    assert_eq!(
        (tree.targets, tree.unreachable, tree.unreachable_bytes),
        (7, 2, 20)
    );
    assert_eq!(tree.retained, 50, "five reachable items of 10 bytes each");
    assert_eq!(tree.branches.len(), 2);
    assert_eq!(tree.folded, None);

    let module = &tree.branches[0];
    assert_eq!(
        labels(&graph, module),
        ["", ".__dict__"],
        "one run: module, its dict"
    );
    assert_eq!((module.targets, module.retained), (4, 40));
    assert_eq!(module.held.len(), 1);
    let one = &module.held[0];
    assert_eq!((one.count, one.kind), (1, EdgeKind::Key));
    assert_eq!(
        one.label.unwrap().display(graph.strings()).to_string(),
        "['one']"
    );
    assert_eq!(module.children.len(), 1);
    let list = &module.children[0];
    assert_eq!(labels(&graph, list), ["['CACHE']"]);
    assert_eq!(list.targets, 3);
    assert_eq!(list.held.len(), 1);
    let items = &list.held[0];
    assert_eq!(
        (items.count, items.retained, items.kind, items.label),
        (3, 30, EdgeKind::Index, None)
    );
    assert_eq!(items.example, 3);

    let local = &tree.branches[1];
    assert_eq!(local.steps.len(), 1);
    assert_eq!(local.steps[0].step.node, 9);
    assert_eq!((local.targets, local.held.len()), (1, 0));
}

#[test]
fn limits_fold_what_they_leave_out() {
    let (graph, targets) = cache_heap();
    let top1 = tree_of(
        &graph,
        &targets,
        TreeLimits {
            max_depth: 100,
            top: 1,
        },
    );
    assert_eq!(top1.branches.len(), 1);
    assert_eq!(
        top1.folded,
        Some(Folded {
            groups: 1,
            targets: 1,
            retained: 10
        })
    );
    let shallow = tree_of(
        &graph,
        &targets,
        TreeLimits {
            max_depth: 1,
            top: 100,
        },
    );
    let module = &shallow.branches[0];
    assert_eq!(module.steps.len(), 2);
    assert!(module.children.is_empty() && module.held.is_empty());
    assert_eq!(
        module.folded,
        Some(Folded {
            groups: 2,
            targets: 4,
            retained: 40
        })
    );
}

/// The BFS parent of `node`, which must have one.
fn parent_of(graph: &Graph, paths: &ShortestPaths, node: NodeId) -> NodeId {
    match paths.parent(graph, node) {
        Parent::Node(p, _) => p,
        other => panic!("{node} has no parent: {other:?}"),
    }
}

/// Checks one branch against the BFS paths (each step's example is reached from an object of the type
/// of the step before, through an edge of the kind shown); returns the targets it accounts for.
fn check_branch(
    graph: &Graph,
    paths: &ShortestPaths,
    is_target: &[bool],
    above: Option<NodeId>,
    branch: &Branch,
) -> u64 {
    let mut above = above;
    for s in &branch.steps {
        let node = s.step.node;
        match above {
            None => assert_eq!(
                paths.parent(graph, node),
                Parent::SuperRoot,
                "a branch starts at a root"
            ),
            Some(a) => {
                let p = parent_of(graph, paths, node);
                assert_eq!(graph.type_of(p), graph.type_of(a));
                assert!(s.objects > 1 || !s.label_varies, "one object has one edge");
                if s.objects == 1 {
                    assert_eq!(Some(s.step), paths.path_to(graph, node).unwrap().pop());
                }
            }
        }
        above = Some(node);
    }
    let last = above.unwrap();
    let mut counted = 0;
    for held in &branch.held {
        assert_eq!(graph.type_of(held.example), held.type_id);
        assert_eq!(
            graph.type_of(parent_of(graph, paths, held.example)),
            graph.type_of(last)
        );
        counted += held.count;
    }
    for child in &branch.children {
        counted += check_branch(graph, paths, is_target, Some(last), child);
    }
    // The last step's own objects may be targets too (a target holding targets).
    let own = branch.targets - counted;
    assert!(own <= branch.steps.last().unwrap().objects);
    assert!(own == 0 || is_target[last as usize] || branch.steps.last().unwrap().objects > 1);
    branch.targets
}

#[test]
fn random_trees_account_for_every_target_once() {
    for seed in 0..300 {
        let mut rng = Rng::new(7_000_000 + seed);
        let graph = random_spec(&mut rng, 40).build();
        let targets: Vec<NodeId> = (0..graph.node_count() as NodeId)
            .filter(|&n| graph.type_of(n) == 0)
            .collect();
        let mut is_target = vec![false; graph.node_count()];
        for &t in &targets {
            is_target[t as usize] = true;
        }
        let tree = tree_of(&graph, &targets, ALL);
        let paths = ShortestPaths::compute(&graph);
        let reached: u64 = tree
            .branches
            .iter()
            .map(|b| check_branch(&graph, &paths, &is_target, None, b))
            .sum();
        assert_eq!(
            reached + tree.unreachable,
            targets.len() as u64,
            "seed {seed}"
        );

        // Retained: each reachable target not strictly dominated by another target, counted once.
        let o = oracle(&graph);
        let expected: u64 = targets
            .iter()
            .filter(|&&t| o.reachable[t as usize])
            .filter(|&&t| {
                !o.strict_dominators[t as usize]
                    .iter()
                    .any(|&d| is_target[d])
            })
            .map(|&t| o.retained[t as usize])
            .sum();
        assert_eq!(tree.retained, expected, "seed {seed}");
    }
}

#[test]
fn siblings_of_one_type_under_one_kind_of_edge_are_one_step() {
    // module 0 -.__dict__-> dict 1 -['a'|'b'|'c']-> lists 2, 3, 4 -[0]-> Items 5, 6, 7.
    let mut b = GraphBuilder::new();
    let (module, dict) = (
        b.add_type("builtins", "module", 1),
        b.add_type("builtins", "dict", 2),
    );
    let (list, item) = (
        b.add_type("builtins", "list", 3),
        b.add_type("app", "Item", 4),
    );
    let a = |i: u64| 0x100 + 16 * i;
    for (i, ty) in [
        (0, module),
        (1, dict),
        (2, list),
        (3, list),
        (4, list),
        (5, item),
        (6, item),
        (7, item),
    ] {
        b.add_node(a(i), ty, 10);
    }
    let attr = EdgeLabel::named(EdgeKind::Attribute, b.intern("__dict__"));
    b.add_edge(a(0), a(1), attr);
    for (n, key) in [(2, "'a'"), (3, "'b'"), (4, "'c'")] {
        let label = EdgeLabel::named(EdgeKind::Key, b.intern(key));
        b.add_edge(a(1), a(n), label);
        b.add_edge(a(n), a(n + 3), EdgeLabel::index(0));
    }
    b.add_root(a(0), RootKind::Module, "app");
    let graph = b.build().unwrap().graph;
    let tree = tree_of(&graph, &[5, 6, 7], ALL);
    let root = &tree.branches[0];
    let objects: Vec<(u64, bool)> = root
        .steps
        .iter()
        .map(|s| (s.objects, s.label_varies))
        .collect();
    assert_eq!(
        objects,
        [(1, false), (1, false), (3, true)],
        "module, its dict, three lists as one"
    );
    assert_eq!(graph.type_of(root.steps[2].step.node), list);
    assert!(root.children.is_empty());
    let held = &root.held[0];
    assert_eq!(
        (held.count, held.label),
        (3, Some(EdgeLabel::index(0))),
        "all three at [0]"
    );
}
