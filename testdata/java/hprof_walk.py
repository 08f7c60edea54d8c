"""A plain HPROF walker for the test oracles (allocation_stacks.py, android/heap_counts.py), sharing no
code with heapgraph's reader: the top-level records, and the sub-records of a heap dump body.

    dump = Dump(path)
    for tag, body, end in dump.records(): ...
    for sub, at in dump.sub_records(body, end): ...   # at: just after the sub-record's tag
"""
import struct


class Dump:
    def __init__(self, path):
        self.data = data = open(path, "rb").read()
        at = data.index(b"\0") + 1
        self.ids = ids = struct.unpack(">I", data[at:at + 4])[0]
        self.start = at + 12
        # Value sizes by basic type, and root sub-records: tag -> bytes after the tag.
        self.sizes = {1: ids, 2: ids, 4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
        self.roots = {0xFF: ids, 0x01: 2 * ids, 0x02: ids + 8, 0x03: ids + 8, 0x04: ids + 4, 0x05: ids,
                      0x06: ids + 4, 0x07: ids, 0x08: ids + 8, 0x89: ids, 0x8A: ids, 0x8B: ids,
                      0x8C: ids, 0x8D: ids, 0x8E: ids + 8, 0x90: ids}

    def ident(self, p):
        return int.from_bytes(self.data[p:p + self.ids], "big")

    def u2(self, p):
        return struct.unpack(">H", self.data[p:p + 2])[0]

    def u4(self, p):
        return struct.unpack(">I", self.data[p:p + 4])[0]

    def i4(self, p):
        return struct.unpack(">i", self.data[p:p + 4])[0]

    def records(self):
        """Every top-level record: (tag, body start, body end)."""
        at = self.start
        while at < len(self.data):
            tag, length = self.data[at], self.u4(at + 5)
            yield tag, at + 9, at + 9 + length
            at += 9 + length

    def _values(self, p, count, named):
        for _ in range(count):
            p += self.ids if named else 2
            p += 1 + self.sizes[self.data[p]]
        return p

    def sub_records(self, body, end):
        """Every sub-record of a HEAP DUMP (SEGMENT) body: (tag, the byte after the tag)."""
        data, ids, p = self.data, self.ids, body
        while p < end:
            sub = data[p]
            p += 1
            yield sub, p
            if sub in self.roots:
                p += self.roots[sub]
            elif sub == 0xFE:
                p += 4 + ids
            elif sub == 0x20:
                p += 7 * ids + 8
                p = self._values(p + 2, self.u2(p), False)
                p = self._values(p + 2, self.u2(p), True)
                p += 2 + self.u2(p) * (ids + 1)
            elif sub == 0x21:
                p += 2 * ids + 8 + self.u4(p + 2 * ids + 4)
            elif sub == 0x22:
                p += 2 * ids + 8 + self.u4(p + ids + 4) * ids
            elif sub in (0x23, 0xC3):
                n, ty = self.u4(p + ids + 4), data[p + ids + 8]
                p += ids + 9 + (n * self.sizes[ty] if sub == 0x23 else 0)
            else:
                raise SystemExit(f"unknown sub-record {sub:#x} at byte {p - 1}")
