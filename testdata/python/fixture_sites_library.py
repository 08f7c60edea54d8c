"""Dumps a process that traces with tracemalloc (25 frames) and whose cache holds objects the standard
library made for it, for the first frame of the program's own code that `heapgraph sites` singles out.

    python testdata/python/fixture_sites_library.py DUMPER_DIR OUT.hgd

`build_cache()` fills CACHE with `fractions.Fraction` objects on the line marked `site: cache`; the
Fraction constructor, in the standard library, allocates each of them. Prints one JSON line: `count`,
the number of Fractions; `file` and `line`, this file as tracemalloc names it and the marked line;
`library`, tracemalloc's own allocating frame (file, line) of a Fraction; `library_frames`, how many
frames of that traceback are in the standard library, before this file's.
"""
import json
import sys
import tracemalloc
from fractions import Fraction

tracemalloc.start(25)

CACHE = {}
COUNT = 5000


def build_cache(n):
    CACHE["thirds"] = [Fraction(i, 3) for i in range(n)]  # site: cache


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    build_cache(COUNT)
    with open(__file__) as f:
        line = next(n for n, text in enumerate(f, 1) if text.rstrip().endswith("# site: cache"))
    traceback = list(reversed(tracemalloc.get_object_traceback(CACHE["thirds"][-1])))
    own = next(i for i, frame in enumerate(traceback) if frame.filename == __file__)
    facts = {
        "count": COUNT,
        "file": traceback[own].filename,
        "line": line,
        "library": [traceback[0].filename, traceback[0].lineno],
        "library_frames": own,
    }
    heapgraph_dump.dump(out)
    print(json.dumps(facts))


main()
