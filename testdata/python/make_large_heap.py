"""Builds a heap of about N objects shaped like a service's caches, then dumps it with heapgraph_dump.

Used for benchmarks (large dumps are generated on demand, never committed):

    python testdata/python/make_large_heap.py crates/heapgraph-formats/python 10000000 /tmp/large.hgd

Prints one JSON line: objects built, the dump's own summary, and the dumper's time.
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


def main():
    dumper_dir, objects, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    gc.disable()
    build(objects)
    gc.enable()
    started = time.perf_counter()
    summary = heapgraph_dump.dump(out)
    elapsed = time.perf_counter() - started
    print(json.dumps({"records": len(CACHE), "dump": summary, "seconds": elapsed}))


if __name__ == "__main__":
    main()
