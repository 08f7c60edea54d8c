//! `heapgraph types`: objgraph's `most_common_types`, offline, with sizes.

use crate::{format_bytes, format_count, Align, Table};
use heapgraph_analysis::Histogram;
use serde::Serialize;

#[derive(Serialize)]
pub struct TypesReport<'a> {
    pub file: String,
    /// Rows shown (the first `top` of the sorted histogram).
    pub shown: usize,
    #[serde(flatten)]
    pub histogram: &'a Histogram,
}

impl<'a> TypesReport<'a> {
    /// The first `top` rows of `histogram` (already sorted); `top == 0` shows all.
    pub fn new(file: String, histogram: &'a Histogram, top: usize) -> TypesReport<'a> {
        let shown = if top == 0 {
            histogram.rows.len()
        } else {
            top.min(histogram.rows.len())
        };
        TypesReport {
            file,
            shown,
            histogram,
        }
    }

    /// JSON carries only the rows shown.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("report serializes");
        if let Some(rows) = value.get_mut("rows").and_then(|r| r.as_array_mut()) {
            rows.truncate(self.shown);
        }
        value
    }

    pub fn render_text(&self) -> String {
        let h = self.histogram;
        let with_retained = h.total_reachable_bytes.is_some();
        let mut columns = vec![
            ("type", Align::Left),
            ("count", Align::Right),
            ("count%", Align::Right),
            ("shallow", Align::Right),
            ("shallow%", Align::Right),
        ];
        if with_retained {
            columns.extend([("retained", Align::Right), ("retained%", Align::Right)]);
        }
        let mut table = Table::new(&columns);
        let percent = |share: f64| format!("{:.1}%", share * 100.0);
        for row in &h.rows[..self.shown] {
            let mut cells = vec![
                row.type_name.clone(),
                format_count(row.count),
                percent(row.count_share),
                format_bytes(row.shallow_bytes),
                percent(row.shallow_share),
            ];
            if let (Some(bytes), Some(share)) = (row.retained_bytes, row.retained_share) {
                cells.extend([format_bytes(bytes), percent(share)]);
            }
            table.row(cells);
        }
        let mut out = table.render();
        let hidden = h.rows.len() - self.shown;
        if hidden > 0 {
            out.push_str(&format!("... {} more types\n", format_count(hidden as u64)));
        }
        out.push_str(&format!(
            "{} objects of {} types, {} shallow",
            format_count(h.total_count),
            format_count(h.rows.len() as u64),
            format_bytes(h.total_shallow_bytes)
        ));
        if let Some(reachable) = h.total_reachable_bytes {
            out.push_str(&format!(
                ", {} reachable from roots",
                format_bytes(reachable)
            ));
        }
        out.push('\n');
        out
    }
}
