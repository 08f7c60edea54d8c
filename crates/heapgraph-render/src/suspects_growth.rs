//! `heapgraph suspects OLD NEW [NEWER...]`: what grew in every interval, biggest growth first.

use crate::object::{steps_text, Chain, ObjectRef};
use crate::{format_bytes, format_count};
use heapgraph_analysis::suspects::growth::{Grew, GrowthSuspect, Totals};
use heapgraph_graph::Graph;
use serde::Serialize;

/// The growth suspects of several dumps of one process, split into new ones and those a baseline knows.
#[derive(Serialize)]
pub struct GrowthSuspectsReport {
    /// The dumps, oldest first; the paths and addresses shown are the last one's.
    pub files: Vec<String>,
    /// A path grows when its objects or their references grew by at least this much in every interval.
    pub min_growth: u64,
    /// Most bytes added in the last interval first.
    pub suspects: Vec<GrowthSuspectView>,
    /// Suspects whose fingerprint the baseline lists (never hidden, only set apart).
    pub known: Vec<GrowthSuspectView>,
    /// Which sizes are exact and which are estimates.
    pub sizes: Sizes,
}

#[derive(Serialize)]
pub struct Sizes {
    pub exact: &'static str,
    pub estimate: &'static str,
}

const SIZES: Sizes = Sizes {
    exact: "counts, references and shallow bytes, per dump",
    estimate:
        "bytes below a path: the shallow sizes of the objects whose shortest path from a root \
               runs through it, for what it keeps alive",
};

/// One growth suspect as reports show it.
#[derive(Serialize)]
pub struct GrowthSuspectView {
    pub fingerprint: String,
    /// What grew, by how much, in one sentence.
    pub sentence: String,
    /// `objects`, `references` or `objects and references`: what grew in every interval.
    pub grew: &'static str,
    /// The objects or references (see `grew`) per dump, oldest first (exact): of the path's objects, or
    /// of the collection internals they own (`internal`).
    pub measure: Vec<u64>,
    /// The type of the collection internals that grew (a V8 `Map`'s table), if not the objects at the
    /// path themselves.
    pub internal: Option<String>,
    /// One object of the path in the last dump.
    pub object: ObjectRef,
    /// The shortest path from a root to it, in the last dump.
    pub path: Chain,
    /// The path's totals in each dump, oldest first.
    pub per_dump: Vec<DumpTotals>,
    /// Bytes below the path the last interval added (an estimate; negative: freed).
    pub bytes_added: i64,
    /// Types below the path that grew in the last interval: the nearest first, then most bytes added.
    pub types: Vec<TypeGrowthView>,
    /// heapgraph commands that dig further.
    pub commands: Vec<String>,
}

/// The objects of one path in one dump.
#[derive(Serialize)]
pub struct DumpTotals {
    /// Objects at the path (exact).
    pub count: u64,
    /// Their shallow bytes (exact).
    pub shallow_bytes: u64,
    /// Their retaining references (exact).
    pub references: u64,
    /// Objects at the path and below it (exact).
    pub objects_below: u64,
    /// Their shallow bytes (an estimate of what the path keeps alive).
    pub bytes_below: u64,
}

#[derive(Serialize)]
pub struct TypeGrowthView {
    pub type_name: String,
    /// References from the path's objects to the nearest object of this type.
    pub depth: u32,
    /// Per dump, oldest first (exact).
    pub counts: Vec<u64>,
    /// Per dump, oldest first (exact).
    pub shallow_bytes: Vec<u64>,
}

impl GrowthSuspectsReport {
    /// The report of `found`, read off `graph`, the last of the dumps `files`; suspects whose
    /// fingerprints `known` lists are set apart.
    pub fn new(
        files: Vec<String>,
        graph: &Graph,
        found: &[GrowthSuspect],
        min_growth: u64,
        known: &[String],
    ) -> GrowthSuspectsReport {
        let mut report = GrowthSuspectsReport {
            min_growth,
            suspects: Vec::new(),
            known: Vec::new(),
            sizes: SIZES,
            files,
        };
        for s in found {
            let view = GrowthSuspectView::new(&report.files, graph, s);
            match known.contains(&s.fingerprint) {
                true => report.known.push(view),
                false => report.suspects.push(view),
            }
        }
        report
    }

    /// The fingerprints of every suspect, for a baseline file.
    pub fn fingerprints(&self) -> Vec<&str> {
        let all = self.suspects.iter().chain(&self.known);
        all.map(|s| s.fingerprint.as_str()).collect()
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.suspects.is_empty() {
            let when = match self.files.len() {
                2 => "between the two dumps".to_string(),
                n => format!("in every one of the {} intervals", n - 1),
            };
            out.push_str(&format!(
                "No growth suspects: no path from the roots gained {} or more objects or references \
                 {when}.\n",
                self.min_growth
            ));
        }
        let sections = [
            ("Growth suspect", &self.suspects),
            ("Known growth suspect (in the baseline)", &self.known),
        ];
        for (title, list) in sections {
            for (i, s) in list.iter().enumerate() {
                out.push_str(&s.render_text(&format!("{title} {} of {}", i + 1, list.len())));
            }
        }
        if !self.suspects.is_empty() || !self.known.is_empty() {
            out.push_str(&format!(
                "Exact: {}. Estimated: {}.\n",
                self.sizes.exact, self.sizes.estimate
            ));
        }
        out
    }
}

impl GrowthSuspectView {
    fn new(files: &[String], graph: &Graph, s: &GrowthSuspect) -> GrowthSuspectView {
        let per_dump = s.per_dump.iter().map(DumpTotals::from).collect();
        let types = s
            .types
            .iter()
            .map(|t| TypeGrowthView {
                type_name: t.type_name.clone(),
                depth: t.depth,
                counts: t.per_dump.iter().map(|p| p.0).collect(),
                shallow_bytes: t.per_dump.iter().map(|p| p.1).collect(),
            })
            .collect();
        let mut view = GrowthSuspectView {
            fingerprint: s.fingerprint.clone(),
            sentence: String::new(),
            grew: match s.grew {
                Grew::Both => "objects and references",
                Grew::Objects => "objects",
                Grew::References => "references",
            },
            measure: s.measure.clone(),
            internal: s.internal.clone(),
            object: ObjectRef::new(graph, s.node),
            path: Chain::new(graph, &s.path),
            per_dump,
            bytes_added: s.bytes_added().clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            types,
            commands: Vec::new(),
        };
        view.sentence = view.sentence();
        view.commands = view.commands(files);
        view
    }

    /// `list at module __main__.__dict__['CACHE'].clauses grew in every interval: its references
    /// 3,000 -> 6,000 -> 9,000; below it 9,001 -> ... objects, 600 KiB -> ... (+600 KiB in the last
    /// interval); the last interval added 3,000 BindParameter, 3,000 str below it.`
    fn sentence(&self) -> String {
        let what = match (self.grew, &self.internal) {
            ("references", None) => "its references".to_string(),
            (_, None) => "its objects".to_string(),
            ("references", Some(t)) => format!("the references of its internal {t}"),
            (_, Some(t)) => format!("its internal {t} objects"),
        };
        let measure = self.measure.iter().map(|&m| format_count(m));
        let measure = measure.collect::<Vec<_>>().join(" -> ");
        let at = steps_text(self.path.steps.get(1..).unwrap_or_default());
        let mut out = format!(
            "{} at {}{at} grew in every interval: {what} {}; below it {} objects, {} ({}{} in the \
             last interval)",
            self.object.type_name,
            self.path.root,
            measure,
            series(&self.per_dump, |t| format_count(t.objects_below)),
            series(&self.per_dump, |t| format_bytes(t.bytes_below)),
            if self.bytes_added < 0 { "-" } else { "+" },
            format_bytes(self.bytes_added.unsigned_abs()),
        );
        let added: Vec<String> = self
            .types
            .iter()
            .take(3)
            .filter_map(|t| match t.counts.as_slice() {
                [.., a, b] if b > a => Some(format!("{} {}", format_count(b - a), t.type_name)),
                _ => None,
            })
            .collect();
        if !added.is_empty() {
            out.push_str(&format!(
                "; the last interval added {} below it",
                added.join(", ")
            ));
        }
        out.push('.');
        out
    }

    fn commands(&self, files: &[String]) -> Vec<String> {
        let [.., before, last] = files else {
            return Vec::new();
        };
        let mut commands = vec![format!("heapgraph path {last} {}", self.object.address)];
        if let Some(t) = self
            .types
            .iter()
            .find(|t| t.type_name != self.object.type_name)
        {
            commands.push(format!("heapgraph retainers {last} '{}'", t.type_name));
        }
        commands.push(format!("heapgraph growth {before} {last}"));
        commands
    }

    fn render_text(&self, title: &str) -> String {
        let mut out = format!("{title}: {}\n", self.sentence);
        out.push_str("  Path from a root, in the last dump:\n");
        out.push_str(&format!("      {}\n", self.path.root));
        for step in self.path.steps.iter().skip(1) {
            out.push_str(&format!(
                "       {} {}\n",
                step.via.as_deref().unwrap_or("->"),
                step.object.text_with_size()
            ));
        }
        if !self.types.is_empty() {
            out.push_str("  Grew below it, per dump (count; shallow bytes):\n");
            for t in &self.types {
                let counts = t.counts.iter().map(|&c| format_count(c));
                let bytes = t.shallow_bytes.iter().map(|&b| format_bytes(b));
                out.push_str(&format!(
                    "    {}; {}  {}\n",
                    counts.collect::<Vec<_>>().join(" -> "),
                    bytes.collect::<Vec<_>>().join(" -> "),
                    t.type_name
                ));
            }
        }
        out.push_str(&format!("  Fingerprint: {}\n", self.fingerprint));
        for c in &self.commands {
            out.push_str(&format!("  $ {c}\n"));
        }
        out.push('\n');
        out
    }
}

impl From<&Totals> for DumpTotals {
    fn from(t: &Totals) -> DumpTotals {
        DumpTotals {
            count: t.count,
            shallow_bytes: t.shallow_bytes,
            references: t.references,
            objects_below: t.objects_below,
            bytes_below: t.bytes_below,
        }
    }
}

/// `a -> b -> c`, one value per dump.
fn series(per_dump: &[DumpTotals], f: impl Fn(&DumpTotals) -> String) -> String {
    per_dump.iter().map(f).collect::<Vec<_>>().join(" -> ")
}
