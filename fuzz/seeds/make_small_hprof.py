"""Writes small but complete HPROF dumps into a directory, as seeds for the `hprof` fuzz target: every record
kind the reader uses (strings, classes, stack frames and traces: a thread's and objects' allocation
stacks, heap dumps and segments) and every heap
sub-record kind (roots of each kind, class, instance, object and primitive array dumps, Android's heap
info), in 1.0.1 with 4-byte ids, 1.0.2 with 8-byte ids and segments, 1.0.3 with Android's tags, and gzipped.
Real dumps from a JVM are megabytes of JDK classes, far beyond what the fuzzer mutates usefully.

    python3 fuzz/seeds/make_small_hprof.py fuzz/seeds/hprof
"""
import gzip
import os
import struct
import sys


def dump(version, id_size, segmented, android=False):
    out = bytearray(version.encode() + b"\0" + struct.pack(">IQ", id_size, 1795467723000))

    def ident(v):
        return v.to_bytes(id_size, "big")

    def record(tag, body):
        out.extend(struct.pack(">BII", tag, 0, len(body)) + body)

    names = {}

    def utf8(text):
        names[text] = name_id = len(names) + 1
        record(0x01, ident(name_id) + text.encode())
        return name_id

    classes = [(0x100, "java/lang/Object"), (0x200, "app/Leaf"), (0x300, "java/lang/ref/WeakReference"),
               (0x380, "java/lang/ref/Reference"), (0x400, "[Ljava/lang/Object;"), (0x500, "[I"),
               (0x600, "java/lang/Thread")]
    for serial, (class_id, name) in enumerate(classes, 1):
        record(0x02, struct.pack(">I", serial) + ident(class_id) + struct.pack(">I", 0) + ident(utf8(name)))
    for field in ["next", "value", "referent", "LEAF", "main", "()V", "Main.java", "<init>"]:
        utf8(field)
    record(0x04, ident(0x9000) + ident(names["main"]) + ident(names["()V"]) + ident(names["Main.java"])
           + struct.pack(">Ii", 2, 12))
    record(0x04, ident(0x9010) + ident(names["<init>"]) + ident(names["()V"]) + ident(names["Main.java"])
           + struct.pack(">Ii", 2, 3))
    record(0x05, struct.pack(">III", 7, 1, 1) + ident(0x9000))
    record(0x05, struct.pack(">III", 8, 1, 2) + ident(0x9010) + ident(0x9000))

    heap = bytearray()

    def class_dump(class_id, super_id, statics, fields):
        h = bytes([0x20]) + ident(class_id) + struct.pack(">I", 0) + ident(super_id) + ident(0) * 5
        h += struct.pack(">IHH", 0, 0, len(statics))
        for name, value in statics:
            h += ident(names[name]) + bytes([2]) + ident(value)
        h += struct.pack(">H", len(fields))
        for name, ty in fields:
            h += ident(names[name]) + bytes([ty])
        heap.extend(h)

    if android:
        heap.extend(bytes([0xFE]) + struct.pack(">I", 1) + ident(names["main"]))
    heap.extend(bytes([0x05]) + ident(0x200))
    heap.extend(bytes([0x01]) + ident(0x1040) + ident(0))
    heap.extend(bytes([0x02]) + ident(0x1000) + struct.pack(">II", 1, 0))
    heap.extend(bytes([0x03]) + ident(0x1020) + struct.pack(">II", 1, 0))
    heap.extend(bytes([0x08]) + ident(0x10c0) + struct.pack(">II", 1, 7))
    heap.extend(bytes([0xFF]) + ident(0x1088))
    class_dump(0x100, 0, [], [])
    class_dump(0x200, 0x100, [("LEAF", 0x1000)], [("next", 2), ("value", 10)])
    class_dump(0x380, 0x100, [], [("referent", 2)])
    class_dump(0x300, 0x380, [], [])
    class_dump(0x400, 0x100, [], [])
    class_dump(0x500, 0x100, [], [])
    class_dump(0x600, 0x100, [], [])
    split = len(heap)

    def instance(obj, class_id, fields, trace=0):
        heap.extend(bytes([0x21]) + ident(obj) + struct.pack(">I", trace) + ident(class_id)
                    + struct.pack(">I", len(fields)) + fields)

    # The leaves and the array were allocated in Leaf.<init> called from main (trace 8).
    instance(0x1000, 0x200, ident(0x1020) + struct.pack(">i", 7), trace=8)
    instance(0x1020, 0x200, ident(0) + struct.pack(">i", 8), trace=8)
    heap.extend(bytes([0x22]) + ident(0x1040) + struct.pack(">II", 8, 3) + ident(0x400)
                + ident(0x1000) + ident(0) + ident(0xdead))
    heap.extend(bytes([0x23]) + ident(0x1070) + struct.pack(">IIB", 0, 3, 10) + struct.pack(">iii", 1, 2, 3))
    instance(0x1088, 0x300, ident(0x1020))
    instance(0x10c0, 0x600, b"")
    if segmented:
        record(0x1C, bytes(heap[:split]))
        record(0x1C, bytes(heap[split:]))
        record(0x2C, b"")
    else:
        record(0x0C, bytes(heap))
    return bytes(out)


def main(directory):
    os.makedirs(directory, exist_ok=True)
    seeds = {
        "v101-id4.hprof": dump("JAVA PROFILE 1.0.1", 4, False),
        "v102-id8-segments.hprof": dump("JAVA PROFILE 1.0.2", 8, True),
        "v103-android.hprof": dump("JAVA PROFILE 1.0.3", 4, True, android=True),
    }
    seeds["v102-id8-segments.hprof.gz"] = gzip.compress(seeds["v102-id8-segments.hprof"], mtime=0)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
