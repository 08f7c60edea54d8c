//! `heapgraph retainers` (and the "who holds the growth" part of `heapgraph growth`): a
//! [`RetainerTree`] as text, JSON and a Graphviz drawing.

use crate::dot::{DotGraph, NodeStyle};
use crate::object::{steps_text, Chain, ChainStep, ObjectRef};
use crate::sites::GroupSites;
use crate::{format_bytes, format_count};
use heapgraph_analysis::{Branch, Folded, Held, MergedStep, RetainerTree};
use heapgraph_graph::{EdgeKind, Graph, NodeId, TypeId};
use serde::Serialize;

/// `heapgraph retainers DUMP TYPE`: why the instances of a type are alive.
#[derive(Serialize)]
pub struct RetainersReport {
    pub file: String,
    /// The type as the user named it, and the types that name matched.
    pub query: String,
    pub types: Vec<String>,
    /// Where the instances were allocated, when the dump records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated: Option<GroupSites>,
    #[serde(flatten)]
    pub tree: RetainersView,
}

impl RetainersReport {
    /// The report on `targets`, the instances of `types` that `query` named, and their merged chains.
    pub fn new(
        file: String,
        query: String,
        graph: &Graph,
        types: &[TypeId],
        targets: &[NodeId],
        tree: &RetainerTree,
    ) -> RetainersReport {
        RetainersReport {
            file,
            query,
            types: types.iter().map(|&t| graph.type_name(t)).collect(),
            allocated: GroupSites::of(graph, targets.iter().copied()),
            tree: RetainersView::new(graph, tree),
        }
    }

    pub fn render_text(&self) -> String {
        let allocated = match &self.allocated {
            Some(sites) => format!("{}\n", sites.block("")),
            None => String::new(),
        };
        format!(
            "{}: {} retaining {} (weak references not followed)\n\n{allocated}{}",
            self.types.join(", "),
            instances(self.tree.instances),
            format_bytes(self.tree.retained_bytes),
            self.tree.render_text()
        )
    }
}

/// A merged tree of chains from the roots to a set of objects.
#[derive(Serialize)]
pub struct RetainersView {
    /// Objects the tree explains.
    pub instances: u64,
    /// Bytes they retain, each counted once.
    pub retained_bytes: u64,
    /// Objects no root reaches, and their shallow bytes.
    pub unreachable: u64,
    pub unreachable_bytes: u64,
    /// One branch per root, most instances first.
    pub branches: Vec<BranchView>,
    /// Roots left out by `--top`.
    pub folded: Option<FoldedView>,
}

/// What `--top` and `--max-depth` left out at one place of the tree.
#[derive(Serialize)]
pub struct FoldedView {
    /// Branches and held groups left out.
    pub groups: u64,
    /// Instances reached through them, and the bytes those retain.
    pub targets: u64,
    pub retained: u64,
}

impl From<&Folded> for FoldedView {
    fn from(f: &Folded) -> Self {
        FoldedView {
            groups: f.groups,
            targets: f.targets,
            retained: f.retained,
        }
    }
}

/// A run of objects chains pass through, then where they go next.
#[derive(Serialize)]
pub struct BranchView {
    /// The whole chain from its root to this branch's last object, as one line.
    pub chain: String,
    /// This branch's own objects (the first one's `via` continues the parent branch).
    pub steps: Vec<RunStep>,
    /// Instances reached through this branch, and the bytes they retain.
    pub instances: u64,
    pub retained_bytes: u64,
    /// Instances the last object holds directly, by type and kind of edge.
    pub held: Vec<HeldView>,
    pub children: Vec<BranchView>,
    /// What `--top` and `--max-depth` left out here.
    pub folded: Option<FoldedView>,
}

/// One step of a branch: an object, or several siblings of one type shown by the first of them.
#[derive(Serialize)]
pub struct RunStep {
    /// The object (the first one, when merged); `via` is a pattern (`[i]`) when the edges differ.
    #[serde(flatten)]
    pub step: ChainStep,
    /// How many objects the step stands for.
    pub objects: u64,
}

impl RunStep {
    fn new(graph: &Graph, merged: &MergedStep) -> RunStep {
        let mut step = ChainStep::new(graph, &merged.step);
        if merged.label_varies {
            let kind = merged.step.via.map(|l| l.kind()).unwrap_or(EdgeKind::Plain);
            step.via = Some(edge_pattern(kind).to_string());
        }
        RunStep {
            step,
            objects: merged.objects,
        }
    }

    /// `list 0x7f.. (8.1 KiB)`, or `3,000 × app.Item` for merged objects.
    fn text(&self) -> String {
        if self.objects == 1 {
            self.step.object.text_with_size()
        } else {
            format!(
                "{} × {}",
                format_count(self.objects),
                self.step.object.type_name
            )
        }
    }
}

/// Instances of one type one object holds through one kind of edge.
#[derive(Serialize)]
pub struct HeldView {
    /// The edge (`.cache`, `['k']`), or its pattern when the edges differ (`[i]`, `[…]`, `.…`).
    pub via: String,
    pub type_name: String,
    pub count: u64,
    pub retained_bytes: u64,
    /// One of them.
    pub example: ObjectRef,
}

impl RetainersView {
    pub fn new(graph: &Graph, tree: &RetainerTree) -> RetainersView {
        RetainersView {
            instances: tree.targets,
            retained_bytes: tree.retained,
            unreachable: tree.unreachable,
            unreachable_bytes: tree.unreachable_bytes,
            branches: tree
                .branches
                .iter()
                .map(|b| BranchView::new(graph, b, None))
                .collect(),
            folded: tree.folded.as_ref().map(FoldedView::from),
        }
    }

    /// The tree, one line per branch and held group, with instance counts and retained bytes in front.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "{:>10} {:>10}  chain from a root (shortest, merged where chains pass through the same object)\n",
            "instances", "retained"
        );
        for b in &self.branches {
            b.write_text(&mut out, "", true, true);
        }
        if let Some(f) = &self.folded {
            write_folded(&mut out, f, "");
        }
        if self.unreachable > 0 {
            out.push_str(&format!(
                "{} of them ({}) are reachable from no root: garbage, or held by something the dump cannot see\n",
                format_count(self.unreachable),
                format_bytes(self.unreachable_bytes)
            ));
        }
        out
    }

    /// The tree as a Graphviz drawing, roots at the top.
    pub fn to_dot(&self, title: &str) -> DotGraph {
        let mut dot = DotGraph::new("TB");
        let top = dot.node(
            &[
                title.to_string(),
                format!(
                    "{}, {} retained",
                    instances(self.instances),
                    format_bytes(self.retained_bytes)
                ),
            ],
            NodeStyle::Start,
        );
        for b in &self.branches {
            let id = b.add_to_dot(&mut dot, 0);
            dot.edge(&top, &id, "");
        }
        if let Some(f) = &self.folded {
            let id = dot.node(&[folded_text(f)], NodeStyle::Folded);
            dot.edge(&top, &id, "");
        }
        dot
    }
}

impl BranchView {
    fn new(graph: &Graph, branch: &Branch, parent_chain: Option<&str>) -> BranchView {
        let steps: Vec<RunStep> = branch
            .steps
            .iter()
            .map(|s| RunStep::new(graph, s))
            .collect();
        let chain_steps: Vec<ChainStep> = steps.iter().map(|s| s.step.clone()).collect();
        let chain = match parent_chain {
            Some(parent) => format!("{parent}{}", steps_text(&chain_steps)),
            None => {
                let root = Chain::new(graph, &[branch.steps[0].step]).root;
                format!("{root}{}", steps_text(&chain_steps[1..]))
            }
        };
        BranchView {
            held: branch
                .held
                .iter()
                .map(|h| HeldView::new(graph, h))
                .collect(),
            children: branch
                .children
                .iter()
                .map(|c| BranchView::new(graph, c, Some(&chain)))
                .collect(),
            chain,
            steps,
            instances: branch.targets,
            retained_bytes: branch.retained,
            folded: branch.folded.as_ref().map(FoldedView::from),
        }
    }

    /// The text of this branch's own part: the whole chain on a root, the continuation below one.
    fn own_text(&self, is_root: bool) -> String {
        let own = if is_root {
            self.chain.clone()
        } else {
            self.steps_text(0)
        };
        let last = self.steps.last().expect("a branch has objects");
        format!("{own}  {}", last.text())
    }

    fn write_text(&self, out: &mut String, rest: &str, last: bool, is_root: bool) {
        let (lead, below) = tree_prefixes(rest, last, is_root);
        out.push_str(&format!(
            "{:>10} {:>10}  {lead}{}\n",
            format_count(self.instances),
            format_bytes(self.retained_bytes),
            self.own_text(is_root)
        ));
        // Held groups and onward branches in one list, most instances first.
        let mut items: Vec<(u64, Result<&HeldView, &BranchView>)> = self
            .held
            .iter()
            .map(|h| (h.count, Ok(h)))
            .chain(self.children.iter().map(|c| (c.instances, Err(c))))
            .collect();
        items.sort_by_key(|&(count, _)| std::cmp::Reverse(count));
        let count = items.len() + usize::from(self.folded.is_some());
        for (i, (_, item)) in items.into_iter().enumerate() {
            let last = i + 1 == count;
            match item {
                Ok(h) => {
                    let (lead, _) = tree_prefixes(&below, last, false);
                    out.push_str(&format!(
                        "{:>10} {:>10}  {lead}{}\n",
                        format_count(h.count),
                        format_bytes(h.retained_bytes),
                        h.text()
                    ));
                }
                Err(c) => c.write_text(out, &below, last, false),
            }
        }
        if let Some(f) = &self.folded {
            let (lead, _) = tree_prefixes(&below, true, false);
            write_folded(out, f, &lead);
        }
    }

    /// The chain text of this branch's steps from `from` on, without a leading space.
    fn steps_text(&self, from: usize) -> String {
        let steps: Vec<ChainStep> = self.steps[from..].iter().map(|s| s.step.clone()).collect();
        steps_text(&steps).trim_start().to_string()
    }

    /// Adds this branch's node, its held groups and its children; returns the node's id.
    fn add_to_dot(&self, dot: &mut DotGraph, depth: usize) -> String {
        let last = self.steps.last().expect("a branch has objects");
        let mut lines = Vec::new();
        if depth == 0 {
            lines.push(self.chain.clone());
        } else if self.steps.len() > 1 {
            lines.push(self.steps_text(1));
        }
        lines.push(last.text());
        lines.push(format!(
            "{}, {} retained",
            instances(self.instances),
            format_bytes(self.retained_bytes)
        ));
        let style = if depth == 0 {
            NodeStyle::Root
        } else {
            NodeStyle::Depth(depth as f64 / 8.0)
        };
        let id = dot.node(&lines, style);
        for h in &self.held {
            let hid = dot.node(
                &[
                    h.summary(),
                    format!("{} retained", format_bytes(h.retained_bytes)),
                ],
                NodeStyle::Highlight,
            );
            dot.edge(&id, &hid, &h.via);
        }
        for c in &self.children {
            let cid = c.add_to_dot(dot, depth + 1);
            dot.edge(
                &id,
                &cid,
                c.steps[0].step.via.as_deref().unwrap_or_default(),
            );
        }
        if let Some(f) = &self.folded {
            let fid = dot.node(&[folded_text(f)], NodeStyle::Folded);
            dot.edge(&id, &fid, "");
        }
        id
    }
}

impl HeldView {
    fn new(graph: &Graph, held: &Held) -> HeldView {
        let via = match held.label {
            Some(label) => label.display(graph.strings()).to_string(),
            None => edge_pattern(held.kind).to_string(),
        };
        HeldView {
            via,
            type_name: graph.type_name(held.type_id),
            count: held.count,
            retained_bytes: held.retained,
            example: ObjectRef::new(graph, held.example),
        }
    }

    /// `1,000 × app.Item` or, for one, the object itself.
    fn summary(&self) -> String {
        if self.count == 1 {
            self.example.text_with_size()
        } else {
            format!("{} × {}", format_count(self.count), self.type_name)
        }
    }

    /// `[i] 1,000 × app.Item`, `.cache app.Item 0x7f.. (56 B)`.
    fn text(&self) -> String {
        if self.via.is_empty() {
            self.summary()
        } else {
            format!("{} {}", self.via, self.summary())
        }
    }
}

/// How edges of one kind that differ from object to object print: `[i]`, `[…]`, `.…`.
fn edge_pattern(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Index => "[i]",
        EdgeKind::Key => "[…]",
        EdgeKind::Attribute => ".…",
        EdgeKind::Local => "local …",
        EdgeKind::Internal => "<…>",
        EdgeKind::Plain | EdgeKind::Weak => "",
    }
}

/// `(lead, rest)` for a tree line: what goes before this line's text, and before its children's.
fn tree_prefixes(rest: &str, last: bool, is_root: bool) -> (String, String) {
    if is_root {
        (String::new(), String::new())
    } else if last {
        (format!("{rest}└─ "), format!("{rest}   "))
    } else {
        (format!("{rest}├─ "), format!("{rest}│  "))
    }
}

/// `1 instance`, `3,000 instances`.
fn instances(n: u64) -> String {
    format!(
        "{} {}",
        format_count(n),
        if n == 1 { "instance" } else { "instances" }
    )
}

fn folded_text(f: &FoldedView) -> String {
    format!(
        "… {} more: {}, {}",
        format_count(f.groups),
        instances(f.targets),
        format_bytes(f.retained)
    )
}

fn write_folded(out: &mut String, f: &FoldedView, lead: &str) {
    out.push_str(&format!(
        "{:>10} {:>10}  {lead}{}\n",
        format_count(f.targets),
        format_bytes(f.retained),
        folded_text(f)
    ));
}
