//! The shallow histogram straight from pass 1: objects counted by class as segments are framed, then
//! sized once the layout is known. No object list, no graph: for a first look at a big dump this is all
//! the work there is (hprof-slurp's niche), and its counts, sizes and type ids are the graph's own.

use super::classes::ClassTable;
use super::scan::Keep;
use super::FirstPass;
use crate::{Format, LoadError, LoadProgress, ShallowHistogram, TypeTally};
use heapgraph_graph::TypeId;
use std::fs::File;
use std::path::Path;

pub(crate) fn histogram(
    path: &Path,
    file: File,
    format: Format,
    heap: Option<u32>,
    progress: &dyn LoadProgress,
) -> Result<ShallowHistogram, LoadError> {
    let first = FirstPass::read(path, &file, heap, Keep::Tally, progress)?;
    let mut tallies = vec![(0u64, 0u64); first.classes.types.len()];
    let mut count = |ty: TypeId, n: u64, size: u64| {
        let slot = &mut tallies[ty as usize];
        slot.0 += n;
        slot.1 += n * size;
    };
    let classes = &first.classes;
    for (&class, &n) in &first.scan.tally.instances {
        let i = class_index(path, classes, class, "instances")?;
        count(i as TypeId, n, classes.classes[i].instance_size);
    }
    for (&(class, len), &n) in &first.scan.tally.object_arrays {
        let i = class_index(path, classes, class, "object arrays")?;
        count(i as TypeId, n, first.layout.object_array(len));
    }
    for (&(elem, len), &n) in &first.scan.tally.primitive_arrays {
        let size = first.layout.primitive_array(elem, len);
        count(classes.primitive_types[elem as usize], n, size);
    }
    for c in &classes.classes {
        count(classes.class_type, 1, c.mirror_size);
    }
    let strings = first.interner.strings();
    let types = tallies
        .iter()
        .enumerate()
        .filter(|(_, t)| t.0 > 0)
        .map(|(ty, &(count, bytes))| TypeTally {
            type_id: ty as TypeId,
            name: classes.types[ty].qualified_name(strings),
            count,
            bytes,
        })
        .collect();
    Ok(ShallowHistogram {
        format,
        types,
        warnings: first.warnings,
    })
}

fn class_index(
    path: &Path,
    classes: &ClassTable,
    class: u64,
    what: &str,
) -> Result<usize, LoadError> {
    match classes.by_id.get(&class) {
        Some(&i) => Ok(i as usize),
        None => Err(LoadError::new(
            path,
            None,
            format!(
                "{what} have class {class:#x}, which no CLASS DUMP describes: the dump is corrupt"
            ),
        )),
    }
}
