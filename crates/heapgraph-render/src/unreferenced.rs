//! `heapgraph unreferenced`: objgraph's `get_leaking_objects`, with the three kinds told apart.

use crate::{format_bytes, format_count, format_share, Align, Table};
use heapgraph_analysis::{ObjectGroup, TypeCount, UnreferencedReport};
use serde::Serialize;

pub struct UnreferencedView<'a> {
    pub file: String,
    pub total_bytes: u64,
    pub report: &'a UnreferencedReport,
}

/// The `--json` form: each group's tally, without its objects.
#[derive(Serialize)]
struct UnreferencedJson<'a> {
    file: &'a str,
    total_bytes: u64,
    held_from_outside: GroupJson<'a>,
    frame_locals: GroupJson<'a>,
    garbage: GroupJson<'a>,
    unreachable: GroupJson<'a>,
}

#[derive(Serialize)]
struct GroupJson<'a> {
    count: u64,
    bytes: u64,
    share: f64,
    by_type: Vec<TypeCountJson<'a>>,
}

#[derive(Serialize)]
struct TypeCountJson<'a> {
    type_id: u32,
    type_name: &'a str,
    count: u64,
    bytes: u64,
}

impl<'a> From<&'a ObjectGroup> for GroupJson<'a> {
    fn from(g: &'a ObjectGroup) -> Self {
        let by_type = |t: &'a TypeCount| TypeCountJson {
            type_id: t.type_id,
            type_name: &t.type_name,
            count: t.count,
            bytes: t.bytes,
        };
        GroupJson {
            count: g.count,
            bytes: g.bytes,
            share: g.share,
            by_type: g.by_type.iter().map(by_type).collect(),
        }
    }
}

impl Serialize for UnreferencedView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.report;
        UnreferencedJson {
            file: &self.file,
            total_bytes: self.total_bytes,
            held_from_outside: (&r.held_from_outside).into(),
            frame_locals: (&r.frame_locals).into(),
            garbage: (&r.garbage).into(),
            unreachable: (&r.unreachable).into(),
        }
        .serialize(serializer)
    }
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
