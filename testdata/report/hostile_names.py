"""Dumps a heap whose names and values are HTML and script: what a report page must show as text.

    python hostile_names.py DUMPER_DIR OUT.hgd

A module-level dict, under a key that is markup, holds a list of 20,000 instances of a class whose
name closes a script element and opens another: they retain most of the heap, so the class, the key and
the path to them are in every section of the report. Prints the names as JSON.
"""
import json
import sys

NAME = '</script><script>document.title="broken out"</script>'
KEY = "<img src=x onerror=document.title=1>"

Hostile = type(NAME, (), {"__slots__": ("value",)})


def hostile(i):
    h = Hostile()
    h.value = "</style><b>%d</b>" % i
    return h


CACHE = {KEY: [hostile(i) for i in range(20000)]}

if __name__ == "__main__":
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    sys.modules["__main__"].CACHE = CACHE
    heapgraph_dump.dump(out)
    print(json.dumps({"type_name": "__main__." + NAME, "key": KEY}))
