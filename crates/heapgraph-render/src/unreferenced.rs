//! `heapgraph unreferenced`: objgraph's `get_leaking_objects`, with the three kinds told apart.

use crate::{format_bytes, format_count, format_share, Align, Table};
use heapgraph_analysis::{ObjectGroup, UnreferencedReport};
use serde::Serialize;

#[derive(Serialize)]
pub struct UnreferencedView<'a> {
    pub file: String,
    pub total_bytes: u64,
    #[serde(flatten)]
    pub report: &'a UnreferencedReport,
}

impl UnreferencedView<'_> {
    /// Each group with its `top` largest types.
    pub fn render_text(&self, top: usize) -> String {
        let r = self.report;
        let sections = [
            (
                "Unreferenced, held from outside the heap (C code, extensions, the interpreter, modules)",
                &r.held_from_outside,
            ),
            ("Unreferenced, held by running frames (frames and their locals)", &r.frame_locals),
            (
                "Unreferenced and unreachable: garbage waiting for the collector, or held by something the dump cannot see",
                &r.garbage,
            ),
            ("All unreachable objects (reachable from no root, cycles included)", &r.unreachable),
        ];
        let mut out = String::new();
        for (title, group) in sections {
            out.push_str(&self.section(title, group, top));
        }
        out
    }

    fn section(&self, title: &str, group: &ObjectGroup, top: usize) -> String {
        let mut out = format!(
            "{title}: {} objects, {} ({})\n",
            format_count(group.count),
            format_bytes(group.bytes),
            format_share(group.bytes, self.total_bytes)
        );
        if group.count == 0 {
            out.push('\n');
            return out;
        }
        let mut table = Table::new(&[
            ("  type", Align::Left),
            ("count", Align::Right),
            ("bytes", Align::Right),
        ]);
        for t in group.by_type.iter().take(top) {
            table.row(vec![
                format!("  {}", t.type_name),
                format_count(t.count),
                format_bytes(t.bytes),
            ]);
        }
        out.push_str(&table.render());
        if group.by_type.len() > top {
            out.push_str(&format!(
                "  ... {} more types\n",
                format_count((group.by_type.len() - top) as u64)
            ));
        }
        out.push('\n');
        out
    }
}
