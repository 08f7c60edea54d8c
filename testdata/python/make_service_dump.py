"""Makes testdata/python/service.hgd: a small dump of a service with a query cache that grew.

    python testdata/python/make_service_dump.py crates/heapgraph-formats/python testdata/python/service.hgd [IDS]

The story is objgraph's classic: `BindParameter` and `_anonymous_label` objects growing in step, held by
an `IN` clause that was built from a long list of ids and cached at module level. The README's examples
run on this dump, made with the default of 3,000 ids; the suspects tests make one of 100,000.
"""
import sys


class _anonymous_label(str):
    """Like SQLAlchemy's: a str subclass that carries attributes."""


class BindParameter:
    def __init__(self, key, value):
        self.key = _anonymous_label("%%(%d param)s" % key)
        self.key.origin = "in_clause"
        self.value = value
        self.type = "Integer"


class InClause:
    def __init__(self, column, values):
        self.column = column
        self.clauses = [BindParameter(i, v) for i, v in enumerate(values)]


class Query:
    def __init__(self, table, where):
        self.table = table
        self.where = where


class QueryCache:
    def __init__(self):
        self.entries = {}


CACHE = QueryCache()
SETTINGS = {"pool_size": 10, "echo": False, "url": "postgresql://db/app"}


def handle_request(user_ids):
    query = Query("orders", InClause("user_id", user_ids))
    CACHE.entries["orders-by-users"] = query
    return query


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    ids = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    handle_request(list(range(100000, 100000 + ids)))
    recent_ids = [i * 7 for i in range(500)]  # a local the running frame holds
    print(heapgraph_dump.dump(out), len(recent_ids))


if __name__ == "__main__":
    main()
