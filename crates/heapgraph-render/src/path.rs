//! `heapgraph path`: one object's shortest chain of references from a root (objgraph's
//! `find_backref_chain`, offline).

use crate::dot::{DotGraph, NodeStyle};
use crate::object::{Chain, ObjectRef};
use crate::{Align, Table};
use serde::Serialize;

#[derive(Serialize)]
pub struct PathReport {
    pub file: String,
    pub object: ObjectRef,
    /// `None` when no root reaches the object.
    pub chain: Option<Chain>,
}

impl PathReport {
    pub fn render_text(&self) -> String {
        let Some(chain) = &self.chain else {
            return format!(
                "{} is reachable from no root: garbage waiting for the collector, or held by something the \
                 dump cannot see; `heapgraph graph {} {} --backrefs -o refs.svg` draws what references it\n",
                self.object.text_with_size(),
                self.file,
                self.object.address
            );
        };
        let mut table = Table::new(&[("  via", Align::Left), ("object", Align::Left)]);
        for step in &chain.steps {
            table.row(vec![
                format!("  {}", step.via.as_deref().unwrap_or(&chain.root)),
                step.object.text_with_size(),
            ]);
        }
        format!("{}\n\n{}", chain.text(), table.render())
    }

    /// The chain drawn top to bottom: the root first, the object last.
    pub fn to_dot(&self) -> DotGraph {
        let mut dot = DotGraph::new("TB");
        let steps = self.chain.as_ref().map_or(&[][..], |c| &c.steps[..]);
        let mut previous: Option<String> = None;
        for (i, step) in steps.iter().enumerate() {
            let style = if i + 1 == steps.len() {
                NodeStyle::Start
            } else if i == 0 {
                NodeStyle::Root
            } else {
                NodeStyle::Depth(i as f64 / steps.len() as f64)
            };
            let mut lines = vec![step.object.text_with_size()];
            if i == 0 {
                lines.insert(
                    0,
                    self.chain
                        .as_ref()
                        .map(|c| c.root.clone())
                        .unwrap_or_default(),
                );
            }
            let id = dot.node(&lines, style);
            if let Some(p) = &previous {
                dot.edge(p, &id, step.via.as_deref().unwrap_or_default());
            }
            previous = Some(id);
        }
        if steps.is_empty() {
            dot.node(
                &[
                    self.object.text_with_size(),
                    "reachable from no root".into(),
                ],
                NodeStyle::Start,
            );
        }
        dot
    }
}
