//! `heapgraph report`: one self-contained HTML page of a dump, to open from disk, explore and hand on.
//!
//! The page is built from the reports the other commands print: [`Model`] holds them, each beside the
//! command that prints the same on a terminal. The model is embedded in the page as JSON (the page's
//! scripts draw the dominator view and sort the types from it), and the template renders the rest as plain
//! HTML, so the page reads without scripts and prints. The template, style sheet and script are files of
//! this crate, embedded at compile time; the page loads nothing from anywhere.

use heapgraph_render::dominators::DominatorReport;
use heapgraph_render::growth::GrowthReport;
use heapgraph_render::info::InfoReport;
use heapgraph_render::retainers::RetainersReport;
use heapgraph_render::sites::FrameView;
use heapgraph_render::suspects::SuspectsReport;
use heapgraph_render::suspects_growth::GrowthSuspectsReport;
use heapgraph_render::types::TypesReport;
use heapgraph_render::{format_bytes, format_count};
use minijinja::value::Serde;
use minijinja::{context, Environment, Value};
use serde::Serialize;

const TEMPLATE: &str = include_str!("../assets/report.html");
const STYLE: &str = include_str!("../assets/report.css");
const SCRIPT: &str = include_str!("../assets/report.js");

/// The version of the embedded model's layout, for scripts that read it out of a page.
pub const MODEL_VERSION: u32 = 1;

/// One report, and the heapgraph command that prints the same on a terminal.
#[derive(Serialize)]
pub struct Section<T> {
    pub command: String,
    pub report: T,
}

/// What retains the instances of one type.
#[derive(Serialize)]
pub struct TypeRetainers {
    /// The type's row in the types report.
    pub type_id: u32,
    #[serde(flatten)]
    pub section: Section<RetainersReport>,
}

/// Everything the page shows.
#[derive(Serialize)]
pub struct Model<'a> {
    pub heapgraph_report: u32,
    /// The heapgraph version that wrote the page.
    pub heapgraph_version: &'static str,
    /// The dumps the page is about, oldest first; the last is the one the sections other than growth
    /// describe.
    pub files: Vec<String>,
    pub overview: Section<InfoReport>,
    pub suspects: Section<SuspectsReport>,
    /// The dominator tree to a fixed depth, small children folded into "N more".
    pub dominators: Section<DominatorReport>,
    pub types: Section<TypesReport<'a>>,
    /// The merged retainer trees of the types that retain most.
    pub retainers: Vec<TypeRetainers>,
    /// Growth suspects, when the page is about two or more dumps.
    pub growth: Option<Section<GrowthSuspectsReport>>,
    /// Per-type changes from the first dump to the last, when there are two or more.
    pub type_growth: Option<Section<GrowthReport>>,
    /// What the caps above left out, one sentence each.
    pub left_out: Vec<String>,
}

/// The page of `model`: one HTML document with its style, script and data inside.
pub fn render(model: &Model) -> Result<String, String> {
    let json = serde_json::to_string(model).map_err(|e| e.to_string())?;
    // `<` occurs only inside JSON strings, where `\u003c` means the same: the data can then never close
    // the script element that holds it.
    let json = json.replace('<', "\\u003c");
    let mut env = Environment::new();
    env.add_filter("bytes", format_bytes);
    env.add_filter("count", format_count);
    env.add_filter("signed_bytes", |b: i64| {
        format!("{}{}", sign(b), format_bytes(b.unsigned_abs()))
    });
    env.add_filter("signed_count", |n: i64| {
        format!("{}{}", sign(n), format_count(n.unsigned_abs()))
    });
    env.add_filter("frame", |frame: Value| {
        let text = |name: &str| {
            frame
                .get_attr(name)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let line = frame
            .get_attr("line")
            .ok()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0);
        FrameView {
            function: text("function"),
            file: text("file"),
            line,
        }
        .text()
    });
    env.add_filter("percent", |share: f64| format!("{:.1}%", share * 100.0));
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| format!("the report template: {e}"))?;
    let page = env
        .get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                m => Value::from(Serde(model)),
                model_json => Value::from_safe_string(json),
                style => Value::from_safe_string(STYLE.to_string()),
                script => Value::from_safe_string(SCRIPT.to_string()),
            })
        })
        .map_err(|e| format!("cannot render the report page: {e:#}"))?;
    Ok(page)
}

/// `+` or `-` before a change.
fn sign(change: i64) -> &'static str {
    if change < 0 {
        "-"
    } else {
        "+"
    }
}
