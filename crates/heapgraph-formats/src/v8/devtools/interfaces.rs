//! Plain objects named by their properties, as DevTools names them: the property lists that start the
//! most plain objects become "interfaces" (`{a, b, c}`), and each plain object takes the interface with
//! the most properties among those its own properties include (the more popular one on a tie).

use super::{js_cmp, js_len, Classes, Snapshot, MAX_INTERFACE_NAME_LENGTH};
use super::{Table, MIN_OBJECT_PROPORTION_PER_INTERFACE};
use super::{MIN_INTERFACE_PROPERTY_COUNT, MIN_OBJECT_COUNT_PER_INTERFACE};
use crate::v8::structure::EdgeType;
use hashbrown::HashMap;

struct Definition {
    name: String,
    properties: Vec<String>,
}

/// One state of the property tree: the properties so far, in sorted order, lead here.
#[derive(Default)]
struct TreeNode {
    next: HashMap<String, usize>,
    /// The interface these exact properties define: (its property count, its position in the list).
    matched: Option<(usize, usize)>,
    greatest_next: Option<String>,
}

/// Renames the plain objects in `classes`.
pub fn apply(s: &Snapshot<'_>, classes: &mut Classes) {
    let view = s.view;
    let nodes = s.nodes();
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut name_of = |i: u32| names.entry(i).or_insert_with(|| s.text(i)).clone();
    let plain: Vec<u32> = (0..nodes.types.len() as u32)
        .filter(|&o| {
            let i = o as usize;
            super::Kinds::is(s.kinds.object, nodes.types[i])
                && s.strings.raw(s.data, nodes.names[i] as usize) == Some(b"Object".as_slice())
        })
        .collect();
    if plain.is_empty() {
        return;
    }
    let properties = |o: u32, name_of: &mut dyn FnMut(u32) -> String| -> Vec<String> {
        view.edges_of(o)
            .filter(|&e| view.edge_type(e) == EdgeType::Property)
            .map(|e| name_of(view.edges.names[e]))
            .collect()
    };

    // Candidates in the order first seen, which breaks ties in popularity.
    let mut candidates: Vec<(Definition, usize)> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for &o in &plain {
        let mut name = String::from("{");
        let mut name_len = 1;
        let mut kept = Vec::new();
        for property in properties(o, &mut name_of) {
            if property == "__proto__" {
                continue;
            }
            let formatted = format_property(&property);
            let formatted_len = js_len(&formatted);
            if name_len > MIN_INTERFACE_PROPERTY_COUNT
                && name_len + formatted_len > MAX_INTERFACE_NAME_LENGTH
            {
                break;
            }
            if name_len != 1 {
                name.push_str(", ");
                name_len += 2;
            }
            name.push_str(&formatted);
            name_len += formatted_len;
            kept.push(property);
        }
        if kept.is_empty() {
            continue;
        }
        name.push('}');
        match by_name.get(&name) {
            Some(&i) => candidates[i].1 += 1,
            None => {
                by_name.insert(name.clone(), candidates.len());
                candidates.push((
                    Definition {
                        name,
                        properties: kept,
                    },
                    1,
                ));
            }
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.1));
    let min_count = (MIN_OBJECT_COUNT_PER_INTERFACE as f64)
        .max(plain.len() as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE);
    let definitions: Vec<Definition> = candidates
        .into_iter()
        .take_while(|c| c.1 as f64 >= min_count)
        .map(|c| c.0)
        .collect();

    let tree = build_tree(&definitions);
    let mut table = Table {
        ids: classes
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect(),
        names: std::mem::take(&mut classes.names),
    };
    for &o in &plain {
        let mut props = properties(o, &mut name_of);
        props.sort_by(|a, b| js_cmp(a, b));
        if let Some(d) = best_match(&tree, &props) {
            classes.of[o as usize] = table.id(definitions[d].name.clone());
        }
    }
    classes.names = table.names;
}

fn build_tree(definitions: &[Definition]) -> Vec<TreeNode> {
    let mut tree = vec![TreeNode::default()];
    for (index, d) in definitions.iter().enumerate() {
        let mut properties = d.properties.clone();
        properties.sort_by(|a, b| js_cmp(a, b));
        let mut at = 0;
        for property in properties {
            at = match tree[at].next.get(&property) {
                Some(&next) => next,
                None => {
                    let next = tree.len();
                    tree.push(TreeNode::default());
                    let node = &mut tree[at];
                    if node
                        .greatest_next
                        .as_ref()
                        .is_none_or(|g| js_cmp(g, &property).is_lt())
                    {
                        node.greatest_next = Some(property.clone());
                    }
                    node.next.insert(property, next);
                    next
                }
            };
        }
        tree[at].matched.get_or_insert((d.properties.len(), index));
    }
    tree
}

/// The interface with the most properties among those `sorted` includes (the earlier one on a tie), as
/// an index into the definitions; `None` keeps the name `Object`.
fn best_match(tree: &[TreeNode], sorted: &[String]) -> Option<usize> {
    let better = |a: Option<(usize, usize)>, b: Option<(usize, usize)>| match (a, b) {
        (Some(a), Some(b)) => Some(if a.0 > b.0 || (a.0 == b.0 && a.1 <= b.1) {
            a
        } else {
            b
        }),
        (a, None) => a,
        (None, b) => b,
    };
    let mut best = tree[0].matched;
    let mut states = vec![0usize];
    for property in sorted {
        let current = states.clone();
        for state in current {
            let node = &tree[state];
            if node
                .greatest_next
                .as_ref()
                .is_none_or(|g| js_cmp(property, g).is_ge())
            {
                states.retain(|&s| s != state);
            }
            if let Some(&next) = node.next.get(property) {
                if !states.contains(&next) {
                    states.push(next);
                }
                best = better(best, tree[next].matched);
            }
        }
    }
    best.map(|(_, index)| index)
}

/// A property name as DevTools writes it in an interface name: quoted as JSON when it holds a comma, a
/// quote or a brace.
fn format_property(name: &str) -> String {
    if name.contains([',', '\'', '"', '{', '}']) {
        serde_json::to_string(name).unwrap_or_else(|_| name.to_string())
    } else {
        name.to_string()
    }
}
