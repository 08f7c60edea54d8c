"""Dumps a process that traces its allocations with tracemalloc (25 frames), holding objects made at
known lines of this file.

    python testdata/python/fixture_sites.py DUMPER_DIR OUT.hgd

Prints one JSON line: `frames`, tracemalloc's frame limit; `file`, this file's name as tracemalloc gives
it; `leaks`, the number of `Leak` instances (all made on the line marked `site: leak`); `untraced`, the id
of a list made before tracing started; `samples`, for objects of several kinds, the id, the line that made
it (read from this file's source, by its `site:` marker) and tracemalloc's own traceback of it, allocating
frame first (null where tracemalloc's lookup misses the object: 3.11's instances with inline values);
`after`, whether tracemalloc still traces after the dump, with its frame limit, and the traceback of an
object made then.
"""
import json
import sys
import tracemalloc

UNTRACED = ["made before tracing started"]
tracemalloc.start(25)


class Leak:
    def __init__(self, i):
        self.i = i


class Slotted:
    __slots__ = ("value",)


def make_leaks(n):
    return [Leak(i) for i in range(n)]  # site: leak


def deep(k):
    if k == 0:
        return {"depth": k}  # site: deep
    return deep(k - 1)


def make_others():
    return {
        "slotted": Slotted(),  # site: slotted
        "text": "x" * (1000 + len(sys.argv)),  # site: text
        "bytearray": bytearray(500),  # site: bytearray
        "deep": deep(40),
    }


def marker_lines():
    lines = {}
    with open(__file__) as f:
        for number, line in enumerate(f, 1):
            if "# site: " in line and "lines[" not in line:
                lines[line.split("# site: ")[1].strip()] = number
    return lines


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    leaks = make_leaks(20000)
    others = make_others()
    lines = marker_lines()
    chosen = [("leak", leaks[0]), ("leak", leaks[-1])]
    chosen += [(name, others[name]) for name in ("slotted", "text", "bytearray", "deep")]
    samples = []
    for site, obj in chosen:
        traceback = tracemalloc.get_object_traceback(obj)
        frames = None if traceback is None else [[f.filename, f.lineno] for f in reversed(traceback)]
        samples.append({"site": site, "id": id(obj), "line": lines[site], "traceback": frames})
    facts = {
        "frames": tracemalloc.get_traceback_limit(),
        "file": tracemalloc.get_object_traceback(others["deep"])[-1].filename,
        "leaks": len(leaks),
        "untraced": id(UNTRACED),
        "samples": samples,
    }
    heapgraph_dump.dump(out)
    # tracemalloc traces on as before the dump
    later = Slotted()  # site: after
    traceback = tracemalloc.get_object_traceback(later)
    facts["after"] = {
        "tracing": tracemalloc.is_tracing(),
        "frames": tracemalloc.get_traceback_limit(),
        "traceback": [[f.filename, f.lineno] for f in reversed(traceback)] if traceback else None,
        "line": lines["after"],
    }
    print(json.dumps(facts))


main()
