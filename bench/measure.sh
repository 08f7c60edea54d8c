# Sourced by the benchmark scripts (bench/bench_*.sh, paired.sh). Needs $runs and a scratch directory $out.
#
# `pairs NAME COMMAND PEER PEER_COMMAND` runs the two commands (each one string, run through `eval`)
# alternately, $runs times each, so that the load of a shared machine falls on both alike, and prints a
# markdown table with a row per run (wall seconds and peak RSS from /usr/bin/time), then one line comparing the
# medians: how many times faster NAME is, and how much memory it takes. A command not installed or
# failing gets a row saying so, and no comparison.
pairs() {
    rm -f "$out"/runs.*
    echo "| tool | command | wall s | peak RSS MiB |"
    echo "|---|---|---|---|"
    i=0
    while [ "$i" -lt "$runs" ]; do
        run_once "$1" "$2" && run_once "$3" "$4" || return 0
        i=$((i + 1))
    done
    [ -s "$out/runs.$1" ] || return 0
    w1=$(median_field "$1" 1) k1=$(median_field "$1" 2)
    w2=$(median_field "$3" 1) k2=$(median_field "$3" 2)
    awk -v a="$1" -v b="$3" -v n="$runs" -v w1="$w1" -v w2="$w2" -v k1="$k1" -v k2="$k2" 'BEGIN {
        printf "\n%s vs %s (medians of %d alternating pairs): %.2f s vs %.2f s, %.1fx faster; %d vs %d MiB peak RSS, %.2fx the memory\n\n",
            a, b, n, w1, w2, w2 / (w1 > 0 ? w1 : 0.01), k1 / 1024, k2 / 1024, k1 / (k2 > 0 ? k2 : 1)
    }'
}

# One run of the command string $2 under the name $1: a row, and "wall kib" appended to $out/runs.$1.
run_once() {
    set -- "$1" "$2" $2
    command -v "$3" >/dev/null || { echo "| $1 | $2 | not installed | |"; return 1; }
    eval "/usr/bin/time -f '%e %M' -o '$out/time' $2" >"$out/stdout" 2>"$out/stderr" ||
        { echo "| $1 | $2 | failed: $(tail -1 "$out/stderr") | |"; return 1; }
    read -r wall kib <"$out/time"
    echo "| $1 | \`$2\` | $wall | $((kib / 1024)) |"
    echo "$wall $kib" >>"$out/runs.$1"
}

# The median of field $2 (1: wall seconds, 2: peak KiB) of NAME $1's runs.
median_field() { cut -d' ' -f"$2" "$out/runs.$1" | median; }

# The median of the numbers on standard input, one per line.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
