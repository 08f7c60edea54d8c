"""Dump time with and without tracemalloc tracing, on each interpreter given; prints one JSON line per run
and a summary table.

    python3 bench/bench_tracemalloc.py [--objects 100000] [--runs 3] [--unpaused] PYTHON [PYTHON ...]

Each run is a fresh process of PYTHON that builds a cache of `Param` objects (a dict, a list, a str and an
int each, like a query's bind parameters) through a 20-call-deep stack, then dumps itself with
`heapgraph_dump.dump`. "traced" runs start `tracemalloc.start(25)` before building, so every object has a
25-frame traceback and the dump records them all; "untraced" runs do not. Runs alternate between the two,
so that load on the machine weighs on both alike. The table gives the median of each, in CPU seconds of
the dumping process (its wall time on a machine shared with other work measures the other work too; the
JSON lines have both).

`--unpaused` adds "traced, unpaused" runs, in which the dumper is not allowed to keep tracemalloc from
tracing its own allocations (what a traced dump would cost without that; slow).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DUMPER_DIR = os.path.normpath(os.path.join(HERE, os.pardir, "crates", "heapgraph-formats", "python"))

CHILD = r"""
import json, os, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
import heapgraph_dump
objects, mode, out = int(sys.argv[2]), sys.argv[3], sys.argv[4]
if mode == "traced, unpaused":
    heapgraph_dump._quiet_tracemalloc = lambda module, warnings: None
if mode != "untraced":
    tracemalloc.start(25)

class Param:
    def __init__(self, i):
        self.key = "param_%d" % i
        self.value = [i, i + 1]
        self.options = {"index": i}

def build(depth, n):
    if depth:
        return build(depth - 1, n)
    return [Param(i) for i in range(n)]

CACHE = build(20, objects)
started, cpu = time.perf_counter(), time.process_time()
summary = heapgraph_dump.dump(out)
summary["wall"], summary["cpu"] = time.perf_counter() - started, time.process_time() - cpu
os.unlink(out)
print(json.dumps(summary))
"""


def run(python, objects, mode, out):
    output = subprocess.run([python, "-c", CHILD, DUMPER_DIR, str(objects), mode, out],
                            check=True, stdout=subprocess.PIPE, universal_newlines=True)
    summary = json.loads(output.stdout.strip().splitlines()[-1])
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    return dict(summary, python=version, mode=mode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unpaused", action="store_true")
    parser.add_argument("--out", default="/tmp/bench-tracemalloc.hgd")
    parser.add_argument("pythons", nargs="+")
    args = parser.parse_args()
    modes = ["untraced", "traced"] + (["traced, unpaused"] if args.unpaused else [])
    rows = []
    for python in args.pythons:
        results = {mode: [] for mode in modes}
        for _ in range(args.runs):
            for mode in modes:
                result = run(python, args.objects, mode, args.out)
                print(json.dumps(result), flush=True)
                results[mode].append(result)
        untraced = statistics.median(r["cpu"] for r in results["untraced"])
        for mode in modes:
            seconds = statistics.median(r["cpu"] for r in results[mode])
            last = results[mode][-1]
            rows.append("| %s | %s | %s | %s | %.2f s (%s) | %.2fx |" % (
                last["python"], mode, format(last["objects"], ","), format(last["allocation_sites"], ","),
                seconds, " / ".join("%.2f" % r["cpu"] for r in results[mode]), seconds / untraced))
    print("| Python | tracemalloc | objects dumped | objects with a site | dump CPU time, median (runs) | vs untraced |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
