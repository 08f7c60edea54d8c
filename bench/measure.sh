# Sourced by the benchmark scripts (bench/bench_*.sh). Needs $runs and a scratch directory $out.
#
# `measure NAME COMMAND...` runs COMMAND $runs times and prints one markdown row per run, wall seconds and
# peak RSS from /usr/bin/time; a command not installed or failing gets a row saying so. The fastest run
# of each NAME is remembered (in $out/best.NAME) for `ratio`.
#
# `ratio NAME PEER` prints one line comparing NAME's fastest run with PEER's: how many times faster and
# how much memory, or says which one has no figure.
measure() {
    name=$1
    shift
    command -v "$1" >/dev/null || { echo "| $name | $* | not installed | |"; return; }
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -f "%e %M" -o "$out/time" "$@" >"$out/stdout" 2>"$out/stderr" ||
            { echo "| $name | $* | failed: $(tail -1 "$out/stderr") | |"; return; }
        read -r wall kib <"$out/time"
        echo "| $name | \`$*\` | $wall | $((kib / 1024)) |"
        if [ ! -f "$out/best.$name" ] || awk -v w="$wall" '{ exit !(w < $1) }' "$out/best.$name"; then
            echo "$wall $kib" >"$out/best.$name"
        fi
        i=$((i + 1))
    done
}

ratio() {
    for n in "$1" "$2"; do
        [ -f "$out/best.$n" ] || { echo "$1 vs $2: no figure for $n"; return; }
    done
    read -r w1 k1 <"$out/best.$1"
    read -r w2 k2 <"$out/best.$2"
    awk -v a="$1" -v b="$2" -v w1="$w1" -v w2="$w2" -v k1="$k1" -v k2="$k2" 'BEGIN {
        printf "%s vs %s (best runs): %.2f s vs %.2f s, %.1fx faster; %d vs %d MiB peak RSS, %.2fx the memory\n",
            a, b, w1, w2, w2 / (w1 > 0 ? w1 : 0.01), k1 / 1024, k2 / 1024, k1 / (k2 > 0 ? k2 : 1)
    }'
}
