//! `heapgraph types`: objgraph's `most_common_types`, offline, with sizes.

use crate::{format_bytes, format_count, Align, Table};
use heapgraph_analysis::{Histogram, TypeRow};
use serde::Serialize;

pub struct TypesReport<'a> {
    pub file: String,
    /// Rows shown (the first `top` of the sorted histogram).
    pub shown: usize,
    pub histogram: &'a Histogram,
}

/// The `--json` form: the rows shown, and the totals of all (fields in alphabetical order, as
/// scripts have always seen them).
#[derive(Serialize)]
struct TypesJson<'a> {
    file: &'a str,
    rows: Vec<RowJson<'a>>,
    shown: usize,
    total_count: u64,
    total_reachable_bytes: Option<u64>,
    total_shallow_bytes: u64,
}

#[derive(Serialize)]
struct RowJson<'a> {
    count: u64,
    count_share: f64,
    retained_bytes: Option<u64>,
    retained_share: Option<f64>,
    shallow_bytes: u64,
    shallow_share: f64,
    type_id: u32,
    type_name: &'a str,
}

impl<'a> From<&'a TypeRow> for RowJson<'a> {
    fn from(r: &'a TypeRow) -> Self {
        RowJson {
            type_id: r.type_id,
            type_name: &r.type_name,
            count: r.count,
            shallow_bytes: r.shallow_bytes,
            retained_bytes: r.retained_bytes,
            count_share: r.count_share,
            shallow_share: r.shallow_share,
            retained_share: r.retained_share,
        }
    }
}

impl Serialize for TypesReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let h = self.histogram;
        TypesJson {
            file: &self.file,
            shown: self.shown,
            rows: h.rows[..self.shown].iter().map(RowJson::from).collect(),
            total_count: h.total_count,
            total_shallow_bytes: h.total_shallow_bytes,
            total_reachable_bytes: h.total_reachable_bytes,
        }
        .serialize(serializer)
    }
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
