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
# A group's wall time is the length of the union of its steps' intervals (steps side by side, or one
# inside another, count once); its CPU time adds, per stretch of that union, the process's CPU seconds
# from the stretch's first start to its last end.
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
            k = ++count[g]
            s[g, k] = $3; e[g, k] = $4; cs[g, k] = $7 - $6; ce[g, k] = $7
        }
        END {
            n = split(groups, order, "|")
            for (i = 1; i <= n; i++) {
                g = order[i]
                if (!(g in count)) { print "-"; continue }
                # Insertion sort of the steps by start, then one sweep merging overlaps.
                m = count[g]
                for (a = 2; a <= m; a++)
                    for (b = a; b > 1 && s[g, b] < s[g, b - 1]; b--) {
                        t = s[g, b]; s[g, b] = s[g, b - 1]; s[g, b - 1] = t
                        t = e[g, b]; e[g, b] = e[g, b - 1]; e[g, b - 1] = t
                        t = cs[g, b]; cs[g, b] = cs[g, b - 1]; cs[g, b - 1] = t
                        t = ce[g, b]; ce[g, b] = ce[g, b - 1]; ce[g, b - 1] = t
                    }
                wall = 0; cpu = 0
                os = s[g, 1]; oe = e[g, 1]; ocs = cs[g, 1]; oce = ce[g, 1]
                for (a = 2; a <= m; a++) {
                    if (s[g, a] < oe) {
                        if (e[g, a] > oe) { oe = e[g, a]; oce = ce[g, a] }
                        continue
                    }
                    wall += oe - os; cpu += oce - ocs
                    os = s[g, a]; oe = e[g, a]; ocs = cs[g, a]; oce = ce[g, a]
                }
                printf "%.2f / %.2f\n", wall + oe - os, cpu + oce - ocs
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
