#!/bin/sh
# Benchmarks the index on one dump of any format, in one run on the same warm page cache: the
# first command (load, analyse, write DUMP.hgi), then `types`, `top`, `retainers TYPE` and `path ADDRESS`
# each without the index (--no-index: load and analyse again) and from the warm index. Prints one markdown
# row per question: best wall seconds of RUNS and its peak RSS, and how many times faster the index is.
#
# Usage: bench_index.sh DUMP TYPE ADDRESS [RUNS]
#   python3 testdata/python/make_large_heap.py crates/heapgraph-formats/python 10000000 /tmp/m10.hgd
#   PATH=$PWD/target/release:$PATH sh bench/bench_index.sh /tmp/m10.hgd Record 0x7f... 3
# ADDRESS: any object's, e.g. from `heapgraph top DUMP --json`.
set -eu
dump=$1
type=$2
address=$3
runs=${4:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "$dump" >/dev/null   # warm the page cache

# best COMMAND...: runs it $runs times (stdout discarded); sets $wall and $mib to the fastest run's.
best() {
    wall=
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -f "%e %M" -o "$out/time" "$@" >/dev/null 2>"$out/stderr" ||
            { echo "failed: $* : $(tail -1 "$out/stderr")" >&2; exit 1; }
        read -r w kib <"$out/time"
        if [ -z "$wall" ] || awk "BEGIN { exit !($w < $wall) }"; then
            wall=$w
            mib=$((kib / 1024))
        fi
        i=$((i + 1))
    done
}

index="$dump.hgi"
rm -f "$index"
/usr/bin/time -f "%e %M" -o "$out/time" heapgraph top "$dump" >/dev/null 2>"$out/stderr"
read -r first kib <"$out/time"
echo "First command, \`heapgraph top $dump\` (load, analyse, write the index): $first s, $((kib / 1024)) MiB;" \
    "index $(($(stat -c %s "$index") / 1048576)) MiB."
echo
echo "| question | --no-index: wall s | peak RSS MiB | warm index: wall s | peak RSS MiB | faster |"
echo "|---|---|---|---|---|---|"
for question in "types" "top" "retainers $type" "path $address"; do
    # shellcheck disable=SC2086 # the question is words on purpose
    set -- $question
    command=$1
    shift
    best heapgraph "$command" "$dump" "$@" --no-index
    cold_wall=$wall cold_mib=$mib
    best heapgraph "$command" "$dump" "$@"
    echo "| \`$question\` | $cold_wall | $cold_mib | $wall | $mib | $(awk "BEGIN { printf \"%.0f\", $cold_wall / ($wall > 0 ? $wall : 0.01) }")x |"
done
