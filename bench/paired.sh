#!/bin/sh
# Two builds of heapgraph measured in pairs on each dump: `top --no-index` with BEFORE, then AFTER, RUNS
# times, alternating so that the load of a shared machine falls on both alike. Prints one markdown row per
# dump and build: the median wall time, median CPU time (user + system) and median peak RSS (from
# /usr/bin/time -v), and checks that both builds print the same bytes.
#
# Usage: paired.sh BEFORE AFTER RUNS DUMP...
#   sh bench/paired.sh /tmp/heapgraph-main target/release/heapgraph 3 /work/big/big.hprof /work/big/m10.hgd
set -eu
before=$1 after=$2 runs=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# One run: appends "wall cpu kib" to $out/$2.times, keeps stdout in $out/$2.out.
measure() {
    /usr/bin/time -v "$1" top --no-index "$3" >"$out/$2.out" 2>"$out/time" ||
        { echo "failed: $1 top --no-index $3: $(tail -1 "$out/time")" >&2; exit 1; }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + p[i] }
        /User time/ { cpu += $2 } /System time/ { cpu += $2 }
        /Maximum resident set size/ { kib = $2 }
        END { print wall, cpu, kib }' "$out/time" >>"$out/$2.times"
}
. "$(dirname "$0")/measure.sh"   # median
echo "| dump | build | wall s (median of $runs) | CPU s | peak RSS MiB | runs: wall s |"
echo "|---|---|---|---|---|---|"
for dump in "$@"; do
    cat "$dump" >/dev/null   # warm the page cache
    rm -f "$out"/*.times
    i=0
    while [ $i -lt "$runs" ]; do
        measure "$before" before "$dump"
        measure "$after" after "$dump"
        cmp -s "$out/before.out" "$out/after.out" || { echo "$dump: the two builds print different reports" >&2; exit 1; }
        i=$((i + 1))
    done
    for build in before after; do
        f=$out/$build.times
        echo "| $(basename "$dump") | $build | $(cut -d' ' -f1 "$f" | median) | $(cut -d' ' -f2 "$f" | median) | $(($(cut -d' ' -f3 "$f" | median) / 1024)) | $(cut -d' ' -f1 "$f" | tr '\n' ' ')|"
    done
done
