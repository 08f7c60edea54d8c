#!/bin/sh
# Makes a big HPROF dump for benchmarks (never committed): BigHeap with ORDERS orders (about 12 objects
# each), then the JVM's class histogram and a heap dump with jcmd.
# Usage: make_big_dump.sh OUT_DIR [ORDERS]  -> OUT_DIR/big.hprof, OUT_DIR/big.histogram.txt
# 1,700,000 orders make ~20M objects and a ~1.7 GB dump; the JVM needs ~3 GB of heap for it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$1" && pwd)
orders=${2:-1700000}
javac -d "$out/classes" "$here/BigHeap.java"
fifo="$out/stdin"
rm -f "$fifo" "$out/big.hprof"
mkfifo "$fifo"
java -Xmx8g -XX:+UseParallelGC -cp "$out/classes" BigHeap "$orders" <"$fifo" >"$out/stdout" &
pid=$!
exec 3>"$fifo"
while ! grep -q READY "$out/stdout" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "BigHeap exited early" >&2; exit 1; }
    sleep 0.5
done
jcmd "$pid" GC.heap_dump "$out/big.hprof" >/dev/null
jcmd "$pid" GC.class_histogram >"$out/big.histogram.txt"
echo >&3
exec 3>&-
wait "$pid"
rm -f "$fifo"
ls -l "$out/big.hprof"
