"""Measures the pause `heapgraph dump --pid` causes in a running service with a heap of about N objects.

    python3 bench/bench_dump_pid.py target/release/heapgraph 1000000 /tmp/pid.hgd [--no-fork]

Starts a service (this file with --serve) that builds make_large_heap.py's cache, then ticks every 5 ms
and records the longest gap between two ticks: the pause as the service lived it. Dumps it by pid (any
arguments after the output are passed to `heapgraph dump`), asks for the longest gap, and prints one JSON
line with heapgraph's own report next to it: which way the dump was taken (a forked child, or in place),
the pause heapgraph reports, and for a fork the memory only the child had mapped at its end.
"""
import json
import os
import select
import subprocess
import sys
import time


def serve(objects):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "testdata", "python"))
    import make_large_heap

    make_large_heap.build(objects)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    longest, last = 0.0, time.perf_counter()
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.005)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
        if ready:
            if not sys.stdin.readline():
                return
            print(json.dumps({"longest_gap_seconds": longest}), flush=True)
            longest, last = 0.0, time.perf_counter()


def _rss_bytes(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def main(heapgraph, objects, out, options):
    service = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(objects)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    pid = json.loads(service.stdout.readline())["ready"]
    service.stdin.write("reset\n")
    service.stdin.flush()
    service.stdout.readline()
    rss = _rss_bytes(pid)
    report = json.loads(subprocess.run(
        [heapgraph, "dump", "--pid", str(pid), "-o", out, "--json"] + options,
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
        "service_rss_bytes": rss,
        "way": report.get("way"),
        "reported_pause_seconds": report["paused_seconds"],
        "stopped_seconds": report["stopped_seconds"],
        "child_private_bytes": (report.get("child") or {}).get("private_bytes"),
        "dump_seconds": report["summary"]["seconds"],
        "longest_gap_in_service_seconds": gap,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:])
