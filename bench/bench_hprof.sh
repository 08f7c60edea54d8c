#!/bin/sh
# Benchmarks heapgraph on an HPROF dump next to the Rust peers, in one run, on the same file and the same
# warm page cache: the full analysis (histogram, dominators, retained sizes, top retainers: `heapgraph top`)
# next to hprof-analyzer's default report, and the shallow histogram (`heapgraph types --shallow`) next to
# hprof-slurp, each pair one after the other RUNS times. Prints one markdown row per run (wall seconds and
# peak RSS from /usr/bin/time), then each pair's ratio of medians.
#
# Usage: bench_hprof.sh DUMP [RUNS]      (peers found on PATH; missing ones are skipped)
#   sh testdata/java/make_big_dump.sh /work/big            # ~20M objects, ~1.7 GB
#   cargo build --release
#   cargo install hprof-slurp; cargo install hprof-analyzer --locked
#   PATH=$PWD/target/release:$PATH sh bench/bench_hprof.sh /work/big/big.hprof 3
set -eu
dump=$1
runs=${2:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "$dump" >/dev/null   # warm the page cache
. "$(dirname "$0")/measure.sh"
pairs heapgraph-top "heapgraph top --no-index $dump" hprof-analyzer "hprof-analyzer $dump $out/report.md"
pairs heapgraph-shallow "heapgraph types --shallow $dump" hprof-slurp "hprof-slurp $dump"
