"""Builds a heap with known content, dumps it, prints ONE JSON line of the facts a dump must show.

    python fixture_basic.py DUMPER_DIR OUT.hgd

The facts are measured in this process just before the dump (class counts with gc.get_objects(), ids,
the refcount of a probe), plus checks made after it that dumping did not change the heap. Edge
expectations are {"from": id, "attr"|"label": text, "to": id}: an "attr" may be found directly (3.11+
inline values, slots) or through the instance's `.__dict__` then `['name']` (3.8-3.10, str subclasses).
"""
import builtins
import gc
import json
import sys
import weakref

gc.disable()  # the garbage cycle below must survive until the dump


class Leaf:
    def __init__(self, i):
        self.i = i


class Holder:
    def __init__(self):
        self.name = "holder-name"
        self.payload = [1.5, 2.5, 3.5]


class Slotted:
    __slots__ = ("alpha", "beta")  # beta stays unset


class Label(str):
    """A str subclass with a __dict__, like SQLAlchemy's _anonymous_label."""


class Target:
    pass


class Cyclic:
    def __init__(self):
        self.other = None


class Probe:
    pass


class HeldItem:
    pass


LEAVES = [Leaf(i) for i in range(1234)]
HOLDER = Holder()
REGISTRY = {"first": HOLDER, "second": Target(), "third": "third-value"}
# 3.15+: the builtin frozendict, whose str keys gc does not report either
FROZEN = getattr(builtins, "frozendict", dict)({"frozen_key": Target()})
SLOTTED = Slotted()
SLOTTED.alpha = ["slot", "value"]
LABEL = Label("anonymous_label")
LABEL.extra = {"k": 1}
TARGET = Target()
WEAK_REF = weakref.ref(TARGET)
WEAK_PROXY = weakref.proxy(TARGET)
PROBE = Probe()
PROBE_HOLDERS = [PROBE, PROBE, PROBE]  # PROBE's refcount: these three and the module dict


def make_closure():
    captured = ["captured", "list"]

    def closure():
        return captured

    return closure, captured


CLOSURE, CAPTURED = make_closure()


def counter():
    yield 1
    yield 2


GENERATOR = counter()
next(GENERATOR)


def make_garbage():
    """Two instances referencing each other and nothing else: unreachable, not collected (gc off)."""
    first, second = Cyclic(), Cyclic()
    first.other, second.other = second, first
    return id(first), id(second)


GARBAGE = make_garbage()

COUNTED = (Leaf, Holder, Slotted, Label, Target, Cyclic, Probe, HeldItem)


def class_counts():
    counts = {cls.__name__: 0 for cls in COUNTED}
    for obj in gc.get_objects():
        if type(obj) in COUNTED:
            counts[type(obj).__name__] += 1
    return counts


def locals_dict_of(value):
    """Whether a dict maps 'held_only_here' to `value`: a materialized f_locals dict would."""
    return any(type(obj) is dict and obj.get("held_only_here") is value for obj in gc.get_objects())


def hold_and_dump(heapgraph_dump, out, passed):
    """Dumps twice from a frame whose local is the only reference to a list (the runner compares both).

    `passed`: a list held by the caller's local and by this frame's argument (which 3.14+ borrows).
    """
    held_only_here = [HeldItem(), HeldItem()]
    again = out + ".again"
    facts = {
        "passed": id(passed),
        "counts": class_counts(),
        "probe_refcount": sys.getrefcount(PROBE) - 1,
        "held_only_here": id(held_only_here),
        "local_root": "held_only_here in hold_and_dump() [thread MainThread]",
    }
    heapgraph_dump.dump(out)
    facts["summary"] = heapgraph_dump.dump(again)
    # The heap must be as it was: no instance dict created, no f_locals dict, same counts.
    facts["after"] = {
        "holder_referents": sorted(type(r).__name__ for r in gc.get_referents(HOLDER)),
        "f_locals_materialized": locals_dict_of(held_only_here),
        "counts": class_counts(),
    }
    return facts


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    holder_referents = sorted(type(r).__name__ for r in gc.get_referents(HOLDER))
    passed = [HeldItem()]
    facts = hold_and_dump(heapgraph_dump, out, passed)
    facts["before"] = {"holder_referents": holder_referents}
    facts["ids"] = {
        "leaves": id(LEAVES),
        "holder": id(HOLDER),
        "registry": id(REGISTRY),
        "probe": id(PROBE),
        "target": id(TARGET),
        "weak_ref": id(WEAK_REF),
        "weak_proxy": id(WEAK_PROXY),
        "generator": id(GENERATOR),
        "closure": id(CLOSURE),
        "captured": id(CAPTURED),
        "garbage": list(GARBAGE),
    }
    facts["edges"] = [
        {"from": id(HOLDER), "attr": "name", "to": id(HOLDER.name)},
        {"from": id(HOLDER), "attr": "payload", "to": id(HOLDER.payload)},
        {"from": id(HOLDER), "label": ".__class__", "to": id(Holder)},
        {"from": id(REGISTRY), "label": "['first']", "to": id(HOLDER)},
        {"from": id(REGISTRY), "label": "['third']", "to": id(REGISTRY["third"])},
        {"from": id(LEAVES), "label": "[0]", "to": id(LEAVES[0])},
        {"from": id(LEAVES), "label": "[1233]", "to": id(LEAVES[1233])},
        {"from": id(LEAVES[7]), "attr": "i", "to": id(LEAVES[7].i)},
        {"from": id(SLOTTED), "label": ".alpha", "to": id(SLOTTED.alpha)},
        {"from": id(LABEL), "attr": "extra", "to": id(LABEL.extra)},
        {"from": id(WEAK_REF), "label": "weak referent", "to": id(TARGET)},
        {"from": id(WEAK_PROXY), "label": "weak referent", "to": id(TARGET)},
        {"from": id(CLOSURE), "label": ".__closure__", "to": id(CLOSURE.__closure__)},
        {"from": id(CLOSURE.__closure__), "label": "[0]", "to": id(CLOSURE.__closure__[0])},
        {"from": id(CLOSURE.__closure__[0]), "label": ".cell_contents", "to": id(CAPTURED)},
        {"from": id(CLOSURE), "label": ".__code__", "to": id(CLOSURE.__code__)},
        {"from": GARBAGE[0], "attr": "other", "to": GARBAGE[1]},
        {"from": id(sys.modules[__name__]), "label": ".__dict__", "to": id(globals())},
        {"from": id(FROZEN), "label": "['frozen_key']", "to": id(FROZEN["frozen_key"])},
        {"from": id(FROZEN), "label": "<key>", "to": id(next(iter(FROZEN)))},
    ]
    facts["values"] = {str(id(LABEL)): "anonymous_label", str(id(REGISTRY["third"])): "third-value"}
    facts["names"] = {str(id(Holder)): "Holder", str(id(make_closure)): "make_closure"}
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
