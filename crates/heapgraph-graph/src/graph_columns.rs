//! The graph's columns in an index file: which arrays it keeps, under which names, and how they are
//! checked when they come back.
//!
//! Sizes and first targets are kept as the graph holds them (those shared by all of a type's objects
//! apart), the address directory as its arrays plus its two parameters when dense. The detail source's
//! arrays are the format's own; the format reopens them (`reopen` in [`Graph::from_columns`]).

use crate::address::{Addresses, Directory};
use crate::allocation_sites::AllocationSites;
use crate::by_type::SharedValues;
use crate::column::Column;
use crate::details::{NodeDetailSource, SavedDetails};
use crate::edge_labels::{EdgeLabels, WeakEdges};
use crate::graph::{CommonParts, Graph, GraphError, SavedGraph};
use crate::roots::{Root, RootKind};
use crate::saved::{same_lengths, MappedColumns, SavedColumns};
use crate::sizes::ShallowSizes;
use crate::strings::{StrId, Strings};
use crate::types::{NodeTypes, TypeInfo};

const ADDRESSES: &str = "graph.addresses";
const DIRECTORY_STARTS: &str = "graph.directory.starts";
const DIRECTORY_KEYS: &str = "graph.directory.keys";
/// A dense directory's base address and shift; absent for a sparse one.
const DIRECTORY_DENSE: &str = "graph.directory.dense";
const TYPES: &str = "graph.types";
const SIZES: &str = "graph.sizes";
const SIZES_BIG_NODES: &str = "graph.sizes.big_nodes";
const SIZES_BIG: &str = "graph.sizes.big";
const SIZES_SHARED: &str = "graph.sizes.shared";
const SIZES_SHARED_BITS: &str = "graph.sizes.shared_bits";
const EDGE_OFFSETS: &str = "graph.edges.offsets";
const EDGE_TARGETS: &str = "graph.edges.targets";
const EDGE_SHARED_FIRST: &str = "graph.edges.shared_first";
const EDGE_SHARED_BITS: &str = "graph.edges.shared_bits";
const EDGE_LABELS: &str = "graph.edges.labels";
const EDGE_WEAK: &str = "graph.edges.weak";
const ROOT_NODES: &str = "graph.roots.nodes";
const ROOT_KINDS: &str = "graph.roots.kinds";
const ROOT_NAMES: &str = "graph.roots.names";
const TYPE_MODULES: &str = "graph.type_table.modules";
const TYPE_NAMES: &str = "graph.type_table.names";
const TYPE_OBJECTS: &str = "graph.type_table.objects";
const STRING_TEXT: &str = "graph.strings.text";
const STRING_ENDS: &str = "graph.strings.ends";
const DETAILS_TEXT: &str = "details.text";
/// The detail source's `i`-th array of each element size is `details.<size>.<i>`.
const DETAILS_U64: &str = "details.u64";
const DETAILS_U32: &str = "details.u32";
const DETAILS_U8: &str = "details.u8";

impl Graph {
    /// Hands every array of the graph and of its detail source to `out`.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        let (directory, low) = self.addresses().saved();
        out.put(ADDRESSES, low);
        match directory {
            Directory::Dense {
                base,
                shift,
                starts,
            } => {
                out.put(DIRECTORY_STARTS, starts);
                out.put_owned(DIRECTORY_DENSE, vec![*base, *shift as u64]);
            }
            Directory::Sparse { keys, starts } => {
                out.put(DIRECTORY_STARTS, starts);
                out.put(DIRECTORY_KEYS, keys);
            }
        }
        match self.types() {
            NodeTypes::Narrow(types) => out.put(TYPES, types),
            NodeTypes::Wide(types) => out.put(TYPES, types),
        }
        let (sizes, shared_sizes) = self.raw().saved_sizes();
        let (big_nodes, big_sizes): (Vec<u32>, Vec<u64>) = sizes.big_entries().into_iter().unzip();
        out.put(SIZES, sizes.dense());
        out.put_owned(SIZES_BIG_NODES, big_nodes);
        out.put_owned(SIZES_BIG, big_sizes);
        put_shared(out, [SIZES_SHARED, SIZES_SHARED_BITS], shared_sizes);

        let (targets, shared_first) = self.raw().saved_targets();
        let (offsets, weak) = self.raw().forward_csr();
        out.put_owned(EDGE_OFFSETS, offsets.to_column());
        out.put(EDGE_TARGETS, targets);
        put_shared(out, [EDGE_SHARED_FIRST, EDGE_SHARED_BITS], shared_first);
        out.put_cow(EDGE_LABELS, self.all_labels());
        out.put(EDGE_WEAK, weak.saved());

        let roots = self.roots();
        out.put_owned(ROOT_NODES, roots.iter().map(|r| r.node).collect::<Vec<_>>());
        out.put_owned(
            ROOT_KINDS,
            roots.iter().map(|r| r.kind.code()).collect::<Vec<_>>(),
        );
        out.put_owned(
            ROOT_NAMES,
            roots.iter().map(|r| r.name.0).collect::<Vec<_>>(),
        );
        let table = self.type_table();
        out.put_owned(
            TYPE_MODULES,
            table.iter().map(|t| t.module.0).collect::<Vec<_>>(),
        );
        out.put_owned(
            TYPE_NAMES,
            table.iter().map(|t| t.name.0).collect::<Vec<_>>(),
        );
        out.put_owned(
            TYPE_OBJECTS,
            table.iter().map(|t| t.object).collect::<Vec<_>>(),
        );
        out.put(STRING_TEXT, self.strings().text().as_bytes());
        out.put_owned(STRING_ENDS, self.strings().ends().collect::<Vec<u64>>());

        let details = self.detail_source().saved();
        out.put_owned(DETAILS_TEXT, details.text.into_bytes());
        put_numbered(out, DETAILS_U64, details.u64s);
        put_numbered(out, DETAILS_U32, details.u32s);
        put_numbered(out, DETAILS_U8, details.u8s);
        self.allocation_sites().save(out);
    }

    /// The graph [`Graph::save`] wrote, checked as [`Graph::from_parts`] checks a reader's, so that a
    /// forged file is refused rather than trusted. `reopen` makes the detail source from its saved
    /// arrays (the format's business); `None` from it means they do not fit the dump.
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        reopen: impl FnOnce(SavedDetails) -> Option<Box<dyn NodeDetailSource>>,
    ) -> Result<Graph, GraphError> {
        let strings = Strings::from_saved(
            columns.text(STRING_TEXT)?,
            &columns.column::<u64>(STRING_ENDS)?,
        )
        .map_err(GraphError::Saved)?;

        let (modules, names) = (
            columns.column::<u32>(TYPE_MODULES)?,
            columns.column::<u32>(TYPE_NAMES)?,
        );
        let objects = columns.column::<u64>(TYPE_OBJECTS)?;
        same_lengths("type table", &[modules.len(), names.len(), objects.len()])?;
        let type_table = (0..names.len())
            .map(|i| TypeInfo {
                module: StrId(modules[i]),
                name: StrId(names[i]),
                object: objects[i],
            })
            .collect();

        let nodes = columns.column::<u32>(ROOT_NODES)?;
        let (kinds, root_names) = (
            columns.column::<u32>(ROOT_KINDS)?,
            columns.column::<u32>(ROOT_NAMES)?,
        );
        same_lengths("root table", &[nodes.len(), kinds.len(), root_names.len()])?;
        let roots = (0..nodes.len())
            .map(|i| {
                Ok(Root {
                    node: nodes[i],
                    kind: RootKind::from_code(kinds[i])
                        .ok_or_else(|| GraphError::Saved("a root has an unknown kind".into()))?,
                    name: StrId(root_names[i]),
                })
            })
            .collect::<Result<Vec<Root>, GraphError>>()?;

        let big_nodes = columns.column::<u32>(SIZES_BIG_NODES)?;
        let big_sizes = columns.column::<u64>(SIZES_BIG)?;
        same_lengths("big sizes", &[big_nodes.len(), big_sizes.len()])?;
        let sizes = ShallowSizes::from_saved(
            columns.column(SIZES)?,
            big_nodes.iter().copied().zip(big_sizes.iter().copied()),
        );

        let starts = columns.column(DIRECTORY_STARTS)?;
        let directory = match columns.contains(DIRECTORY_DENSE) {
            true => match columns.column::<u64>(DIRECTORY_DENSE)?[..] {
                [base, shift] => Directory::Dense {
                    base,
                    shift: u32::try_from(shift).map_err(|_| {
                        GraphError::Saved("its address directory's shift is out of range".into())
                    })?,
                    starts,
                },
                _ => {
                    return Err(GraphError::Saved(
                        "its address directory is misshapen".into(),
                    ))
                }
            },
            false => Directory::Sparse {
                keys: columns.column(DIRECTORY_KEYS)?,
                starts,
            },
        };
        let details = SavedDetails {
            text: columns.text(DETAILS_TEXT)?,
            u64s: numbered(columns, DETAILS_U64)?,
            u32s: numbered(columns, DETAILS_U32)?,
            u8s: numbered(columns, DETAILS_U8)?,
        };
        let details = reopen(details).ok_or_else(|| {
            GraphError::Saved("its object details do not fit the dump's format".into())
        })?;
        let offsets: Column<u32> = columns.column(EDGE_OFFSETS)?;
        let edge_count = offsets.last().map_or(0, |&o| o as usize);
        let types = match columns.elem_size(TYPES) {
            Some(2) => NodeTypes::Narrow(columns.column(TYPES)?),
            _ => NodeTypes::Wide(columns.column(TYPES)?),
        };
        let weak = WeakEdges::from_saved(columns.column(EDGE_WEAK)?, edge_count)
            .map_err(GraphError::Saved)?;
        let common = CommonParts {
            addresses: Addresses::from_saved(directory, columns.column(ADDRESSES)?)
                .map_err(GraphError::Saved)?,
            types,
            labels: EdgeLabels::saved(columns.column(EDGE_LABELS)?, weak),
            roots,
            type_table,
            strings,
            details,
        };
        Graph::from_saved(SavedGraph {
            common,
            stored_sizes: sizes,
            shared_sizes: shared(columns, [SIZES_SHARED, SIZES_SHARED_BITS])?,
            offsets,
            stored_targets: columns.column(EDGE_TARGETS)?,
            shared_first: shared(columns, [EDGE_SHARED_FIRST, EDGE_SHARED_BITS])?,
        })?
        .with_allocation_sites(AllocationSites::from_columns(columns)?)
    }
}

fn put_shared<'a>(out: &mut SavedColumns<'a>, [values, bits]: [&str; 2], shared: SharedValues) {
    out.put_owned(values, shared.by_type);
    out.put_owned(bits, shared.bits);
}

fn shared(
    columns: &MappedColumns<'_>,
    [values, bits]: [&str; 2],
) -> Result<SharedValues, GraphError> {
    Ok(SharedValues {
        by_type: columns.column(values)?,
        bits: columns.column(bits)?,
    })
}

fn put_numbered<T: crate::Plain>(out: &mut SavedColumns<'_>, base: &str, arrays: Vec<Column<T>>) {
    for (i, array) in arrays.into_iter().enumerate() {
        out.put_owned(format!("{base}.{i}"), array);
    }
}

/// The arrays `put_numbered` wrote under `base`, as many as there are.
fn numbered<T: crate::Plain>(
    columns: &MappedColumns<'_>,
    base: &str,
) -> Result<Vec<Column<T>>, GraphError> {
    (0..)
        .map(|i| format!("{base}.{i}"))
        .take_while(|name| columns.contains(name))
        .map(|name| columns.column(&name))
        .collect()
}
