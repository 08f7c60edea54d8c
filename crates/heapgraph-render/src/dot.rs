//! Graphviz output: reports that draw build a [`DotGraph`], and [`write_image`] saves it as `.dot` text or
//! renders it to SVG or PNG through Graphviz's `dot`.
//!
//! The DOT text is built as graphviz-rust's AST. Its printer writes ids verbatim (its `esc` only adds
//! quotes), so every label goes through [`quote`]: type names, string previews and dict keys contain
//! quotes and backslashes, and one unescaped quote makes the whole file unreadable to `dot`.
//!
//! Rendering runs the `dot` binary with the DOT text on stdin. Where Graphviz is not installed the
//! `.dot` file is written next to the requested image instead and the caller says how to get the image:
//! the graph is worth having even without the binary.

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How a node stands out.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum NodeStyle {
    /// An ordinary object, filled darker the further it is from where the drawing starts (`0.0..=1.0`).
    Depth(f64),
    /// An object alive for a reason outside the heap (a module, a running frame's local).
    Root,
    /// The object the drawing starts from.
    Start,
    /// An object of a type the user asked to highlight.
    Highlight,
    /// Several objects folded into one "N more" node.
    Folded,
}

/// A directed graph being built for Graphviz.
pub struct DotGraph {
    stmts: Vec<Stmt>,
    nodes: usize,
}

impl DotGraph {
    /// An empty graph laid out in direction `rankdir` (`TB`, `LR`, `BT`).
    pub fn new(rankdir: &str) -> DotGraph {
        let stmts = vec![
            Stmt::GAttribute(GraphAttributes::Graph(vec![
                attr("rankdir", rankdir),
                attr("nodesep", "0.25"),
            ])),
            Stmt::GAttribute(GraphAttributes::Node(vec![
                attr("shape", "box"),
                attr("style", "filled"),
                attr("fontname", "Helvetica"),
                attr("fontsize", "10"),
            ])),
            Stmt::GAttribute(GraphAttributes::Edge(vec![
                attr("fontname", "Helvetica"),
                attr("fontsize", "9"),
            ])),
        ];
        DotGraph { stmts, nodes: 0 }
    }

    /// Adds a node whose label is `lines` (left-aligned); returns its id for [`DotGraph::edge`].
    pub fn node(&mut self, lines: &[String], style: NodeStyle) -> String {
        let id = format!("n{}", self.nodes);
        self.nodes += 1;
        let label = lines.iter().map(|l| escape(l) + "\\l").collect::<String>();
        let mut attributes = vec![Attribute(
            Id::Plain("label".into()),
            Id::Escaped(format!("\"{label}\"")),
        )];
        attributes.extend(match style {
            NodeStyle::Depth(d) => vec![attr(
                "fillcolor",
                &format!("\"0.58 {:.3} 1.0\"", 0.06 + 0.34 * d.clamp(0.0, 1.0)),
            )],
            NodeStyle::Root => vec![
                attr("fillcolor", "\"#f6c6c0\""),
                attr("style", "\"filled,bold\""),
                attr("shape", "box3d"),
            ],
            NodeStyle::Start => vec![
                attr("fillcolor", "\"#ffe680\""),
                attr("style", "\"filled,bold\""),
                attr("penwidth", "2"),
            ],
            NodeStyle::Highlight => vec![attr("fillcolor", "\"#b8e6b0\"")],
            NodeStyle::Folded => vec![
                attr("fillcolor", "\"#eeeeee\""),
                attr("style", "\"filled,dashed\""),
            ],
        });
        self.stmts.push(Stmt::Node(Node::new(
            NodeId(Id::Plain(id.clone()), None),
            attributes,
        )));
        id
    }

    /// Adds an edge `from -> to` labelled `label` (no label when empty).
    pub fn edge(&mut self, from: &str, to: &str, label: &str) {
        let attributes = if label.is_empty() {
            vec![]
        } else {
            vec![Attribute(Id::Plain("label".into()), quote(label))]
        };
        self.stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(
                Vertex::N(NodeId(Id::Plain(from.into()), None)),
                Vertex::N(NodeId(Id::Plain(to.into()), None)),
            ),
            attributes,
        }));
    }

    /// The graph as DOT text.
    pub fn to_dot(&self) -> String {
        Graph::DiGraph {
            id: Id::Plain("heapgraph".into()),
            strict: false,
            stmts: self.stmts.clone(),
        }
        .print(&mut PrinterContext::default())
    }
}

fn attr(name: &str, value: &str) -> Attribute {
    Attribute(Id::Plain(name.into()), Id::Plain(value.into()))
}

/// A DOT string literal holding `text` exactly.
fn quote(text: &str) -> Id {
    Id::Escaped(format!("\"{}\"", escape(text)))
}

/// Escapes `text` for a DOT double-quoted string: backslashes and quotes, and line breaks (which would
/// otherwise end up in the drawing as raw newlines) become spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// What [`write_image`] produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The requested file.
    Image(PathBuf),
    /// Graphviz is not installed: the DOT text is at `dot` instead of the image at `wanted`.
    DotOnly { dot: PathBuf, wanted: PathBuf },
}

impl Written {
    /// One line for stderr: where the output went, and how to get the image when only DOT could be
    /// written.
    pub fn message(&self) -> String {
        match self {
            Written::Image(path) => format!("wrote {}", path.display()),
            Written::DotOnly { dot, wanted } => format!(
                "Graphviz's `dot` is not installed, so the graph is in {dot} instead of {wanted}; install \
                 Graphviz (`apt-get install graphviz` or `brew install graphviz`) and run \
                 `dot -T{ext} {dot} -o {wanted}`",
                dot = dot.display(),
                wanted = wanted.display(),
                ext = wanted.extension().and_then(|e| e.to_str()).unwrap_or("svg"),
            ),
        }
    }
}

/// Writes `dot` to `path`: as text for `.dot`/`.gv`, rendered by Graphviz for `.svg`/`.png`.
pub fn write_image(dot: &str, path: &Path) -> Result<Written, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "dot" | "gv" => {
            write_text(dot, path)?;
            Ok(Written::Image(path.to_path_buf()))
        }
        "svg" | "png" => render(dot, &ext, path),
        _ => Err(format!(
            "{}: cannot tell the image format from the extension; name the file .dot, .svg or .png",
            path.display()
        )),
    }
}

fn write_text(dot: &str, path: &Path) -> Result<(), String> {
    std::fs::write(path, dot).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Runs `dot -T<format> -o path`, feeding it the DOT text on stdin.
fn render(dot: &str, format: &str, path: &Path) -> Result<Written, String> {
    let spawned = Command::new("dot")
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dot_path = path.with_extension("dot");
            write_text(dot, &dot_path)?;
            return Ok(Written::DotOnly {
                dot: dot_path,
                wanted: path.to_path_buf(),
            });
        }
        Err(e) => return Err(format!("cannot run Graphviz's `dot`: {e}")),
    };
    let fed = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(dot.as_bytes());
    let out = child
        .wait_with_output()
        .map_err(|e| format!("Graphviz's `dot` failed: {e}"))?;
    if !out.status.success() || fed.is_err() {
        return Err(format!(
            "{}: Graphviz's `dot` could not render the graph: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Written::Image(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_with_quotes_and_backslashes_survive_a_round_trip() {
        let mut g = DotGraph::new("TB");
        let hostile = r#"str 'a "quoted" \ path\n' 0x10"#;
        let a = g.node(
            &[hostile.to_string(), "second line".into()],
            NodeStyle::Root,
        );
        let b = g.node(&["dict".into()], NodeStyle::Depth(0.5));
        g.edge(&a, &b, r#"['say "hi"']"#);
        let text = g.to_dot();
        let parsed = graphviz_rust::parse(&text).expect("the DOT text parses");
        let Graph::DiGraph { stmts, .. } = parsed else {
            panic!("a digraph")
        };
        let label = stmts
            .iter()
            .find_map(|s| match s {
                Stmt::Node(n) if n.id.0 == Id::Plain("n0".into()) => n
                    .attributes
                    .iter()
                    .find(|a| a.0 == Id::Plain("label".into()))
                    .map(|a| a.1.clone()),
                _ => None,
            })
            .expect("node n0 has a label");
        assert_eq!(
            label,
            Id::Escaped(r#""str 'a \"quoted\" \\ path\\n' 0x10\lsecond line\l""#.into())
        );
    }

    #[test]
    fn unknown_extensions_are_refused_before_anything_is_written() {
        let err = write_image("digraph {}", Path::new("/nonexistent/out.jpeg")).unwrap_err();
        assert!(err.contains(".dot, .svg or .png"), "{err}");
    }
}
