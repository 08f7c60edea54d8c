#!/bin/sh
# Benchmarks heapgraph's full analysis of a V8 heap snapshot next to memlab's, in one run, on the same file
# and the same warm page cache: `heapgraph top` (parse, dominator tree, retained sizes, the objects
# retaining the most) and memlab_top.js (memlab's getFullHeapFromFile, then the same question), one after
# the other RUNS times. Prints one markdown row per run (wall seconds and peak RSS from /usr/bin/time),
# then the ratio of the medians.
#
# Usage: bench_v8.sh SNAPSHOT MEMLAB_NODE_MODULES [RUNS]
#   node --max-old-space-size=8192 testdata/v8/make_fixture.js /work/big/large.heapsnapshot 3000000
#   (cd /tmp/memlab && PUPPETEER_SKIP_DOWNLOAD=1 npm install @memlab/heap-analysis@2.0.5)
#   PATH=$PWD/target/release:$PATH sh bench/bench_v8.sh /work/big/large.heapsnapshot /tmp/memlab/node_modules 3
set -eu
snapshot=$1
modules=$2
runs=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "$snapshot" >/dev/null   # warm the page cache
. "$(dirname "$0")/measure.sh"
pairs heapgraph "heapgraph top --no-index $snapshot" \
    memlab "env NODE_PATH=$modules node --max-old-space-size=16384 $here/memlab_top.js $snapshot"
