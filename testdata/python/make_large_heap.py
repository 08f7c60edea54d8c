"""Builds a heap of about N objects shaped like a service's caches, then dumps it with heapgraph_dump.

Used for benchmarks (large dumps are generated on demand, never committed):

    python testdata/python/make_large_heap.py crates/heapgraph-formats/python 10000000 /tmp/large.hgd

Prints one JSON line: records built, the dump's own summary, the dumper's wall time, the process's RSS
before dumping and its peak RSS after (VmHWM; building the heap sets the peak before the dump starts, so
peak after minus RSS before is the dumper's own extra memory), and, when objgraph is installed, how long
objgraph's live `most_common_types` took on the same heap afterwards: the peer `heapgraph types` replaces.
"""
import gc
import json
import sys
import time


class Record:
    """One cached row: an id, a name, a tag list and a metadata dict with a float."""

    def __init__(self, i):
        self.id = i + 1000
        self.name = "user-%d" % i
        self.tags = [i % 7, TAGS[i % len(TAGS)]]
        self.meta = {"score": i * 0.5}


TAGS = ["tag-%d" % i for i in range(100)]
OBJECTS_PER_RECORD = 7  # instance, its id, name str, tag list, meta dict, float, cache key

CACHE = {}


def build(objects):
    for i in range(objects // OBJECTS_PER_RECORD):
        CACHE[i] = Record(i)


def status_kib(key):
    """A VmRSS/VmHWM line of /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def objgraph_seconds():
    """Time of objgraph.most_common_types on this heap, or None without objgraph."""
    try:
        import objgraph
    except ImportError:
        return None
    started = time.perf_counter()
    objgraph.most_common_types(limit=25)
    return time.perf_counter() - started


def main():
    dumper_dir, objects, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    gc.disable()
    build(objects)
    gc.enable()
    rss_before = status_kib("VmRSS")
    hwm_before = status_kib("VmHWM")
    started = time.perf_counter()
    summary = heapgraph_dump.dump(out)
    elapsed = time.perf_counter() - started
    peak_after = status_kib("VmHWM")
    peer = objgraph_seconds()
    print(json.dumps({
        "records": len(CACHE),
        "dump": summary,
        "seconds": elapsed,
        "objects_per_second": summary["objects"] / elapsed,
        "rss_before_kib": rss_before,
        "peak_before_kib": hwm_before,
        "peak_after_kib": peak_after,
        "objgraph_most_common_types_seconds": peer,
    }))


if __name__ == "__main__":
    main()
