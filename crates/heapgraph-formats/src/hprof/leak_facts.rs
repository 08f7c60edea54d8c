//! Java objects whose own fields say the program is done with them: a stream, file, socket or channel
//! already closed, an Android Activity already destroyed. Each is a boolean field the class sets once
//! and never clears, so an instance with it set that is still reachable is held by mistake.

use super::classes::ClassTable;
use super::decode::Decoder;
use super::records::Records;
use super::subrecords::{value_size, HeapObject};
use crate::record_offsets::RecordOffsets;
use heapgraph_graph::{LeakFact, LeakFacts, NodeId, TypeId};
use rayon::prelude::*;
use std::collections::HashMap;

/// A boolean instance field (declaring class, field name) and the fact it proves when true.
const RULES: [(&str, &str, LeakFact); 7] = [
    ("java.io.FileInputStream", "closed", LeakFact::FileClosed),
    ("java.io.FileOutputStream", "closed", LeakFact::FileClosed),
    ("java.io.RandomAccessFile", "closed", LeakFact::FileClosed),
    ("java.net.Socket", "closed", LeakFact::SocketClosed),
    ("java.net.ServerSocket", "closed", LeakFact::SocketClosed),
    (
        "java.nio.channels.spi.AbstractInterruptibleChannel",
        "closed",
        LeakFact::ChannelClosed,
    ),
    (
        "android.app.Activity",
        "mDestroyed",
        LeakFact::ActivityDestroyed,
    ),
];

const TYPE_BOOLEAN: u8 = 4;

/// The facts the instances of the dump's classes state, read from their sub-records. Costs one pass
/// over the node types (a few milliseconds for 20M objects, in parallel) and a read of each matching
/// instance.
pub fn find(
    classes: &ClassTable,
    records: &Records,
    decoder: &Decoder<'_>,
    types: &[TypeId],
    offsets: &RecordOffsets,
) -> LeakFacts {
    let checks = field_checks(classes, records, decoder.data, decoder.id_size);
    if checks.is_empty() {
        return LeakFacts::default();
    }
    let facts = types.par_iter().enumerate().filter_map(|(node, &ty)| {
        let (at, fact) = (*checks.get(ty as usize)?)?;
        match decoder.object_at(offsets.at(node)) {
            Ok(HeapObject::Instance { fields, .. }) if fields.get(at) == Some(&1) => {
                Some((node as NodeId, fact as u8))
            }
            _ => None,
        }
    });
    LeakFacts::new(facts.collect())
}

/// Per type, when its class has a rule's field, itself or through a superclass: where the field's byte
/// is in its instances' payload, and the fact it proves. Empty when no class has one.
fn field_checks(
    classes: &ClassTable,
    records: &Records,
    data: &[u8],
    id_size: usize,
) -> Vec<Option<(usize, LeakFact)>> {
    let field_name = |id: u64| records.text(data, id).unwrap_or_default();
    let declared: HashMap<u32, (usize, LeakFact)> = RULES
        .iter()
        .filter_map(|&(class, field, fact)| {
            let i = classes.classes.iter().position(|c| c.name == class)?;
            let mut at = 0;
            for &(name, ty) in &classes.classes[i].dump.fields {
                if ty == TYPE_BOOLEAN && field_name(name) == field {
                    return Some((i as u32, (at, fact)));
                }
                at += value_size(ty, id_size)?;
            }
            None
        })
        .collect();
    if declared.is_empty() {
        return Vec::new();
    }
    // A payload holds the class's own fields, then its superclass's, up to java.lang.Object.
    let mut checks = vec![None; classes.classes.len()];
    for (i, start) in classes.classes.iter().enumerate() {
        let (mut class, mut skipped) = (start, 0usize);
        for _ in 0..=classes.classes.len() {
            let index = classes.by_id[&class.dump.id];
            if let Some(&(at, fact)) = declared.get(&index) {
                checks[i] = Some((skipped + at, fact));
                break;
            }
            let own: usize = class
                .dump
                .fields
                .iter()
                .map(|&(_, ty)| value_size(ty, id_size).unwrap_or(0))
                .sum();
            skipped += own;
            match classes.by_id.get(&class.dump.super_id) {
                Some(&s) => class = &classes.classes[s as usize],
                None => break,
            }
        }
    }
    checks
}
