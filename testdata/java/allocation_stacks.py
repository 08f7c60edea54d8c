"""The allocation stack of every object of an HPROF dump, read on its own (an oracle for heapgraph's
reader, sharing no code with it): the STACK TRACE named by each INSTANCE, OBJECT ARRAY and PRIMITIVE
ARRAY dump, when it has frames, as [["pkg.Class.method", "File.java", line], ...] (line 0 when the
dump has none). Prints JSON: {"ADDRESS": STACK, ...} for heap dump N (default 1) of the file.
    python3 allocation_stacks.py DUMP.hprof [N]
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hprof_walk import Dump  # noqa: E402

dump = Dump(sys.argv[1])
data, ids = dump.data, dump.ids
wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 1
names, class_names, class_of_serial, frames, traces = {}, {}, {}, {}, {}
heap_dumps, segments_open = [], False
for tag, body, end in dump.records():
    if tag == 0x01:
        names[dump.ident(body)] = data[body + ids:end].decode("utf-8", "replace")
    elif tag == 0x02:
        class_of_serial[dump.u4(body)] = dump.ident(body + 4)
        class_names[dump.ident(body + 4)] = dump.ident(body + 8 + ids)
    elif tag == 0x04:
        method, source = dump.ident(body + ids), dump.ident(body + 3 * ids)
        serial, line = dump.u4(body + 4 * ids), dump.i4(body + 4 * ids + 4)
        frames[dump.ident(body)] = (method, source, serial, line)
    elif tag == 0x05:
        count = dump.u4(body + 8)
        traces[dump.u4(body)] = [dump.ident(body + 12 + i * ids) for i in range(count)]
    elif tag == 0x0C or (tag == 0x1C and not segments_open):
        heap_dumps.append([(body, end)])
        segments_open = tag == 0x1C
    elif tag == 0x1C:
        heap_dumps[-1].append((body, end))
    elif tag == 0x2C:
        segments_open = False


def function(frame):
    method, _, serial, _ = frames[frame]
    internal = names[class_names[class_of_serial[serial]]]
    return internal.replace("/", ".") + "." + names[method]


def stack(serial):
    return [[function(f), names.get(frames[f][1], ""), max(frames[f][3], 0)]
            for f in traces.get(serial, [])]


stacks = {}
for body, end in heap_dumps[wanted - 1]:
    for sub, p in dump.sub_records(body, end):
        serial = dump.u4(p + ids)
        if sub in (0x21, 0x22, 0x23, 0xC3) and traces.get(serial):
            stacks[str(dump.ident(p))] = stack(serial)
print(json.dumps(stacks))
