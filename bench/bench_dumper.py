"""Benchmark heapgraph_dump on a heap of about N objects; prints one JSON line.

    python bench/bench_dumper.py [--objects 1000000] [--out /tmp/bench.hgd] [--dumper-dir DIR]

Run it in a fresh process (it is one): the heap is instances with attributes, dicts, lists, strings,
ints and floats, built without temporary peaks. Memory: VmRSS before the dump and the peak (VmHWM) after
it, from /proc/self/status; the peak is first reset to the current RSS through /proc/self/clear_refs
when the kernel allows it ("hwm_reset"), otherwise the dump's peak is only visible if it exceeds the
build's. "dump_peak_extra_bytes" = peak after - RSS before: what dumping cost in memory.

`--dumper meliae` dumps the same heap with the peer instead, `meliae.scanner.dump_all_objects`
(`pip install meliae`; it builds only up to CPython 3.8), measured the same way. It runs in its own process
because meliae aborts on heaps holding ctypes types, which heapgraph's dumper imports.
"""
import argparse
import gc
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DUMPER_DIR = os.path.normpath(os.path.join(HERE, os.pardir, "crates", "heapgraph-formats", "python"))


class Account:
    """One cached row: 7 objects with its int id, str name, list of tags, metadata dict and float."""

    def __init__(self, i):
        self.id = 100000 + i
        self.name = "account-%d" % i
        self.tags = ["tag-%d" % (i % 50), i % 7]
        self.meta = {"score": i * 0.25, "owner": self.name}


OBJECTS_PER_ACCOUNT = 7  # instance, id, name, tags list, tag str (shared) / int, meta dict, float


def status(field):
    """A /proc/self/status field in bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not permitted."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000000)
    parser.add_argument("--out", default="/tmp/heapgraph-bench.hgd")
    parser.add_argument("--dumper-dir", default=DUMPER_DIR)
    parser.add_argument("--dumper", choices=["heapgraph", "meliae"], default="heapgraph")
    args = parser.parse_args()
    dump, count = heapgraph_dumper(args.dumper_dir) if args.dumper == "heapgraph" else meliae_dumper()

    gc.disable()
    accounts = {i: Account(i) for i in range(args.objects // OBJECTS_PER_ACCOUNT)}
    gc.enable()
    gc.collect()
    heap_objects = len(gc.get_objects())
    rss_before = status("VmRSS")
    result, seconds, peak_extra, hwm_reset = measure(lambda: dump(args.out))
    objects, edges = count(args.out, result)
    print(json.dumps({
        "python": sys.version.split()[0],
        "dumper": args.dumper,
        "accounts": len(accounts),
        "tracked_objects": heap_objects,
        "dumped_objects": objects,
        "edges": edges,
        "seconds": round(seconds, 3),
        "objects_per_second": int(objects / seconds),
        "file_bytes": os.path.getsize(args.out),
        "rss_before_bytes": rss_before,
        "hwm_reset": hwm_reset,
        "dump_peak_extra_bytes": peak_extra,
        "dump_peak_extra_percent": round(100.0 * peak_extra / rss_before, 1),
    }))


def heapgraph_dumper(dumper_dir):
    """heapgraph_dump.dump, and how to count what it wrote: (dump, count)."""
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    return heapgraph_dump.dump, lambda path, summary: (summary["objects"], summary["edges"])


def meliae_dumper():
    """meliae's dump_all_objects, and how to count what it wrote (one JSON line per object, its refs as
    edges), outside the measured time: (dump, count)."""
    from meliae import scanner

    def count(path, _):
        objects = edges = 0
        with open(path) as handle:
            for line in handle:
                objects += 1
                edges += len(json.loads(line)["refs"])
        return objects, edges

    return scanner.dump_all_objects, count


def measure(work):
    """Runs `work`; returns its result, seconds, the peak RSS it added, and whether the peak was reset."""
    rss_before = status("VmRSS")
    hwm_reset = reset_peak()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    return result, seconds, status("VmHWM") - rss_before, hwm_reset


if __name__ == "__main__":
    main()
