"""Three dumps of one process, for `heapgraph suspects OLD NEW NEWER`.

    GROWTH=leak|churn [STEP=N] [ROUNDS=N] python fixture_suspects_growth.py DUMPER_DIR OUT.hgd

Both modes keep a session cache bounded to 500 entries and churn it before every dump: 500 new sessions
under new keys evict as many old ones, and a burst of short-lived garbage comes and goes. That is no leak.
In `leak` mode, every round also serves a request whose `IN` clause adds STEP (default 3,000) bind
parameters to the one cached query, whose clause list is reused and extended: that is the leak.

Writes OUT.hgd, then OUT.2.hgd and OUT.3.hgd after the next rounds (ROUNDS dumps in all, 3 by default).
Prints one JSON line: the dumps' paths, and per dump the number of `BindParameter` and `Session`
objects gc saw just before it.
"""
import gc
import json
import os
import sys


class _anonymous_label(str):
    """Like SQLAlchemy's: a str subclass that carries attributes."""


class BindParameter:
    def __init__(self, key, value):
        self.key = _anonymous_label("%%(%d param)s" % key)
        self.value = value


class InClause:
    def __init__(self, column):
        self.column = column
        self.clauses = []


class Query:
    def __init__(self, table, where):
        self.table = table
        self.where = where


class Session:
    def __init__(self, user):
        self.user = user
        self.scratch = {"seen": [user, user + 1]}


QUERIES = {"orders-by-users": Query("orders", InClause("user_id"))}
SESSIONS = {}
LIMIT = 500


def churn(round_number):
    for i in range(LIMIT):
        user = round_number * LIMIT + i
        SESSIONS["user-%d" % user] = Session(user)
        if len(SESSIONS) > LIMIT:
            del SESSIONS[next(iter(SESSIONS))]
    garbage = [Session(i) for i in range(2000)]
    del garbage


def serve(round_number, step):
    where = QUERIES["orders-by-users"].where
    start = len(where.clauses)
    where.clauses.extend(BindParameter(start + i, round_number * step + i) for i in range(step))


def counts():
    tally = {"BindParameter": 0, "Session": 0}
    for o in gc.get_objects():
        name = type(o).__name__
        if name in tally and type(o).__module__ == "__main__":
            tally[name] += 1
    return tally


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    leak = os.environ.get("GROWTH", "leak") == "leak"
    step = int(os.environ.get("STEP", "3000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    paths = [out] + ["%s.%d.hgd" % (out, n) for n in range(2, rounds + 1)]
    # The counts go to a file as they are made: kept in this frame, they would grow between the dumps.
    log = out + ".counts"
    for round_number in range(rounds):
        churn(round_number)
        if leak:
            serve(round_number, step)
        gc.collect()
        with open(log, "a") as f:
            f.write(json.dumps(counts()) + "\n")
        heapgraph_dump.dump(paths[round_number])
    with open(log) as f:
        seen = [json.loads(line) for line in f]
    os.remove(log)
    print(json.dumps({"dumps": paths, "counts": seen}))


if __name__ == "__main__":
    main()
