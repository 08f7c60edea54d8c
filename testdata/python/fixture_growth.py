"""Two dumps of one process with known growth between them.

    python fixture_growth.py DUMPER_DIR OUT.hgd

Writes OUT.hgd, then grows the heap: 120 `Order`s appended to a module-level list, 30 more `Session`s in
the cache's list, 10 `Plugin`s dropped from their class registry (and so freed); then writes
OUT.hgd.new.hgd. Prints one JSON line: per class, the instance counts gc saw just before each dump, the
chain that holds the new instances, and the second dump's path.
"""
import gc
import json
import sys


class Order:
    def __init__(self, n):
        self.n = n


class Session:
    def __init__(self, n):
        self.n = n


class Plugin:
    registry = []

    def __init__(self, name):
        self.name = name
        Plugin.registry.append(self)


ORDERS = []
CACHE = {"sessions": [Session(i) for i in range(300)]}
for _i in range(50):
    Plugin("p%d" % _i)


def counts():
    classes = (Order, Session, Plugin)
    tally = {cls.__name__: 0 for cls in classes}
    for o in gc.get_objects():
        if type(o) in classes:
            tally[type(o).__name__] += 1
    return tally


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    new_out = out + ".new.hgd"
    before = counts()
    heapgraph_dump.dump(out)

    ORDERS.extend(Order(i) for i in range(120))
    CACHE["sessions"].extend(Session(1000 + i) for i in range(30))
    del Plugin.registry[:10]

    after = counts()
    heapgraph_dump.dump(new_out)
    print(
        json.dumps(
            {
                "new_dump": new_out,
                "before": before,
                "after": after,
                "held_by": {
                    "Order": "module __main__.__dict__['ORDERS']",
                    "Session": "module __main__.__dict__['CACHE']['sessions']",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
