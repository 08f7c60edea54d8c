# Sourced by the benchmark scripts (testdata/*/bench_*.sh): `measure NAME COMMAND...` runs COMMAND $runs
# times and prints one markdown row per run, wall seconds and peak RSS from /usr/bin/time; a command not
# installed or failing gets a row saying so. Needs $runs and a scratch directory $out.
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
        i=$((i + 1))
    done
}
