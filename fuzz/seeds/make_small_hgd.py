"""Writes seeds/hgd/small.hgd: a complete .hgd of a few hundred bytes using every record kind, edge-label
kind, root kind and optional object field, so the fuzzer mutates a whole dump and not only the prefixes of
the big real ones (libFuzzer cuts inputs to -max_len).

    python3 fuzz/seeds/make_small_hgd.py fuzz/seeds/hgd/small.hgd
"""
import struct
import sys

out = bytearray(b"\x89HGD\r\n\x1a\n" + struct.pack("<II", 1, 0))


def rec(tag, payload):
    out.extend(struct.pack("<BI", tag, len(payload)) + payload)


rec(1, b'{"format":"heapgraph-python","python_version":"3.11.7","implementation":"cpython","pid":42}')
for i, s in enumerate(["builtins", "list", "app", "Leaf", "str", "name", "app", "weakref", "referent"]):
    rec(2, struct.pack("<I", i) + s.encode())
for address, module, qualname in [(0xA0, 0, 1), (0xB0, 2, 3), (0xC0, 0, 4), (0xD0, 0, 7)]:
    rec(3, struct.pack("<QII", address, module, qualname))
objects = edges_total = 0


def obj(addr, ty, size, refcount, edges, value=None, length=None, name=None):
    global objects, edges_total
    flags = (2 if length is not None else 0) | (4 if value is not None else 0) | (8 if name is not None else 0)
    p = struct.pack("<QQQQIB3x", addr, ty, size, refcount, len(edges), flags)
    for target, label in edges:
        p += struct.pack("<QI", target, label)
    if length is not None:
        p += struct.pack("<Q", length)
    if value is not None:
        p += struct.pack("<H", len(value.encode())) + value.encode()
    if name is not None:
        p += struct.pack("<I", name)
    rec(4, p)
    objects += 1
    edges_total += len(edges)


# Edge labels: kind in the top 3 bits (0 plain, 1 index, 2 attribute, 3 key, 4 local, 5 internal, 6 weak).
obj(0x1000, 0xA0, 72, 1, [(0x2000, 1 << 29), (0x3000, (1 << 29) | 1), (0xDEAD, 0)], length=3)
obj(0x2000, 0xB0, 48, 1, [(0x4000, (2 << 29) | 5)], name=3)
obj(0x3000, 0xB0, 48, 1, [(0x1000, (3 << 29) | 5), (0x2000, (4 << 29) | 5), (0x3000, 5 << 29)])
obj(0x4000, 0xC0, 53, 3, [], value="hello", length=5)
obj(0x5000, 0xD0, 64, 1, [(0x3000, (6 << 29) | 8)])
for address, kind, name in [(0x1000, 1, 6), (0x3000, 4, 5), (0x2000, 3, 3), (0x4000, 2, 4)]:
    rec(5, struct.pack("<QBI", address, kind, name))
# FACT records: a closed file, and a fact about an address that is not in the dump.
for address, fact in [(0x2000, 1), (0xBEEF, 3)]:
    rec(7, struct.pack("<QB", address, fact))
rec(6, struct.pack("<QQQQQ", objects, edges_total, 4, 10**6, 1 << 20))
with open(sys.argv[1], "wb") as f:
    f.write(out)
