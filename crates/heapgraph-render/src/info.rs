//! `heapgraph info`: what a dump is and how big, in one screen.

use crate::{format_bytes, format_count};
use heapgraph_formats::Dump;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Serialize)]
pub struct InfoReport {
    pub file: String,
    /// The dump's bytes, uncompressed.
    pub file_bytes: u64,
    /// The file's own size, when it is gzip-compressed.
    pub compressed_bytes: Option<u64>,
    pub format: String,
    /// Runtime name and version, e.g. `cpython 3.11.7`.
    pub runtime: Option<String>,
    pub platform: Option<String>,
    pub pid: Option<u64>,
    pub argv: Vec<String>,
    /// Unix time the dump was taken.
    pub taken_at: Option<f64>,
    pub dump_seconds: Option<f64>,
    pub process_rss_bytes: Option<u64>,
    pub objects: u64,
    pub edges: u64,
    /// Types with at least one object.
    pub types: u64,
    pub total_shallow_bytes: u64,
    pub roots: u64,
    pub roots_by_kind: BTreeMap<String, u64>,
    pub dangling_edges: u64,
    pub load_seconds: f64,
    pub graph_bytes: u64,
    /// What the dump's writer said it left out (a Python dump of a build whose layouts its dumper does
    /// not know, for one).
    pub warnings: Vec<String>,
    /// Every heap dump of a file that holds several (an HPROF file of the legacy agent); empty otherwise.
    pub heap_dumps: Vec<HeapDumpInfo>,
    /// Which of `heap_dumps` this report is about, numbered from 1.
    pub heap_dump: Option<u64>,
    /// An Android dump's named heaps (`app`, `zygote`, `image`); empty for other dumps.
    pub heaps: Vec<NamedHeap>,
}

/// One of an Android dump's heaps.
#[derive(Serialize, Deserialize)]
pub struct NamedHeap {
    pub name: String,
    pub objects: u64,
    /// Shallow bytes of its objects.
    pub bytes: u64,
}

/// One heap dump of a file that holds several.
#[derive(Serialize, Deserialize)]
pub struct HeapDumpInfo {
    /// From 1, in file order: what `--heap` takes.
    pub number: u64,
    /// Where its first record starts in the file.
    pub offset: u64,
    /// Bytes of its records.
    pub bytes: u64,
    /// Unix time it was taken.
    pub time: f64,
}

impl InfoReport {
    pub fn new(dump: &Dump) -> InfoReport {
        let g = &dump.graph;
        let meta = |key: &str| dump.meta.get(key);
        let text = |key: &str| meta(key).and_then(Value::as_str).map(str::to_string);
        let mut roots_by_kind = BTreeMap::new();
        for root in g.roots() {
            *roots_by_kind
                .entry(root.kind.as_str().to_string())
                .or_insert(0) += 1;
        }
        let runtime = match (text("implementation"), text("python_version")) {
            (Some(i), Some(v)) => Some(format!("{i} {v}")),
            (None, Some(v)) => Some(format!("python {v}")),
            // Formats without a Python version describe their runtime in one line.
            _ => text("runtime"),
        };
        InfoReport {
            file: dump.path.display().to_string(),
            file_bytes: dump.stats.file_bytes,
            compressed_bytes: meta("compressed_bytes").and_then(Value::as_u64),
            format: dump.format.name().to_string(),
            runtime,
            platform: text("platform"),
            pid: meta("pid").and_then(Value::as_u64),
            argv: strings(meta("argv")),
            taken_at: meta("time").and_then(Value::as_f64),
            dump_seconds: meta("dump_duration_ns")
                .and_then(Value::as_u64)
                .map(|ns| ns as f64 / 1e9),
            process_rss_bytes: meta("rss_bytes").and_then(Value::as_u64),
            objects: g.node_count() as u64,
            edges: g.edge_count() as u64,
            types: types_with_instances(g),
            total_shallow_bytes: (0..g.node_count() as u32)
                .into_par_iter()
                .map(|n| g.shallow_size(n))
                .sum(),
            roots: g.roots().len() as u64,
            roots_by_kind,
            dangling_edges: dump.stats.dangling_edges,
            load_seconds: dump.stats.load_time.as_secs_f64(),
            graph_bytes: g.heap_bytes() as u64,
            warnings: strings(meta("warnings")),
            heap_dumps: meta("heap_dumps")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
            heap_dump: meta("heap_dump").and_then(Value::as_u64),
            heaps: meta("heaps")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
        }
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let mut line = |key: &str, value: String| {
            let _ = writeln!(out, "{key:<11} {value}");
        };
        let size = match self.compressed_bytes {
            Some(compressed) => format!(
                "{} gzipped, {} uncompressed",
                format_bytes(compressed),
                format_bytes(self.file_bytes)
            ),
            None => format_bytes(self.file_bytes),
        };
        line("file", format!("{} ({size})", self.file));
        line("format", self.format.clone());
        if let Some(chosen) = self.heap_dump {
            line(
                "heap dumps",
                format!(
                    "{} in the file; this is #{chosen} (`--heap N` reads another)",
                    self.heap_dumps.len()
                ),
            );
            for d in &self.heap_dumps {
                line(
                    "",
                    format!(
                        "#{} at byte {}: {}, taken {}",
                        d.number,
                        format_count(d.offset),
                        format_bytes(d.bytes),
                        format_unix_time(d.time)
                    ),
                );
            }
        }
        if let Some(runtime) = &self.runtime {
            let mut value = runtime.clone();
            if let Some(platform) = &self.platform {
                let _ = write!(value, " on {platform}");
            }
            if let Some(pid) = self.pid {
                let _ = write!(value, " (pid {pid})");
            }
            line("runtime", value);
        }
        if !self.argv.is_empty() {
            line("command", self.argv.join(" "));
        }
        if let Some(t) = self.taken_at {
            let mut value = format_unix_time(t);
            if let Some(s) = self.dump_seconds {
                let _ = write!(value, ", dump took {s:.2} s");
            }
            if let Some(rss) = self.process_rss_bytes {
                let _ = write!(value, ", process RSS {}", format_bytes(rss));
            }
            line("taken", value);
        }
        line(
            "objects",
            format!(
                "{} of {} types, {} shallow",
                format_count(self.objects),
                format_count(self.types),
                format_bytes(self.total_shallow_bytes)
            ),
        );
        let mut refs = format_count(self.edges);
        if self.dangling_edges > 0 {
            let _ = write!(
                refs,
                " ({} more to objects not in the dump, dropped)",
                format_count(self.dangling_edges)
            );
        }
        line("references", refs);
        if !self.heaps.is_empty() {
            let heaps: Vec<String> = self
                .heaps
                .iter()
                .map(|h| {
                    format!(
                        "{} {} objects, {}",
                        h.name,
                        format_count(h.objects),
                        format_bytes(h.bytes)
                    )
                })
                .collect();
            line("heaps", heaps.join("; "));
        }
        let kinds: Vec<String> = self
            .roots_by_kind
            .iter()
            .map(|(k, n)| format!("{} {k}", format_count(*n)))
            .collect();
        line(
            "roots",
            format!("{} ({})", format_count(self.roots), kinds.join(", ")),
        );
        line(
            "loaded in",
            format!(
                "{:.2} s, graph {} in memory",
                self.load_seconds,
                format_bytes(self.graph_bytes)
            ),
        );
        for warning in &self.warnings {
            line("warning", warning.clone());
        }
        out
    }
}

/// The strings of a META array (`argv`, `warnings`); none when the key is missing.
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Types with at least one object in the dump (a JVM's class table also lists classes with no instances).
fn types_with_instances(g: &heapgraph_graph::Graph) -> u64 {
    let mut used = vec![false; g.type_count()];
    for n in 0..g.node_count() as heapgraph_graph::NodeId {
        used[g.type_of(n) as usize] = true;
    }
    used.iter().filter(|&&u| u).count() as u64
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`, without a date library (civil-from-days).
fn format_unix_time(secs: f64) -> String {
    let secs = secs.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_unix_time;

    #[test]
    fn formats_unix_time() {
        assert_eq!(format_unix_time(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_unix_time(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_unix_time(1_795_467_723.5), "2026-11-23 21:02:03 UTC");
    }
}
