"""Counts the objects of each named heap of an Android HPROF dump, walking its records on its own (an
oracle for heapgraph's reader, sharing no code with it). Prints JSON: {"zygote": N, "app": M, ...}.
    python3 heap_counts.py DUMP.hprof
"""
import json
import struct
import sys

data = open(sys.argv[1], "rb").read()
at = data.index(b"\0") + 1
ids = struct.unpack(">I", data[at:at + 4])[0]
at += 12
SIZES = {2: ids, 4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
# Root sub-records: tag -> bytes after the tag.
ROOTS = {0xFF: ids, 0x01: 2 * ids, 0x02: ids + 8, 0x03: ids + 8, 0x04: ids + 4, 0x05: ids,
         0x06: ids + 4, 0x07: ids, 0x08: ids + 8, 0x89: ids, 0x8A: ids, 0x8B: ids, 0x8C: ids,
         0x8D: ids, 0x8E: ids + 8, 0x90: ids}
names, counts, heap = {}, {}, "(unnamed)"


def u2(p):
    return struct.unpack(">H", data[p:p + 2])[0]


def u4(p):
    return struct.unpack(">I", data[p:p + 4])[0]


def values(p, count, with_name):
    for _ in range(count):
        p += ids if with_name else 2
        p += 1 + SIZES[data[p]]
    return p


while at < len(data):
    tag, length = data[at], u4(at + 5)
    body, end = at + 9, at + 9 + length
    if tag == 0x01:
        names[int.from_bytes(data[body:body + ids], "big")] = data[body + ids:end].decode("utf-8", "replace")
    elif tag in (0x0C, 0x1C):
        p = body
        while p < end:
            sub = data[p]
            p += 1
            if sub in ROOTS:
                p += ROOTS[sub]
                continue
            if sub == 0xFE:
                heap = names[int.from_bytes(data[p + 4:p + 4 + ids], "big")]
                p += 4 + ids
                continue
            counts[heap] = counts.get(heap, 0) + 1
            if sub == 0x20:
                p += 7 * ids + 8
                p = values(p + 2, u2(p), False)
                p = values(p + 2, u2(p), True)
                p += 2 + u2(p) * (ids + 1)
            elif sub == 0x21:
                p += 2 * ids + 8 + u4(p + 2 * ids + 4)
            elif sub == 0x22:
                p += 2 * ids + 8 + u4(p + ids + 4) * ids
            elif sub in (0x23, 0xC3):
                n, ty = u4(p + ids + 4), data[p + ids + 8]
                p += ids + 9 + (n * SIZES[ty] if sub == 0x23 else 0)
            else:
                raise SystemExit(f"unknown sub-record {sub:#x} at byte {p - 1}")
    at = end
print(json.dumps(counts))
