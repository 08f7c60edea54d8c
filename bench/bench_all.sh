#!/bin/sh
# The whole benchmark harness, in one run on this machine: makes the large dumps of each format
# in DIR (skipping any already there), then on each dump measures heapgraph next to the installed peers,
# and the index's second and later commands. Prints markdown tables for docs/benchmarks.md; every figure
# is the command above it, best of RUNS where it says so.
#
# Usage: bench_all.sh DIR [RUNS] [MEMLAB_NODE_MODULES]
#   cargo build --release
#   cargo install hprof-slurp; cargo install hprof-analyzer --locked      # optional Java peers
#   (cd /tmp/memlab && PUPPETEER_SKIP_DOWNLOAD=1 npm install @memlab/heap-analysis@2.0.5)   # optional
#   PATH=$PWD/target/release:$PATH sh bench/bench_all.sh /work/big 3 /tmp/memlab/node_modules
# Needs about 6 GB free in DIR and 10 GB of memory (the JVM making the HPROF dump takes 8 GB of heap).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mkdir -p "$1" && cd "$1" && pwd)
runs=${2:-3}
memlab=${3:-}
command -v heapgraph >/dev/null || { echo "heapgraph is not on PATH: cargo build --release, then PATH=\$PWD/target/release:\$PATH" >&2; exit 1; }

# The address of one instance of TYPE in DUMP, for `path`: the last step of the retainers report's first
# chain followed to its end.
address_of() {
    heapgraph retainers "$1" "$2" --json --no-index | python3 -c '
import json, sys
branch = json.load(sys.stdin)["branches"][0]
while branch["children"]:
    branch = branch["children"][0]
print(branch["steps"][-1]["address"])'
}

section() { printf '\n## %s\n\n' "$1"; }

# Python: 10M objects (~720 MB).
[ -f "$dir/m10.hgd" ] ||
    python3 "$here/../testdata/python/make_large_heap.py" "$here/../crates/heapgraph-formats/python" 10000000 "$dir/m10.hgd" >&2
# Java: ~20M objects (~1.7 GB).
[ -f "$dir/big.hprof" ] || sh "$here/../testdata/java/make_big_dump.sh" "$dir" >&2
# V8: 3M Leaky objects (~9M nodes).
[ -f "$dir/large.heapsnapshot" ] ||
    node --max-old-space-size=8192 "$here/../testdata/v8/make_fixture.js" "$dir/large.heapsnapshot" 3000000 >&2

section "Java: $dir/big.hprof next to hprof-analyzer and hprof-slurp"
sh "$here/bench_hprof.sh" "$dir/big.hprof" "$runs"
if [ -n "$memlab" ]; then
    section "V8: $dir/large.heapsnapshot next to memlab"
    sh "$here/bench_v8.sh" "$dir/large.heapsnapshot" "$memlab" "$runs"
fi
for spec in "m10.hgd Record" "big.hprof BigHeap\$Order" "large.heapsnapshot Leaky"; do
    set -- $spec
    section "The index on $dir/$1"
    sh "$here/bench_index.sh" "$dir/$1" "$2" "$(address_of "$dir/$1" "$2")" "$runs"
done
