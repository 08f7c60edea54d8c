"""Measures the pause `heapgraph dump --pid` causes in a running service with a heap of about N objects.

    python3 testdata/python/bench_dump_pid.py target/release/heapgraph 1000000 /tmp/pid.hgd

Starts a service (this file with --serve) that builds make_large_heap.py's cache, then ticks every
millisecond and records the longest gap between two ticks: the pause as the service lived it. Dumps it by
pid, asks for the longest gap, and prints one JSON line with heapgraph's own report next to it.
"""
import json
import os
import select
import subprocess
import sys
import time


def serve(objects):
    import make_large_heap

    make_large_heap.build(objects)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    longest, last = 0.0, time.perf_counter()
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
        if ready:
            if not sys.stdin.readline():
                return
            print(json.dumps({"longest_gap_seconds": longest}), flush=True)
            longest, last = 0.0, time.perf_counter()


def main(heapgraph, objects, out):
    service = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(objects)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    pid = json.loads(service.stdout.readline())["ready"]
    service.stdin.write("reset\n")
    service.stdin.flush()
    service.stdout.readline()
    report = json.loads(subprocess.run(
        [heapgraph, "dump", "--pid", str(pid), "-o", out, "--json"],
        check=True, stdout=subprocess.PIPE, text=True, timeout=600,
    ).stdout)
    service.stdin.write("gap\n")
    service.stdin.flush()
    gap = json.loads(service.stdout.readline())["longest_gap_seconds"]
    service.stdin.close()
    service.wait(timeout=60)
    print(json.dumps({
        "python": report["runtime"],
        "objects": report["summary"]["objects"],
        "reported_pause_seconds": report["paused_seconds"],
        "gdb_stop_seconds_at_most": report["stopped_seconds"],
        "longest_gap_in_service_seconds": gap,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
