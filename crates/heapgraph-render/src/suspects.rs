//! `heapgraph suspects`: the leak suspects, biggest first, each in one sentence and then its evidence.

use crate::object::{steps_text, Chain, ObjectRef};
use crate::sites::GroupSites;
use crate::suspects_proven::{facts_on_path, ProvenView, StepFact};
use crate::{format_bytes, format_count, format_share};
use heapgraph_analysis::{Dominators, Suspect, SuspectKind, Suspects};
use heapgraph_graph::Graph;
use serde::Serialize;

/// Every suspect of one dump, split into new ones, library ones and those a baseline already knows.
#[derive(Serialize)]
pub struct SuspectsReport {
    pub file: String,
    pub reachable_bytes: u64,
    /// The share of the reachable heap a suspect retains at least, in percent.
    pub threshold_percent: f64,
    /// Suspects held by the program's own code, biggest first.
    pub suspects: Vec<SuspectView>,
    /// Suspects held by runtime or library code.
    pub library: Vec<SuspectView>,
    /// Suspects whose fingerprint the baseline lists (never hidden, only set apart).
    pub known: Vec<SuspectView>,
    /// Objects the dump proves should be gone, at any size, most retained bytes first.
    pub proven: Vec<ProvenView>,
    /// What the sizes mean.
    pub sizes: &'static str,
}

const SIZES: &str =
    "exact: retained sizes are the dominator tree's, counts and shallow sizes are the dump's";

/// One suspect as reports show it.
#[derive(Serialize)]
pub struct SuspectView {
    pub fingerprint: String,
    /// `single` or `group`.
    pub kind: &'static str,
    /// What holds how much, in one sentence.
    pub sentence: String,
    pub retained_bytes: u64,
    /// `retained_bytes` as a share of the reachable heap.
    pub share: f64,
    /// Instances of a group suspect's type.
    pub instances: Option<u64>,
    pub holder: ObjectRef,
    /// Where the memory accumulates; `None` for a group whose instances share no path.
    pub accumulation: Option<ObjectRef>,
    /// The shortest path from a root to the accumulation point.
    pub path: Chain,
    /// The step of `path.steps` whose `via` is the reference to fix; `None` for a group whose instances
    /// share no path.
    pub fix_step: Option<usize>,
    /// The step of `path.steps` the sentence names.
    pub holder_step: usize,
    /// The steps of `path` whose objects the dump proves should be gone.
    pub facts: Vec<StepFact>,
    /// Objects the accumulation point dominates, by type, most bytes first.
    pub accumulated: Vec<TypeTallyView>,
    pub accumulated_objects: u64,
    pub accumulated_types: u64,
    /// The program's type that accumulates most objects there, for `heapgraph retainers`.
    pub main_type: Option<String>,
    /// The biggest objects the accumulation point immediately dominates (each at least 1% of the heap).
    pub biggest: Vec<BiggestView>,
    /// Where the objects the accumulation point (or the top instance) dominates were allocated, when
    /// the dump records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated: Option<GroupSites>,
    /// heapgraph commands that dig further.
    pub commands: Vec<String>,
}

#[derive(Serialize)]
pub struct TypeTallyView {
    pub type_name: String,
    pub count: u64,
    pub shallow_bytes: u64,
}

#[derive(Serialize)]
pub struct BiggestView {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub retained_bytes: u64,
}

impl SuspectsReport {
    /// The report of `found` in the dump at `file`; suspects whose fingerprints `known` lists are set
    /// apart.
    pub fn new(
        file: String,
        graph: &Graph,
        dominators: &Dominators,
        found: &Suspects,
        threshold: f64,
        known: &[String],
    ) -> SuspectsReport {
        let mut report = SuspectsReport {
            proven: ProvenView::all(&file, graph, &found.proven, known),
            reachable_bytes: found.reachable_bytes,
            threshold_percent: threshold * 100.0,
            suspects: Vec::new(),
            library: Vec::new(),
            known: Vec::new(),
            sizes: SIZES,
            file,
        };
        for s in &found.suspects {
            let mut view = SuspectView::new(&report.file, graph, s, found.reachable_bytes);
            if !graph.allocation_sites().is_empty() {
                let at = s.accumulation.unwrap_or(s.top);
                view.allocated = GroupSites::of(graph, dominators.subtree(at).iter().copied());
                view.commands
                    .push(format!("heapgraph sites {}", report.file));
            }
            match (known.contains(&s.fingerprint), s.library) {
                (true, _) => report.known.push(view),
                (false, true) => report.library.push(view),
                (false, false) => report.suspects.push(view),
            }
        }
        report
    }

    /// The fingerprints of every suspect, for a baseline file.
    pub fn fingerprints(&self) -> Vec<&str> {
        let all = self.suspects.iter().chain(&self.library).chain(&self.known);
        let proven = self.proven.iter().map(|p| p.fingerprint.as_str());
        all.map(|s| s.fingerprint.as_str()).chain(proven).collect()
    }

    /// Whether a suspect or a proven leak outside the baseline remains (library suspects do not count).
    pub fn has_new(&self) -> bool {
        !self.suspects.is_empty() || self.proven.iter().any(|p| !p.known)
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.suspects.is_empty() && self.library.is_empty() {
            out.push_str(&format!(
                "No leak suspects: nothing retains more than {:.0}% of the {} reachable from the roots.\n",
                self.threshold_percent,
                format_bytes(self.reachable_bytes)
            ));
        }
        let sections = [
            ("Suspect", &self.suspects),
            (
                "Library suspect (held by runtime or library code)",
                &self.library,
            ),
            ("Known suspect (in the baseline)", &self.known),
        ];
        for (title, list) in sections {
            for (i, s) in list.iter().enumerate() {
                out.push_str(&s.render_text(&format!("{title} {} of {}", i + 1, list.len())));
            }
        }
        out.push_str(&ProvenView::render_section(&self.proven));
        out
    }
}

impl SuspectView {
    fn new(file: &str, graph: &Graph, s: &Suspect, reachable: u64) -> SuspectView {
        let path = Chain::new(graph, &s.path);
        let holder = s.path.get(s.holder).map_or_else(
            || ObjectRef::new(graph, s.top),
            |step| ObjectRef::new(graph, step.node),
        );
        let accumulation = s.accumulation.map(|n| ObjectRef::new(graph, n));
        let accumulated: Vec<TypeTallyView> = s
            .accumulated
            .iter()
            .map(|t| TypeTallyView {
                type_name: graph.type_name(t.type_id),
                count: t.count,
                shallow_bytes: t.shallow_bytes,
            })
            .collect();
        let biggest = s
            .biggest
            .iter()
            .map(|&(n, retained_bytes)| BiggestView {
                object: ObjectRef::new(graph, n),
                retained_bytes,
            })
            .collect();
        let (kind, instances) = match s.kind {
            SuspectKind::Single => ("single", None),
            SuspectKind::Group { instances, .. } => ("group", Some(instances)),
        };
        let mut view = SuspectView {
            fingerprint: s.fingerprint.clone(),
            kind,
            sentence: String::new(),
            retained_bytes: s.retained,
            share: match reachable {
                0 => 0.0,
                r => s.retained as f64 / r as f64,
            },
            instances,
            holder,
            accumulation,
            path,
            fix_step: s.fix,
            holder_step: s.holder,
            facts: facts_on_path(graph, &s.path),
            accumulated,
            accumulated_objects: s.accumulated_objects,
            accumulated_types: s.accumulated_types,
            main_type: s.main_type.map(|t| graph.type_name(t)),
            biggest,
            allocated: None,
            commands: Vec::new(),
        };
        view.sentence = view.sentence(graph, s, reachable);
        view.commands = view.commands(file);
        view
    }

    /// `One app.Cache (module app.__dict__['CACHE']) retains 1.5 MiB (21.5%): 100,000 Param, ... in
    /// 200,003 objects, accumulated in one list referenced by .clauses of app.Query.`
    fn sentence(&self, graph: &Graph, s: &Suspect, reachable: u64) -> String {
        let at = steps_text(
            self.path
                .steps
                .get(1..=self.holder_step)
                .unwrap_or_default(),
        );
        let whom = match s.kind {
            SuspectKind::Single => format!(
                "One {} ({}{at}) retains",
                self.holder.type_name, self.path.root
            ),
            SuspectKind::Group { type_id, instances } => format!(
                "{} instances of {} retain",
                format_count(instances),
                graph.type_name(type_id)
            ),
        };
        let consumers: Vec<String> = self
            .accumulated
            .iter()
            .take(3)
            .map(|t| format!("{} {}", format_count(t.count), t.type_name))
            .collect();
        let mut out = format!(
            "{whom} {} ({} of the reachable heap): {} among {} objects",
            format_bytes(self.retained_bytes),
            format_share(self.retained_bytes, reachable),
            join_and(&consumers),
            format_count(self.accumulated_objects)
        );
        let fix = self
            .fix_step
            .and_then(|i| Some((i, self.path.steps.get(i)?)));
        match (&self.accumulation, fix) {
            (Some(acc), Some((at, fix))) => {
                let referencing = match &fix.via {
                    Some(via) => self.owner_of(at, via),
                    None => String::new(),
                };
                // Past a collection's backing array, the reference to fix reaches the collection.
                let inside = match at + 1 < self.path.steps.len() {
                    true => format!(" inside the {}", fix.object.type_name),
                    false => String::new(),
                };
                out.push_str(&format!(
                    ", accumulated in one {}{inside}{referencing}.",
                    acc.type_name
                ));
            }
            _ => out.push_str(", with no path most of them share from the roots."),
        }
        out
    }

    /// ` referenced by .clauses of app.InClause`: the reference into step `at`, read from the object
    /// that owns it, past `__dunder__` plumbing between them (`.__dict__['clauses']` of an instance on
    /// CPython 3.10 and older).
    fn owner_of(&self, at: usize, via: &str) -> String {
        let mut reference = via.to_string();
        let mut from = at;
        while let Some(prev) = from.checked_sub(1) {
            from = prev;
            match self.path.steps[from].via.as_deref() {
                Some(v) if v.starts_with(".__") && v.ends_with("__") && from > 0 => {
                    reference = format!("{v}{reference}")
                }
                _ => break,
            }
        }
        match at {
            0 => String::new(),
            _ => format!(
                " referenced by {reference} of {}",
                named(&self.path.steps[from].object)
            ),
        }
    }

    fn commands(&self, file: &str) -> Vec<String> {
        let mut commands = Vec::new();
        if let Some(acc) = &self.accumulation {
            commands.push(format!("heapgraph dominators {file} {}", acc.address));
            commands.push(format!("heapgraph path {file} {}", acc.address));
        }
        if let Some(t) = &self.main_type {
            commands.push(format!("heapgraph retainers {file} '{t}'"));
        }
        commands
    }

    fn render_text(&self, title: &str) -> String {
        let mut out = format!("{title}: {}\n", self.sentence);
        out.push_str(match self.fix_step {
            Some(_) => "  Path from a root (the reference to fix marked with >>):\n",
            None => "  Path from a root to the instance retaining the most:\n",
        });
        out.push_str(&format!("      {}\n", self.path.root));
        for (i, step) in self.path.steps.iter().enumerate().skip(1) {
            let mark = if Some(i) == self.fix_step { ">>" } else { "  " };
            let proven = match self.facts.iter().find(|f| f.step == i) {
                Some(f) => format!("  [proven: {}]", f.reason),
                None => String::new(),
            };
            out.push_str(&format!(
                "    {mark} {} {}{proven}\n",
                step.via.as_deref().unwrap_or("->"),
                step.object.text_with_size()
            ));
        }
        if !self.accumulated.is_empty() {
            out.push_str(&format!(
                "  Accumulated: {} objects of {} types, most bytes first:\n",
                format_count(self.accumulated_objects),
                format_count(self.accumulated_types)
            ));
            for t in &self.accumulated {
                out.push_str(&format!(
                    "    {:>12}  {:>10}  {}\n",
                    format_count(t.count),
                    format_bytes(t.shallow_bytes),
                    t.type_name
                ));
            }
        }
        if !self.biggest.is_empty() {
            out.push_str("  Biggest objects it holds:\n");
            for b in &self.biggest {
                out.push_str(&format!(
                    "    {:>10}  {}\n",
                    format_bytes(b.retained_bytes),
                    b.object.text()
                ));
            }
        }
        if let Some(sites) = &self.allocated {
            out.push_str(&sites.block("  "));
        }
        out.push_str(&format!("  Fingerprint: {}\n", self.fingerprint));
        for c in &self.commands {
            out.push_str(&format!("  $ {c}\n"));
        }
        out.push('\n');
        out
    }
}

/// An object by its type, and by its name or value when the dump has one: `java.lang.Class HeapFixture`.
fn named(object: &ObjectRef) -> String {
    match &object.preview {
        Some(preview) => format!("{} {preview}", object.type_name),
        None => object.type_name.clone(),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
