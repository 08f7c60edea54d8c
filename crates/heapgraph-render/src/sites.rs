//! `heapgraph sites`, and the few lines other reports add about where their objects were allocated.
//!
//! A frame reads `file:line in function`. Library paths are cut to the part after the directory that
//! installs them (`site-packages/`, `node_modules/`, `lib/python3.12/`) in text; JSON keeps them whole.

use crate::{format_bytes, format_count, format_share, Align, Table};
use heapgraph_analysis::{Site, SiteGrouping, SiteTable};
use heapgraph_graph::{AllocationSites, FrameId, Graph, NodeId};
use serde::Serialize;

/// How many sites a report about a group of objects shows beside it.
pub const SITES_PER_GROUP: usize = 3;

/// One frame of an allocation stack.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FrameView {
    pub function: String,
    pub file: String,
    /// 0 when the runtime did not record it.
    pub line: u32,
}

impl FrameView {
    fn new(table: &AllocationSites, frame: FrameId) -> FrameView {
        let f = table.frame(frame);
        FrameView {
            function: f.function.to_string(),
            file: f.file.to_string(),
            line: f.line,
        }
    }

    /// `elements.py:120 in __init__`, the file shortened when it is a library's.
    pub fn text(&self) -> String {
        let place = match (short_file(&self.file), self.line) {
            ("", _) => String::new(),
            (file, 0) => file.to_string(),
            (file, line) => format!("{file}:{line}"),
        };
        match (place.is_empty(), self.function.is_empty()) {
            (true, true) => "(unknown)".to_string(),
            (true, false) => self.function.clone(),
            (false, true) => place,
            (false, false) => format!("{place} in {}", self.function),
        }
    }
}

/// The part of a library's path after the directory that installed it; other paths whole.
fn short_file(file: &str) -> &str {
    for dir in ["/site-packages/", "/dist-packages/", "/node_modules/"] {
        if let Some(at) = file.rfind(dir) {
            return &file[at + dir.len()..];
        }
    }
    if let Some(at) = file.rfind("/lib/python") {
        let rest = &file[at + "/lib/python".len()..];
        if let (true, Some(slash)) = (
            rest.starts_with(|c: char| c.is_ascii_digit()),
            rest.find('/'),
        ) {
            return &rest[slash + 1..];
        }
    }
    file
}

/// The first frame in the program's own code under a site, and how many of its objects it made.
#[derive(Clone, Debug, Serialize)]
pub struct UserFrameView {
    #[serde(flatten)]
    pub frame: FrameView,
    pub objects: u64,
}

/// One allocation site.
#[derive(Clone, Debug, Serialize)]
pub struct SiteView {
    /// The site's allocating frame (by line, by traceback), absent by file.
    pub frame: Option<FrameView>,
    /// The allocating frame's file.
    pub file: String,
    /// The whole stack, allocating frame first (by traceback only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traceback: Vec<FrameView>,
    pub objects: u64,
    pub shallow_bytes: u64,
    /// Bytes its objects retain, each byte once (`heapgraph sites` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retained_bytes: Option<u64>,
    /// The first frame in the program's own code most of its objects were allocated under; absent when
    /// no stack reaches it.
    pub user_frame: Option<UserFrameView>,
}

impl SiteView {
    fn new(table: &AllocationSites, by: SiteGrouping, site: &Site, retained: bool) -> SiteView {
        let frames = table.frames(site.trace);
        let first = frames.first().map(|&f| FrameView::new(table, f));
        SiteView {
            file: first.as_ref().map(|f| f.file.clone()).unwrap_or_default(),
            frame: first.filter(|_| by != SiteGrouping::File),
            traceback: match by {
                SiteGrouping::Traceback => {
                    frames.iter().map(|&f| FrameView::new(table, f)).collect()
                }
                _ => Vec::new(),
            },
            objects: site.objects,
            shallow_bytes: site.shallow,
            retained_bytes: retained.then_some(site.retained),
            user_frame: site.user_frame.map(|u| UserFrameView {
                frame: FrameView::new(table, u.frame),
                objects: u.objects,
            }),
        }
    }

    /// The site in one line: its frame (or file).
    pub fn text(&self) -> String {
        match &self.frame {
            Some(frame) => frame.text(),
            None if self.file.is_empty() => "(unknown)".to_string(),
            None => short_file(&self.file).to_string(),
        }
    }

    /// `from app/reports.py:88 in build_query (100,000)`, when the site is not itself that frame.
    pub fn user_frame_text(&self) -> Option<String> {
        let user = self.user_frame.as_ref()?;
        if self.frame.as_ref() == Some(&user.frame) {
            return None;
        }
        let count = if user.objects == self.objects {
            String::new()
        } else {
            format!(" ({} of them)", format_count(user.objects))
        };
        Some(format!("user code: {}{count}", user.frame.text()))
    }

    /// The site in one line for a table cell: `elements.py:120 in __init__ < app/reports.py:88 in
    /// build_query`, the user frame after `<` when it is not the site's own.
    pub fn cell(&self) -> String {
        match &self.user_frame {
            Some(user) if self.frame.as_ref() != Some(&user.frame) => {
                format!("{} < {}", self.text(), user.frame.text())
            }
            _ => self.text(),
        }
    }
}

/// `heapgraph sites DUMP`: allocation sites ranked by the bytes their objects retain.
#[derive(Serialize)]
pub struct SitesReport {
    pub file: String,
    /// `line`, `file` or `traceback`.
    pub by: &'static str,
    /// The types asked about (`--type`), and the ones that name matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
    /// Objects with an allocation stack, and without one.
    pub objects: u64,
    pub untraced: u64,
    pub reachable_bytes: u64,
    /// Every site; `rows` holds the `--top` first (all of them when 0).
    pub site_count: usize,
    pub rows: Vec<SiteRow>,
}

#[derive(Serialize)]
pub struct SiteRow {
    #[serde(flatten)]
    pub site: SiteView,
    /// `retained_bytes` as a share of everything reachable from the roots.
    pub share: f64,
    /// The site whose objects hold most of what this one retains, when they hold at least 70% of it:
    /// this site is a holder, and the memory accumulates at that one, ranked before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds: Option<HoldsView>,
}

/// A site another site holds.
#[derive(Serialize)]
pub struct HoldsView {
    /// Its position among all the sites, from 0 (the rows are the first of them).
    pub rank: usize,
    /// Its frame (or file) in one line.
    pub site: String,
    /// The bytes the holding site retains through its objects.
    pub bytes: u64,
}

/// The `--by` names.
pub fn grouping_name(by: SiteGrouping) -> &'static str {
    match by {
        SiteGrouping::Line => "line",
        SiteGrouping::File => "file",
        SiteGrouping::Traceback => "traceback",
    }
}

impl SitesReport {
    pub fn new(
        file: String,
        graph: &Graph,
        table: &SiteTable,
        reachable_bytes: u64,
        types: Option<Vec<String>>,
        top: usize,
    ) -> SitesReport {
        let sites = graph.allocation_sites();
        let shown = if top == 0 { table.sites.len() } else { top };
        let rows = table
            .sites
            .iter()
            .take(shown)
            .map(|s| SiteRow {
                site: SiteView::new(sites, table.by, s, true),
                share: if reachable_bytes == 0 {
                    0.0
                } else {
                    s.retained as f64 / reachable_bytes as f64
                },
                holds: s.holds.map(|h| HoldsView {
                    rank: h.site,
                    site: SiteView::new(sites, table.by, &table.sites[h.site], false).text(),
                    bytes: h.bytes,
                }),
            })
            .collect();
        SitesReport {
            file,
            by: grouping_name(table.by),
            types,
            objects: table.objects,
            untraced: table.untraced,
            reachable_bytes,
            site_count: table.sites.len(),
            rows,
        }
    }

    pub fn render_text(&self) -> String {
        let mut table = Table::new(&[
            ("retained", Align::Right),
            ("share", Align::Right),
            ("shallow", Align::Right),
            ("objects", Align::Right),
            ("allocated at", Align::Left),
        ]);
        let more = |text: String| {
            vec![
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                text,
            ]
        };
        for row in &self.rows {
            let site = &row.site;
            let retained = site.retained_bytes.unwrap_or(0);
            table.row(vec![
                format_bytes(retained),
                format_share(retained, self.reachable_bytes),
                format_bytes(site.shallow_bytes),
                format_count(site.objects),
                site.text(),
            ]);
            // The user frame is the first of the program's frames on the stack; a recursive or
            // nested call can repeat it further down.
            let user_at = site
                .user_frame
                .as_ref()
                .and_then(|u| site.traceback.iter().position(|f| *f == u.frame));
            for (at, frame) in site.traceback.iter().enumerate().skip(1) {
                let mark = if Some(at) == user_at {
                    "  <- user code"
                } else {
                    ""
                };
                table.row(more(format!("  {}{mark}", frame.text())));
            }
            if site.traceback.is_empty() {
                if let Some(text) = site.user_frame_text() {
                    table.row(more(format!("  {text}")));
                }
            }
            if let Some(held) = &row.holds {
                table.row(more(format!(
                    "  holds {} ({} of it)",
                    held.site,
                    format_share(held.bytes, retained)
                )));
            }
        }
        let of_types = match &self.types {
            Some(types) => format!(" of {}", types.join(", ")),
            None => String::new(),
        };
        let mut out = format!(
            "Allocation sites by {}{of_types}: {} {} of {} {} with a stack ({} without), by retained bytes, holders after what they hold; sites can share bytes\n\n",
            self.by,
            format_count(self.site_count as u64),
            noun(self.site_count as u64, "site", "sites"),
            format_count(self.objects),
            noun(self.objects, "object", "objects"),
            format_count(self.untraced),
        );
        out.push_str(&table.render());
        if self.rows.len() < self.site_count {
            let left = self.site_count - self.rows.len();
            out.push_str(&format!(
                "{} more {} (--top)\n",
                format_count(left as u64),
                noun(left as u64, "site", "sites")
            ));
        }
        out
    }
}

/// Where a group of objects was allocated, for reports about that group: its main sites by objects.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSites {
    /// The group's objects that have a stack.
    pub objects: u64,
    /// The first [`SITES_PER_GROUP`] sites by line, most objects first.
    pub sites: Vec<SiteView>,
    /// Sites left out.
    pub more: usize,
}

impl GroupSites {
    /// The sites of `nodes`; `None` when the dump records no allocation stacks, so that reports on such
    /// dumps read as they always did.
    pub fn of(graph: &Graph, nodes: impl IntoIterator<Item = NodeId>) -> Option<GroupSites> {
        let sites = graph.allocation_sites();
        if sites.is_empty() {
            return None;
        }
        let table = SiteTable::of_objects(graph, nodes, SiteGrouping::Line);
        Some(GroupSites {
            objects: table.objects,
            sites: table
                .sites
                .iter()
                .take(SITES_PER_GROUP)
                .map(|s| SiteView::new(sites, SiteGrouping::Line, s, false))
                .collect(),
            more: table.sites.len().saturating_sub(SITES_PER_GROUP),
        })
    }

    /// `Allocated at (N of them with a stack):` and [`GroupSites::lines`] below it, indented by
    /// `indent` and two more spaces.
    pub fn block(&self, indent: &str) -> String {
        format!(
            "{indent}Allocated at ({} of them with a stack):\n{}",
            format_count(self.objects),
            self.lines(&format!("{indent}  "))
        )
    }

    /// One line per site, each starting with `indent`: `100,000 × elements.py:120 in __init__, user
    /// code: app/reports.py:88 in build_query`.
    pub fn lines(&self, indent: &str) -> String {
        let mut out = String::new();
        for site in &self.sites {
            out.push_str(&format!(
                "{indent}{} × {}",
                format_count(site.objects),
                site.text()
            ));
            if let Some(user) = site.user_frame_text() {
                out.push_str(&format!(", {user}"));
            }
            out.push('\n');
        }
        if self.more > 0 {
            out.push_str(&format!(
                "{indent}and {} more {}\n",
                format_count(self.more as u64),
                noun(self.more as u64, "site", "sites")
            ));
        }
        out
    }
}

/// `one` for 1, else `many`.
fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Where one object was allocated; `None` when the dump records no stack for it.
pub fn site_of(graph: &Graph, node: NodeId) -> Option<SiteView> {
    GroupSites::of(graph, [node])?.sites.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_analysis::analyze;
    use heapgraph_graph::{AllocationSitesBuilder, EdgeLabel, GraphBuilder, RootKind};

    const ELEMENTS: &str = "/venv/lib/python3.12/site-packages/sqlalchemy/sql/elements.py";

    /// A module holds a list of three parameters that SQLAlchemy made for `build_query`, and a dict
    /// the program made itself; the list was made before tracing started.
    fn cache() -> Graph {
        cache_with(false)
    }

    /// [`cache`], with the list made by `build_query` at line 80 when `list_traced`.
    fn cache_with(list_traced: bool) -> Graph {
        let mut b = GraphBuilder::new();
        let module = b.add_type("builtins", "module", 0);
        let list = b.add_type("builtins", "list", 0);
        let param = b.add_type("sqlalchemy", "BindParameter", 0);
        let dict = b.add_type("builtins", "dict", 0);
        b.add_node(0x100, module, 100);
        b.add_node(0x200, list, 50);
        for i in 0..3 {
            b.add_node(0x300 + i * 0x10, param, 40);
            b.add_edge(0x200, 0x300 + i * 0x10, EdgeLabel::index(i));
        }
        b.add_node(0x400, dict, 200);
        b.add_edge(0x100, 0x200, EdgeLabel::index(0));
        b.add_edge(0x100, 0x400, EdgeLabel::index(1));
        b.add_root(0x100, RootKind::Module, "app");
        let graph = b.build().unwrap().graph;
        let mut s = AllocationSitesBuilder::default();
        let init = s.frame("__init__", ELEMENTS, 120);
        let build = s.frame("build_query", "/srv/app/reports.py", 88);
        let main = s.frame("main", "/srv/app/main.py", 3);
        let models = s.frame("load", "/srv/app/models.py", 5);
        // build_query calls itself once before SQLAlchemy makes the parameters.
        let params = s.trace(&[init, build, build, main]);
        let own = s.trace(&[models, main]);
        for node in 2..5 {
            s.object(node, params);
        }
        s.object(5, own);
        if list_traced {
            let made = s.frame("build_query", "/srv/app/reports.py", 80);
            let list = s.trace(&[made, main]);
            s.object(1, list);
        }
        graph.with_allocation_sites(s.finish()).unwrap()
    }

    #[test]
    fn a_holding_site_comes_after_the_site_it_holds() {
        let graph = cache_with(true);
        let analysis = analyze(&graph);
        let (d, r) = (&analysis.dominators, &analysis.retained);
        let table = SiteTable::compute(&graph, d, r, SiteGrouping::Line, None);
        let report = SitesReport::new("app.hgd".into(), &graph, &table, 430, None, 0);
        let text = report.render_text();
        let rows = "\
   200 B  46.5%    200 B        1  /srv/app/models.py:5 in load
   120 B  27.9%    120 B        3  sqlalchemy/sql/elements.py:120 in __init__
                                     user code: /srv/app/reports.py:88 in build_query
   170 B  39.5%     50 B        1  /srv/app/reports.py:80 in build_query
                                     holds sqlalchemy/sql/elements.py:120 in __init__ (70.6% of it)
";
        assert!(text.ends_with(rows), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        let holds = &json["rows"][2]["holds"];
        assert_eq!(
            (&holds["rank"], &holds["bytes"]),
            (&serde_json::json!(1), &serde_json::json!(120)),
            "{json}"
        );
        assert!(json["rows"][1].get("holds").is_none(), "{json}");
    }

    #[test]
    fn sites_read_with_the_user_frame_singled_out() {
        let graph = cache();
        let analysis = analyze(&graph);
        let table = SiteTable::compute(
            &graph,
            &analysis.dominators,
            &analysis.retained,
            SiteGrouping::Line,
            None,
        );
        let report = SitesReport::new("app.hgd".into(), &graph, &table, 430, None, 20);
        assert_eq!(
            (report.objects, report.untraced, report.site_count),
            (4, 2, 2)
        );
        let text = report.render_text();
        let expected = "\
Allocation sites by line: 2 sites of 4 objects with a stack (2 without), by retained bytes, holders after what they hold; sites can share bytes

retained  share  shallow  objects  allocated at
   200 B  46.5%    200 B        1  /srv/app/models.py:5 in load
   120 B  27.9%    120 B        3  sqlalchemy/sql/elements.py:120 in __init__
                                     user code: /srv/app/reports.py:88 in build_query
";
        assert_eq!(text, expected);
        let all = SitesReport::new("app.hgd".into(), &graph, &table, 430, None, 0);
        assert_eq!(all.render_text(), expected, "--top 0 shows every site");

        let table = SiteTable::compute(
            &graph,
            &analysis.dominators,
            &analysis.retained,
            SiteGrouping::Traceback,
            None,
        );
        let text = SitesReport::new("app.hgd".into(), &graph, &table, 430, None, 1).render_text();
        assert!(
            text.contains("  /srv/app/main.py:3 in main\n1 more site (--top)"),
            "{text}"
        );
        let text = SitesReport::new("app.hgd".into(), &graph, &table, 430, None, 0).render_text();
        let marked = "  /srv/app/reports.py:88 in build_query  <- user code\n";
        assert_eq!(text.matches(marked).count(), 1, "{text}");
        assert_eq!(text.matches("/srv/app/reports.py:88").count(), 2, "{text}");

        let params = GroupSites::of(&graph, 2..5).expect("the dump has sites");
        assert_eq!(
            params.lines("  "),
            "  3 × sqlalchemy/sql/elements.py:120 in __init__, user code: /srv/app/reports.py:88 in build_query\n"
        );
        assert_eq!(
            site_of(&graph, 2).expect("traced").cell(),
            "sqlalchemy/sql/elements.py:120 in __init__ < /srv/app/reports.py:88 in build_query"
        );
        assert!(site_of(&graph, 1).is_none());
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json["sites"][0]["user_frame"]["line"], 88);
        assert_eq!(json["sites"][0]["frame"]["file"], ELEMENTS);
    }

    #[test]
    fn frames_read_short_for_libraries() {
        let frame = |function: &str, file: &str, line| FrameView {
            function: function.into(),
            file: file.into(),
            line,
        };
        let lib =
            "/root/.pyenv/versions/3.12.1/lib/python3.12/site-packages/sqlalchemy/sql/elements.py";
        assert_eq!(
            frame("__init__", lib, 120).text(),
            "sqlalchemy/sql/elements.py:120 in __init__"
        );
        let stdlib = "/usr/lib/python3.11/json/decoder.py";
        assert_eq!(
            frame("decode", stdlib, 0).text(),
            "json/decoder.py in decode"
        );
        assert_eq!(
            frame("build", "/srv/app.py", 8).text(),
            "/srv/app.py:8 in build"
        );
        assert_eq!(frame("push", "", 0).text(), "push");
        assert_eq!(frame("", "", 0).text(), "(unknown)");
    }
}
