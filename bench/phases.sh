#!/bin/sh
# Where `heapgraph top --no-index` spends its time on each dump: one markdown table, a column per dump, a
# row per phase (from the hidden `--timings` flag, its steps grouped as below), each "wall s / CPU s":
# CPU time counts every thread, so 2x the wall time means both cores worked. Above them the physical
# limit: reading the file from the page cache, and for HPROF the plain record scan that counts objects per
# class (`types --shallow`); below, the whole command's wall time, CPU time and peak RSS (/usr/bin/time).
# Steps of a group that overlap count once, from the first one's start to the last one's end.
#
# Usage: phases.sh DUMP...     (heapgraph found on PATH)
#   PATH=$PWD/target/release:$PATH sh bench/phases.sh /work/big/big.hprof /work/big/m10.hgd /work/big/large.heapsnapshot
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
groups="read and scan|address resolution|types and names|graph build|dominators|retained sizes|shortest paths|report"
# "wall s / CPU s" of `$@`, its peak RSS in MiB in $out/kib; its stderr kept in $out/stderr.
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" >/dev/null 2>"$out/stderr" ||
        { echo "failed: $*: $(tail -1 "$out/stderr")" >&2; exit 1; }
    read -r wall user sys kib <"$out/time"
    echo "$kib" >"$out/kib"
    awk -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f / %.2f\n", w, u + s }'
}
# One value per group of timings lines, in the order of $groups ("-" for a group the command skipped).
group_times() {
    awk -v groups="$groups" '
        function group(name) {
            if (name ~ /^(walking records|scanning heap records|scanning records|indexing strings|parsing (nodes|edges))$/) return "read and scan"
            if (name ~ /^(numbering|roots|resolving references)/) return "address resolution"
            if (name ~ /^(types|DevTools shallow sizes|edge names)/) return "types and names"
            if (name ~ /^graph build$/) return "graph build"
            if (name ~ /^dominators/) return "dominators"
            if (name ~ /^retained sizes/) return "retained sizes"
            if (name ~ /^shortest paths$/) return "shortest paths"
            if (name ~ /^(top retainers|report)$/) return "report"
            return ""
        }
        $1 == "heapgraph:" && $2 == "timings:" && $3 ~ /^[0-9]/ {
            name = $0; for (i = 0; i < 9; i++) sub(/^ *[^ ]+ +/, "", name)
            g = group(name)
            if (g == "") next
            start = $3; end = $4; cpu_start = $7 - $6; cpu_end = $7
            # Steps of a group that overlap (side by side, or one inside another) count once, from the
            # first start to the last end; a step after them starts a new stretch.
            if ((g in open) && start < oe[g]) {
                if (start < os[g]) { os[g] = start; ocs[g] = cpu_start }
                if (end > oe[g]) { oe[g] = end; oce[g] = cpu_end }
                next
            }
            if (g in open) { wall[g] += oe[g] - os[g]; cpu[g] += oce[g] - ocs[g] }
            open[g] = 1; os[g] = start; oe[g] = end; ocs[g] = cpu_start; oce[g] = cpu_end
        }
        END {
            n = split(groups, order, "|")
            for (i = 1; i <= n; i++) {
                g = order[i]
                if (g in open) printf "%.2f / %.2f\n", wall[g] + oe[g] - os[g], cpu[g] + oce[g] - ocs[g]; else print "-"
            }
        }' "$1"
}
header="| phase, wall s / CPU s |"
rule="|---|"
rows=$(echo "$groups" | tr '|' '\n' | sed 's/^/| /; s/$/ |/')
limits="| limit: \`cat DUMP\` from page cache, wall s |"
scan="| limit: record scan, \`types --shallow\` |"
whole="| whole command |"
peak="| peak RSS MiB |"
for dump in "$@"; do
    cat "$dump" >/dev/null   # warm the page cache
    header="$header $(basename "$dump") ($(($(stat -c %s "$dump") / 1048576)) MiB) |"
    rule="$rule---|"
    limits="$limits $(timed cat "$dump" | cut -d' ' -f1) |"
    case "$dump" in
    *.hprof) scan="$scan $(timed heapgraph types --shallow --no-index "$dump") |" ;;
    *) scan="$scan - |" ;;
    esac
    whole="$whole $(timed heapgraph top --no-index --timings "$dump") |"
    peak="$peak $(($(cat "$out/kib") / 1024)) |"
    rows=$(group_times "$out/stderr" | paste -d' ' /dev/fd/3 - 3<<EOF_ROWS | sed 's/$/ |/'
$rows
EOF_ROWS
)
done
printf '%s\n' "$header" "$rule" "$limits" "$scan" "$rows" "$whole" "$peak"
