#!/bin/sh
# Where `heapgraph top --no-index` spends its time on each dump: one markdown table per dump, a row per
# phase (its start and end in seconds since the command started, its wall time, the resident set at its
# end and the peak so far, from the hidden `--timings` flag), with the physical limit beside it: reading
# the file from the page cache, and for HPROF the plain record scan (`types --shallow`). Phases that ran
# side by side on the two cores overlap in their start and end. Then the whole command's wall time, CPU
# time and peak RSS (/usr/bin/time).
#
# Usage: phases.sh DUMP...     (heapgraph found on PATH)
#   PATH=$PWD/target/release:$PATH sh bench/phases.sh /work/big/big.hprof /work/big/m10.hgd /work/big/large.heapsnapshot
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" >/dev/null 2>"$out/stderr" ||
        { echo "failed: $*: $(tail -1 "$out/stderr")" >&2; exit 1; }
    read -r wall user sys kib <"$out/time"
    awk -v w="$wall" -v u="$user" -v s="$sys" -v k="$kib" 'BEGIN { printf "%.2f s wall, %.2f s CPU, %d MiB peak RSS\n", w, u + s, k / 1024 }'
}
for dump in "$@"; do
    cat "$dump" >/dev/null   # warm the page cache
    echo "### $(basename "$dump") ($(($(stat -c %s "$dump") / 1048576)) MiB)"
    echo
    echo "| phase | start s | end s | wall s | RSS at end MiB | peak so far MiB |"
    echo "|---|---|---|---|---|---|"
    echo "| limit: \`cat DUMP >/dev/null\` from page cache | | | $(timed cat "$dump" | cut -d' ' -f1) | | |"
    case "$dump" in
    *.hprof) echo "| limit: record scan, \`heapgraph types --shallow --no-index\` | | | $(timed heapgraph types --shallow --no-index "$dump") | | |" ;;
    esac
    whole=$(timed heapgraph top --no-index --timings "$dump")
    sed -n 's/^heapgraph: timings: *\([0-9][0-9.]*\) *\([0-9.]*\) *\([0-9.]*\) *\([0-9?]*\) *\([0-9?]*\)  \(.*\)$/| \6 | \1 | \2 | \3 | \4 | \5 |/p' "$out/stderr"
    echo
    echo "\`heapgraph top --no-index\`: $whole."
    echo
done
