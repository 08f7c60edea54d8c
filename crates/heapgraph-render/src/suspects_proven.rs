//! The proven leaks of `heapgraph suspects`: objects the dump says the program is done with, by type
//! and fact, and the facts met on a suspect's path.

use crate::object::{steps_text, Chain, ObjectRef};
use crate::{format_bytes, format_count};
use heapgraph_analysis::suspects::proven::ProvenGroup;
use heapgraph_analysis::PathStep;
use heapgraph_graph::Graph;
use serde::Serialize;

/// Reachable objects of one type that one fact proves should be gone.
#[derive(Serialize)]
pub struct ProvenView {
    pub fingerprint: String,
    /// What proves it: `file closed`, `generator finished`, `detached DOM node`...
    pub reason: &'static str,
    pub type_name: String,
    pub count: u64,
    pub shallow_bytes: u64,
    /// Bytes the objects retain together.
    pub retained_bytes: u64,
    /// What is held where, in one sentence.
    pub sentence: String,
    /// The instance retaining the most.
    pub example: ObjectRef,
    /// The shortest path from a root to `example`.
    pub path: Chain,
    /// The baseline lists its fingerprint.
    pub known: bool,
    pub commands: Vec<String>,
}

/// A step of a path whose object the dump proves should be gone.
#[derive(Serialize)]
pub struct StepFact {
    /// The step's position in `path.steps`.
    pub step: usize,
    pub reason: &'static str,
}

impl ProvenView {
    /// The views of `groups` in the dump at `file`; those whose fingerprints `known` lists are marked.
    pub fn all(file: &str, graph: &Graph, groups: &[ProvenGroup], known: &[String]) -> Vec<Self> {
        groups
            .iter()
            .map(|g| ProvenView::new(file, graph, g, known.contains(&g.fingerprint)))
            .collect()
    }

    fn new(file: &str, graph: &Graph, g: &ProvenGroup, known: bool) -> ProvenView {
        let path = Chain::new(graph, &g.path);
        let example = ObjectRef::new(graph, g.example);
        let type_name = graph.type_name(g.type_id);
        let at = steps_text(path.steps.get(1..=g.holder).unwrap_or_default());
        let (is, retains, one) = match g.count {
            1 => ("is", "retains", "it"),
            _ => ("are", "retain", "one"),
        };
        let sentence = format!(
            "{} {type_name} ({}) {is} still reachable and {retains} {}; {one} is held by {}{at}.",
            format_count(g.count),
            g.fact.reason(),
            format_bytes(g.retained),
            path.root,
        );
        let commands = vec![
            format!("heapgraph path {file} {}", example.address),
            format!("heapgraph retainers {file} {}", example.address),
        ];
        ProvenView {
            fingerprint: g.fingerprint.clone(),
            reason: g.fact.reason(),
            type_name,
            count: g.count,
            shallow_bytes: g.shallow_bytes,
            retained_bytes: g.retained,
            sentence,
            example,
            path,
            known,
            commands,
        }
    }

    /// The section of the text report listing `views` (nothing when empty).
    pub fn render_section(views: &[ProvenView]) -> String {
        if views.is_empty() {
            return String::new();
        }
        let mut out = String::from(
            "Proven leaks: objects the dump says the program is done with, at any size:\n",
        );
        for v in views {
            let known = if v.known { " (in the baseline)" } else { "" };
            out.push_str(&format!("  {}{known}\n", v.sentence));
            out.push_str(&format!("      {}\n", v.path.root));
            for step in v.path.steps.iter().skip(1) {
                out.push_str(&format!(
                    "        {} {}\n",
                    step.via.as_deref().unwrap_or("->"),
                    step.object.text_with_size()
                ));
            }
            out.push_str(&format!("    Fingerprint: {}\n", v.fingerprint));
            for c in &v.commands {
                out.push_str(&format!("    $ {c}\n"));
            }
        }
        out.push('\n');
        out
    }
}

/// The steps of `path` whose objects the dump proves should be gone.
pub fn facts_on_path(graph: &Graph, path: &[PathStep]) -> Vec<StepFact> {
    let facts = path.iter().enumerate();
    facts
        .filter_map(|(step, s)| {
            let reason = graph.leak_fact(s.node)?.reason();
            Some(StepFact { step, reason })
        })
        .collect()
}
