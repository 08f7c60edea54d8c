"""A list of 10,000 bytes objects of known sizes, held by one module global: a known retained size.

    python fixture_known_retained.py DUMPER_DIR OUT.hgd

Each element is referenced only by the list, so the list dominates all of them: its retained size is
its own sys.getsizeof plus the sum of the elements' (printed as "retained"). One JSON line on stdout.
"""
import json
import sys

COUNT = 10000


def build():
    # distinct contents of varying length: no two elements are the same object
    return [b"payload-%05d-" % i + b"x" * (i % 97) for i in range(COUNT)]


RETAINED = build()


def refcounts(items):
    """The distinct sys.getrefcount values of `items`."""
    return {sys.getrefcount(item) for item in items}


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    element_sizes = sum(sys.getsizeof(item) for item in RETAINED)
    # getrefcount's own references (its argument, the loop variable) vary by version (3.14 borrows
    # them): measured on a list whose one element only the list holds
    overhead = min(refcounts([object()])) - 1
    facts = {
        "list": id(RETAINED),
        "count": len(RETAINED),
        "list_size": sys.getsizeof(RETAINED),
        "retained": sys.getsizeof(RETAINED) + element_sizes,
        "element_refcounts": sorted(count - overhead for count in refcounts(RETAINED)),
    }
    facts["summary"] = heapgraph_dump.dump(out)
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
