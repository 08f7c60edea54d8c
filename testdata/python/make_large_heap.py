"""Builds a heap of about N objects shaped like a service's caches, then dumps it with heapgraph_dump.

Used for benchmarks (large dumps are generated on demand, never committed):

    python testdata/python/make_large_heap.py crates/heapgraph-formats/python 10000000 /tmp/large.hgd

Prints one JSON line: records built, the dump's own summary, the dumper's wall time, the process's RSS
before dumping and its peak RSS after (VmHWM; building the heap sets the peak before the dump starts, so
peak after minus RSS before is the dumper's own extra memory), and, when objgraph is installed, how long
objgraph's live `most_common_types` and `find_backref_chain` (from one sample record, whose address it
prints, to a module) took on the same heap afterwards: the peers `heapgraph types` and `heapgraph path`
replace.
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


def objgraph_peer(record):
    """objgraph on this heap, live (the peer): seconds for most_common_types, and for find_backref_chain
    from `record` to a module (what `heapgraph path` answers from the dump). Empty without objgraph."""
    try:
        import objgraph
    except ImportError:
        return {}
    started = time.perf_counter()
    objgraph.most_common_types(limit=25)
    types_seconds = time.perf_counter() - started
    started = time.perf_counter()
    chain = objgraph.find_backref_chain(record, objgraph.is_proper_module)
    return {
        "objgraph_most_common_types_seconds": types_seconds,
        "objgraph_find_backref_chain_seconds": time.perf_counter() - started,
        "objgraph_chain_length": len(chain),
    }


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
    record = CACHE[len(CACHE) // 2]
    result = {
        "records": len(CACHE),
        "dump": summary,
        "seconds": elapsed,
        "objects_per_second": summary["objects"] / elapsed,
        "rss_before_kib": rss_before,
        "peak_before_kib": hwm_before,
        "peak_after_kib": peak_after,
        "sample_record_address": hex(id(record)),
    }
    result.update(objgraph_peer(record))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
