"""Dumps a process that traces with tracemalloc (25 frames) and caches a query of many bind parameters,
for the order of `heapgraph sites`: the line that made the parameters before the lines that hold them.

    python testdata/python/fixture_sites_cache.py DUMPER_DIR OUT.hgd [COUNT]

QUERY_CACHE (a dict) holds a Select whose `clauses` list holds COUNT (default 20,000) BindParameter
objects, each made on the line marked `site: params`; their values are made beforehand, on another line.
Prints one JSON line: `count`; `file`, this file as tracemalloc names it; and the lines marked `site:`
(`params`, `query`, where the Select is made).
"""
import json
import sys
import tracemalloc

tracemalloc.start(25)


class BindParameter:
    def __init__(self, value):
        self.value = value


class Select:
    def __init__(self, values):
        self.clauses = []
        for value in values:
            self.clauses.append(BindParameter(value))  # site: params


QUERY_CACHE = {}


def build_query(name, values):
    QUERY_CACHE[name] = Select(values)  # site: query


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    values = ["user-%d" % i for i in range(count)]
    build_query("orders-by-users", values)
    with open(__file__) as f:
        marked = {text.rstrip().rsplit("# site: ", 1)[1]: n for n, text in enumerate(f, 1) if "# site: " in text}
    traceback = tracemalloc.get_object_traceback(QUERY_CACHE["orders-by-users"].clauses[-1])
    heapgraph_dump.dump(out)
    facts = dict(count=count, file=traceback[-1].filename, params=marked["params"], query=marked["query"])
    print(json.dumps(facts))


main()
