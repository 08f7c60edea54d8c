"""Counts the objects of each named heap of an Android HPROF dump, walking its records on its own (an
oracle for heapgraph's reader, sharing no code with it). Prints JSON: {"zygote": N, "app": M, ...}.
    python3 heap_counts.py DUMP.hprof
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from hprof_walk import Dump  # noqa: E402

dump = Dump(sys.argv[1])
data, ids = dump.data, dump.ids
names, counts, heap = {}, {}, "(unnamed)"
for tag, body, end in dump.records():
    if tag == 0x01:
        names[dump.ident(body)] = data[body + ids:end].decode("utf-8", "replace")
    elif tag in (0x0C, 0x1C):
        for sub, p in dump.sub_records(body, end):
            if sub == 0xFE:
                heap = names[dump.ident(p + 4)]
            elif sub not in dump.roots:
                counts[heap] = counts.get(heap, 0) + 1
print(json.dumps(counts))
