//! `heapgraph growth`: per-type deltas between two dumps, and who holds the new objects.

use crate::retainers::RetainersView;
use crate::sites::GroupSites;
use crate::{format_bytes, format_count, Align, Table};
use heapgraph_analysis::{Growth, TypeGrowth};
use serde::Serialize;

/// The new objects of one type and the merged chains that hold them in NEW.
#[derive(Serialize)]
pub struct HeldGrowth {
    pub type_name: String,
    /// Where the new objects were allocated, when the dump records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated: Option<GroupSites>,
    #[serde(flatten)]
    pub retainers: RetainersView,
}

pub struct GrowthReport {
    pub old_file: String,
    pub new_file: String,
    pub growth: Growth,
    /// For the types with the most new objects.
    pub held: Vec<HeldGrowth>,
}

/// The `--json` form: every changed type, the totals, and the chains that hold the new objects.
#[derive(Serialize)]
struct GrowthJson<'a> {
    old_file: &'a str,
    new_file: &'a str,
    types: Vec<TypeGrowthJson<'a>>,
    old_objects: u64,
    new_objects_total: u64,
    held: &'a [HeldGrowth],
}

#[derive(Serialize)]
struct TypeGrowthJson<'a> {
    type_name: &'a str,
    old_count: u64,
    new_count: u64,
    count_delta: i64,
    old_bytes: u64,
    new_bytes: u64,
    bytes_delta: i64,
    new_objects: u64,
    new_objects_bytes: u64,
}

impl<'a> From<&'a TypeGrowth> for TypeGrowthJson<'a> {
    fn from(t: &'a TypeGrowth) -> Self {
        TypeGrowthJson {
            type_name: &t.type_name,
            old_count: t.old_count,
            new_count: t.new_count,
            count_delta: t.count_delta,
            old_bytes: t.old_bytes,
            new_bytes: t.new_bytes,
            bytes_delta: t.bytes_delta,
            new_objects: t.new_objects,
            new_objects_bytes: t.new_objects_bytes,
        }
    }
}

impl Serialize for GrowthReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        GrowthJson {
            old_file: &self.old_file,
            new_file: &self.new_file,
            types: self.growth.types.iter().map(TypeGrowthJson::from).collect(),
            old_objects: self.growth.old_objects,
            new_objects_total: self.growth.new_objects_total,
            held: &self.held,
        }
        .serialize(serializer)
    }
}

impl GrowthReport {
    /// The `top` types by count delta, then a retainer tree per type in `held`.
    pub fn render_text(&self, top: usize) -> String {
        let mut table = Table::new(&[
            ("type", Align::Left),
            ("old", Align::Right),
            ("new", Align::Right),
            ("delta", Align::Right),
            ("bytes delta", Align::Right),
            ("new objects", Align::Right),
        ]);
        for t in self.growth.types.iter().take(top) {
            table.row(vec![
                t.type_name.clone(),
                format_count(t.old_count),
                format_count(t.new_count),
                signed(t.count_delta, format_count),
                signed(t.bytes_delta, format_bytes),
                format_count(t.new_objects),
            ]);
        }
        let mut out = table.render();
        if self.growth.types.len() > top {
            out.push_str(&format!(
                "... {} more types changed\n",
                format_count((self.growth.types.len() - top) as u64)
            ));
        }
        out.push_str(&format!(
            "{} objects in {} are not in {} (same address and type)\n",
            format_count(self.growth.new_objects_total),
            self.new_file,
            self.old_file
        ));
        for h in &self.held {
            let allocated = match &h.allocated {
                Some(sites) => format!("{}\n", sites.block("")),
                None => String::new(),
            };
            out.push_str(&format!(
                "\nWho holds the new {} objects:\n{allocated}{}",
                h.type_name,
                h.retainers.render_text()
            ));
        }
        out
    }
}

/// `+1,234` / `-56 B` / `0`.
fn signed(delta: i64, format: fn(u64) -> String) -> String {
    let magnitude = format(delta.unsigned_abs());
    match delta.signum() {
        1 => format!("+{magnitude}"),
        -1 => format!("-{magnitude}"),
        _ => magnitude,
    }
}

/// The types whose new objects get a retainer tree: the `n` with the most new objects.
pub fn most_new(growth: &Growth, n: usize) -> Vec<&TypeGrowth> {
    let mut types: Vec<&TypeGrowth> = growth.types.iter().filter(|t| t.new_objects > 0).collect();
    types.sort_by(|a, b| {
        b.new_objects
            .cmp(&a.new_objects)
            .then_with(|| a.type_name.cmp(&b.type_name))
    });
    types.truncate(n);
    types
}
