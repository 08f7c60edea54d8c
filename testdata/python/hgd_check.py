"""Parse a heapgraph Python dump (.hgd v1), check every rule of docs/formats.md, print a JSON summary.

    python hgd_check.py DUMP.hgd          # exit status 1 and the broken rule on stderr if invalid

Also a small library for tests: `load(path)` returns a `Dump` with every record decoded. Independent of
heapgraph_dump.py on purpose: it checks the dumper against the spec, not against itself.
"""

import json
import struct
import sys

MAGIC = b"\x89HGD\r\n\x1a\n"
KINDS = ("plain", "index", "attr", "key", "local", "internal", "weak")
STRING_KINDS = {2, 3, 4, 5, 6}
META_KEYS = {
    "format", "dumper_version", "python_version", "implementation", "pid", "argv", "platform",
    "executable", "time", "pointer_size", "rss_bytes", "attribute_names", "gc_collected",
}


class FormatError(Exception):
    """The file breaks a rule of the spec."""


class Object:
    """One OBJECT record."""

    __slots__ = ("address", "type", "size", "refcount", "flags", "edges", "len", "value", "name")

    @property
    def tracked(self):
        return bool(self.flags & 1)


class Dump:
    """Every record of a dump, decoded."""

    def __init__(self):
        self.meta = None
        self.strings = []
        self.types = {}  # address -> (module, qualname)
        self.objects = {}  # address -> Object
        self.roots = []  # (address, kind, name)
        self.facts = []  # (address, fact code)
        self.traces = []  # trace id -> [(file, line)], allocating frame first
        self.allocated = {}  # address -> trace id
        self.end = None
        self.edge_count = 0

    def type_name(self, obj):
        module, qualname = self.types[obj.type]
        return qualname if module == "builtins" else "%s.%s" % (module, qualname)

    def label_text(self, label):
        """The label as heapgraph prints it: `[3]`, `.name`, `['k']`, `local x`, `<key>`, `weak referent`."""
        kind, payload = label >> 29, label & ((1 << 29) - 1)
        if kind == 0:
            return ""
        if kind == 1:
            return "[%d]" % payload
        text = self.strings[payload]
        return {2: ".%s", 3: "[%s]", 4: "local %s", 5: "<%s>", 6: "weak %s"}[kind] % text

    def edges_of(self, address):
        """[(target, label text)] of the object at `address`."""
        return [(target, self.label_text(label)) for target, label in self.objects[address].edges]

    def referrers(self, address):
        """[(source address, label text)] of edges pointing at `address`."""
        found = []
        for obj in self.objects.values():
            for target, label in obj.edges:
                if target == address:
                    found.append((obj.address, self.label_text(label)))
        return found

    def dangling(self):
        return sum(1 for obj in self.objects.values() for target, _ in obj.edges if target not in self.objects)


def _need(condition, message, *args):
    if not condition:
        raise FormatError(message % args)


def load(path):
    """Read and validate `path`; raise FormatError on the first broken rule."""
    with open(path, "rb") as handle:
        data = handle.read()
    _need(len(data) >= 16 and data[:8] == MAGIC, "bad magic")
    version, flags = struct.unpack_from("<II", data, 8)
    _need(version == 1, "unknown version %d", version)
    _need(flags == 0, "reserved header flags %d", flags)
    dump = Dump()
    offset = 16
    while offset < len(data):
        _need(offset + 5 <= len(data), "record header cut at %d", offset)
        tag, length = struct.unpack_from("<BI", data, offset)
        start, offset = offset + 5, offset + 5 + length
        _need(offset <= len(data), "record at %d runs past the end (truncated file)", start - 5)
        _need(dump.end is None, "record after END")
        payload = data[start:offset]
        _need(dump.meta is not None or tag == 1, "first record is not META")
        if tag == 1:
            _need(dump.meta is None, "second META")
            dump.meta = json.loads(payload.decode("utf-8"))
            _need(isinstance(dump.meta, dict), "META is not a JSON object")
            missing = META_KEYS - set(dump.meta)
            _need(not missing, "META lacks %s", sorted(missing))
            _need(dump.meta["format"] == "heapgraph-python", "META format %r", dump.meta["format"])
        elif tag == 2:
            _need(len(payload) >= 4, "short STRING")
            (sid,) = struct.unpack_from("<I", payload)
            _need(sid == len(dump.strings), "STRING id %d, expected %d", sid, len(dump.strings))
            dump.strings.append(payload[4:].decode("utf-8"))
        elif tag == 3:
            _need(length == 16, "TYPE length %d", length)
            address, module, qualname = struct.unpack_from("<QII", payload)
            _need(address not in dump.types, "second TYPE for %#x", address)
            dump.types[address] = (_string(dump, module), _string(dump, qualname))
        elif tag == 4:
            _read_object(dump, payload)
        elif tag == 5:
            _need(length == 13, "ROOT length %d", length)
            address, kind, name = struct.unpack_from("<QBI", payload)
            _need(1 <= kind <= 4, "ROOT kind %d", kind)
            dump.roots.append((address, kind, _string(dump, name)))
        elif tag == 7:
            _need(length == 9, "FACT length %d", length)
            address, fact = struct.unpack_from("<QB", payload)
            _need(1 <= fact <= 5, "FACT code %d", fact)
            dump.facts.append((address, fact))
        elif tag == 8:
            _read_trace(dump, payload)
        elif tag == 9:
            _read_allocated(dump, payload)
        elif tag == 6:
            _need(length == 40, "END length %d", length)
            dump.end = struct.unpack_from("<QQQQQ", payload)
    _need(dump.end is not None, "no END record (file cut short)")
    objects, edges, roots = dump.end[:3]
    _need(objects == len(dump.objects), "END says %d objects, read %d", objects, len(dump.objects))
    _need(edges == dump.edge_count, "END says %d edges, read %d", edges, dump.edge_count)
    _need(roots == len(dump.roots), "END says %d roots, read %d", roots, len(dump.roots))
    return dump


def _string(dump, sid):
    _need(sid < len(dump.strings), "string id %d used before its STRING record", sid)
    return dump.strings[sid]


def _read_trace(dump, payload):
    _need(len(payload) >= 4 and (len(payload) - 4) % 8 == 0, "TRACE length %d", len(payload))
    (trace,) = struct.unpack_from("<I", payload)
    _need(trace == len(dump.traces), "TRACE id %d, expected %d", trace, len(dump.traces))
    frames = [struct.unpack_from("<II", payload, at) for at in range(4, len(payload), 8)]
    dump.traces.append([(_string(dump, file), line) for file, line in frames])


def _read_allocated(dump, payload):
    _need(len(payload) % 12 == 0, "ALLOCATED length %d", len(payload))
    for at in range(0, len(payload), 12):
        address, trace = struct.unpack_from("<QI", payload, at)
        _need(trace < len(dump.traces), "ALLOCATED names trace %d before its TRACE record", trace)
        _need(address in dump.objects, "ALLOCATED names %#x before its OBJECT record", address)
        _need(address not in dump.allocated, "second ALLOCATED pair for %#x", address)
        dump.allocated[address] = trace


def _read_object(dump, payload):
    _need(len(payload) >= 40, "short OBJECT")
    obj = Object()
    obj.address, obj.type, obj.size, obj.refcount, count, obj.flags = struct.unpack_from("<QQQQIB", payload)
    _need(payload[37:40] == b"\0\0\0", "OBJECT padding not zero at %#x", obj.address)
    _need(obj.flags < 16, "reserved OBJECT flags %#x", obj.flags)
    _need(obj.type in dump.types, "OBJECT %#x uses type %#x before its TYPE record", obj.address, obj.type)
    _need(obj.address not in dump.objects, "second OBJECT for %#x", obj.address)
    position = 40 + 12 * count
    _need(position <= len(payload), "OBJECT %#x edges run past its record", obj.address)
    obj.edges = []
    for i in range(count):
        target, label = struct.unpack_from("<QI", payload, 40 + 12 * i)
        kind = label >> 29
        _need(kind != 7, "reserved edge kind 7 in %#x", obj.address)
        if kind in STRING_KINDS:
            _string(dump, label & ((1 << 29) - 1))
        _need(kind != 0 or label == 0, "plain edge with payload in %#x", obj.address)
        obj.edges.append((target, label))
    obj.len = obj.value = obj.name = None
    if obj.flags & 2:
        (obj.len,) = struct.unpack_from("<Q", payload, position)
        position += 8
    if obj.flags & 4:
        (size,) = struct.unpack_from("<H", payload, position)
        obj.value = payload[position + 2:position + 2 + size].decode("utf-8")
        position += 2 + size
    if obj.flags & 8:
        (sid,) = struct.unpack_from("<I", payload, position)
        obj.name = _string(dump, sid)
        position += 4
    _need(position == len(payload), "OBJECT %#x length %d, fields end at %d", obj.address, len(payload), position)
    dump.objects[obj.address] = obj
    dump.edge_count += count


def summary(dump):
    """Facts about a dump, as a JSON-ready dict."""
    by_type = {}
    for obj in dump.objects.values():
        name = dump.type_name(obj)
        by_type[name] = by_type.get(name, 0) + 1
    kinds = {}
    for obj in dump.objects.values():
        for _, label in obj.edges:
            kinds[KINDS[label >> 29]] = kinds.get(KINDS[label >> 29], 0) + 1
    return {
        "python_version": dump.meta["python_version"],
        "attribute_names": dump.meta["attribute_names"],
        "objects": len(dump.objects),
        "edges": dump.edge_count,
        "edge_kinds": kinds,
        "roots": len(dump.roots),
        "root_kinds": {str(k): sum(1 for r in dump.roots if r[1] == k) for k in (1, 2, 3, 4)},
        "strings": len(dump.strings),
        "types": len(dump.types),
        "dangling_edges": dump.dangling(),
        "missing_roots": sum(1 for address, _, _ in dump.roots if address not in dump.objects),
        "bytes_shallow": sum(obj.size for obj in dump.objects.values()),
        "duration_ms": dump.end[3] / 1e6,
        "allocation_sites": {"objects": len(dump.allocated), "traces": len(dump.traces)},
        "top_types": sorted(by_type.items(), key=lambda item: -item[1])[:10],
    }


def main(argv):
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    try:
        dump = load(argv[0])
    except (FormatError, UnicodeDecodeError, ValueError) as error:
        sys.stderr.write("invalid dump: %s\n" % error)
        return 1
    print(json.dumps(summary(dump)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
