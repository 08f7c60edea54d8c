//! Integration tests of heapgraph-analysis: one binary, so the shared oracles compile once.

mod dominators;
mod reports;
mod retainer_tree;
mod scale;
mod sites;
mod support;
