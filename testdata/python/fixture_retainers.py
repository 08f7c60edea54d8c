"""Four ways to keep objects alive, each with a known shortest chain from a root.

    python fixture_retainers.py DUMPER_DIR OUT.hgd

- a module-level cache dict holding `Session` instances through a list;
- a closure capturing a big list of `Payload` instances;
- a class attribute registry of `Plugin` instances;
- one `Secret` held only by a local variable of a running thread.

Prints one JSON line: per class, the instance count gc sees just before the dump, the chain `heapgraph
retainers` must name (as its text form writes it) and the edge that holds the instances at the end of it;
and one Session's address with the chain `heapgraph path` must print for it.
"""
import gc
import json
import sys
import threading


class Session:
    def __init__(self, n):
        self.n = n


class Payload:
    def __init__(self, n):
        self.data = "payload-%d" % n


class Plugin:
    registry = []

    def __init__(self, name):
        self.name = name
        Plugin.registry.append(self)


class Secret:
    pass


CACHE = {"sessions": [Session(i) for i in range(300)]}


def make_handler():
    big = [Payload(i) for i in range(200)]

    def handler():
        return len(big)

    return handler


HANDLER = make_handler()
PLUGINS = [Plugin("p%d" % i) for i in range(50)]
del PLUGINS  # only the registry holds them now


def hold_secret(ready, release):
    held = Secret()
    ready.set()
    release.wait()
    return held


def count(cls):
    return sum(1 for o in gc.get_objects() if type(o) is cls)


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_secret, args=(ready, release), name="holder")
    holder.start()
    ready.wait()
    facts = {
        "Session": {
            "count": count(Session),
            "chain": "module __main__.__dict__['CACHE']['sessions']",
            "held_via": "[i]",
        },
        "Payload": {
            "count": count(Payload),
            "chain": "module __main__.__dict__['HANDLER'].__closure__[0].cell_contents",
            "held_via": "[i]",
        },
        "Plugin": {
            "count": count(Plugin),
            "chain": "module __main__.__dict__['Plugin'].__dict__['registry']",
            "held_via": "[i]",
        },
        "Secret": {
            "count": count(Secret),
            "chain": "local held in hold_secret() [thread holder]",
            "held_via": None,
        },
    }
    # one object's own chain, for `heapgraph path`
    facts["path"] = {
        "address": id(CACHE["sessions"][7]),
        "chain": "module __main__.__dict__['CACHE']['sessions'][7]",
    }
    facts["summary"] = heapgraph_dump.dump(out)
    release.set()
    holder.join()
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
