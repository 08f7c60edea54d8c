"""A service that caches a SQLAlchemy query whose IN clause lists COUNT user ids, for `heapgraph sites`
and `retainers` on real SQLAlchemy code. SQLAlchemy 1.3 makes one BindParameter per value of an IN
list (1.4 and later make one "expanding" parameter), which is how such a cache grew to 180,000 bind
parameters in the story heapgraph starts from.

    heapgraph run --tracemalloc 25 --at-exit -o DIR -- python testdata/python/sqlalchemy_cache.py [COUNT]

Prints one JSON line: `count`; `sqlalchemy`, its version; `site`, the (file, line) tracemalloc gives as
the allocating frame of a BindParameter of the clause; `program`, this file as tracemalloc names it,
and `query`, the line of build_query that builds the query (marked `site: query`).
"""
import json
import sys
import tracemalloc

import sqlalchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, select

metadata = MetaData()
orders = Table("orders", metadata, Column("id", Integer, primary_key=True), Column("user_id", Integer),
               Column("item", String))
QUERY_CACHE = {}


def build_query(name, user_ids):
    QUERY_CACHE[name] = select([orders]).where(orders.c.user_id.in_(user_ids))  # site: query


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    build_query("orders-by-users", list(range(count)))
    clauses = QUERY_CACHE["orders-by-users"]._whereclause.right.element.clauses
    assert len(clauses) == count and type(clauses[0]).__name__ == "BindParameter", type(clauses[0])
    traceback = list(reversed(tracemalloc.get_object_traceback(clauses[-1])))
    with open(__file__) as f:
        query = next(n for n, text in enumerate(f, 1) if text.rstrip().endswith("# site: query"))
    program = next(frame.filename for frame in traceback if frame.filename.endswith("sqlalchemy_cache.py"))
    print(json.dumps({"count": count, "sqlalchemy": sqlalchemy.__version__,
                      "site": [traceback[0].filename, traceback[0].lineno], "program": program, "query": query}))


main()
