#!/bin/sh
# Runs HeapFixture, takes the JVM's class histogram and then a heap dump with jcmd, and stops it.
# Usage: make_dump.sh OUT_DIR   -> OUT_DIR/fixture.hprof, OUT_DIR/histogram.txt, OUT_DIR/fixture.hprof.gz
# Every jcmd command here runs a full GC first. The histogram taken right after the dump counts exactly the
# objects the dump holds; the one taken before (histogram_before.txt) differs by the few objects the dump
# command itself allocates and frees (its attach listener's int[]s, cleaners), so tests compare with the
# one after.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$1" && pwd)
javac -d "$out/classes" "$here/HeapFixture.java"
fifo="$out/stdin"
rm -f "$fifo" "$out/fixture.hprof" "$out/fixture.hprof.gz"
mkfifo "$fifo"
java -Xmx32m -XX:+UseSerialGC -cp "$out/classes" HeapFixture <"$fifo" >"$out/stdout" &
pid=$!
exec 3>"$fifo"
while ! grep -q READY "$out/stdout" 2>/dev/null; do sleep 0.1; done
jcmd "$pid" GC.class_histogram >"$out/histogram_before.txt"
jcmd "$pid" GC.heap_dump "$out/fixture.hprof" >/dev/null
jcmd "$pid" GC.class_histogram >"$out/histogram.txt"
jcmd "$pid" GC.heap_dump -gz=1 "$out/fixture.hprof.gz" >/dev/null
echo >&3
exec 3>&-
wait "$pid"
rm -f "$fifo"
