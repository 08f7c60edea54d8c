//! `heapgraph top`: the objects retaining the most, and how each is reached from a root.

use crate::object::{Chain, ObjectRef};
use crate::sites::{site_of, SiteView};
use crate::{format_bytes, format_share, Align, Table};
use heapgraph_analysis::{Retainer, ShortestPaths};
use heapgraph_graph::Graph;
use serde::Serialize;

#[derive(Serialize)]
pub struct TopRow {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub retained_bytes: u64,
    /// `retained_bytes` as a share of everything reachable from the roots.
    pub share: f64,
    /// Where it was allocated, when the dump records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated: Option<SiteView>,
    /// The shortest chain of references from a root.
    pub path: Option<Chain>,
}

#[derive(Serialize)]
pub struct TopReport {
    pub file: String,
    pub reachable_bytes: u64,
    pub rows: Vec<TopRow>,
}

impl TopReport {
    /// The report of `retainers` (as [`heapgraph_analysis::top_retainers`] lists them) out of
    /// `reachable_bytes`, each with its chain from `paths`.
    pub fn new(
        file: String,
        graph: &Graph,
        retainers: &[Retainer],
        reachable_bytes: u64,
        paths: &ShortestPaths,
    ) -> TopReport {
        let total = reachable_bytes;
        let rows = retainers
            .iter()
            .map(|r| TopRow {
                object: ObjectRef::new(graph, r.node),
                retained_bytes: r.retained,
                share: if total == 0 {
                    0.0
                } else {
                    r.retained as f64 / total as f64
                },
                allocated: site_of(graph, r.node),
                path: paths.path_to(graph, r.node).map(|p| Chain::new(graph, &p)),
            })
            .collect();
        TopReport {
            file,
            reachable_bytes: total,
            rows,
        }
    }

    pub fn render_text(&self) -> String {
        // The allocation site column only on dumps that record stacks.
        let sites = self.rows.iter().any(|r| r.allocated.is_some());
        let mut columns = vec![
            ("retained", Align::Right),
            ("share", Align::Right),
            ("shallow", Align::Right),
            ("object", Align::Left),
        ];
        if sites {
            columns.push(("allocated at", Align::Left));
        }
        columns.push(("shortest path from a root", Align::Left));
        let mut table = Table::new(&columns);
        for row in &self.rows {
            let mut cells = vec![
                format_bytes(row.retained_bytes),
                format_share(row.retained_bytes, self.reachable_bytes),
                format_bytes(row.object.shallow_bytes),
                row.object.text(),
            ];
            if sites {
                cells.push(
                    row.allocated
                        .as_ref()
                        .map(SiteView::cell)
                        .unwrap_or_default(),
                );
            }
            cells.push(row.path.as_ref().map(Chain::text).unwrap_or_default());
            table.row(cells);
        }
        let mut out = table.render();
        out.push_str(&format!(
            "{} reachable from roots\n",
            format_bytes(self.reachable_bytes)
        ));
        out
    }
}
