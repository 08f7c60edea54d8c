"""Writes small but complete V8 heap snapshots into a directory, as seeds for the `v8` fuzz target: the
synthetic root with a shortcut to the global object, (GC roots) with a category, every node and edge type
the reader maps (context, element, property, internal, hidden, shortcut, weak, a WeakMap entry pair), and
strings with escapes, in V8's layout with 7 node fields and in an older one with 6 (no detachedness).
Real snapshots from Node are megabytes of the runtime's own objects.

    python3 fuzz/seeds/make_small_v8.py fuzz/seeds/v8
"""
import json
import os
import sys

NODE_TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native",
              "synthetic", "concatenated string", "sliced string", "symbol", "bigint", "object shape"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]


def snapshot(detachedness):
    strings = ["<dummy>", "", "(GC roots)", "(Strong roots)", "global", "Holder", "items", "Item", "h\u00e9llo \u2713 \"q\"",
               "secret", "fn", "WeakKey", "WeakValue",
               "1 / part of key (WeakKey @13) -> value (WeakValue @15) pair in WeakMap (table @17)", "table",
               "weakref"]
    s = {v: i for i, v in enumerate(strings)}
    # (type, name, id, self_size, [(edge type, name or index, target node ordinal)])
    nodes = [
        ("synthetic", "", 1, 0, [("element", 1, 1), ("shortcut", s["global"], 3)]),
        ("synthetic", "(GC roots)", 3, 0, [("element", 1, 2)]),
        ("synthetic", "(Strong roots)", 5, 0, [("internal", s["table"], 8), ("weak", s["weakref"], 6)]),
        ("object", "global", 7, 24, [("property", s["Holder"], 4), ("property", s["fn"], 9)]),
        ("object", "Holder", 9, 32, [("property", s["items"], 5), ("shortcut", s["Item"], 6)]),
        ("array", "", 11, 64, [("element", 0, 6), ("element", 7, 6), ("hidden", 3, 7)]),
        ("object", "Item", 13, 16, [("internal", s["1 / part of key (WeakKey @13) -> value (WeakValue @15) pair in WeakMap (table @17)"], 10)]),
        ("string", "h\u00e9llo \u2713 \"q\"", 19, 32, []),
        ("array", "table", 17, 40, [("internal", s["1 / part of key (WeakKey @13) -> value (WeakValue @15) pair in WeakMap (table @17)"], 10)]),
        ("closure", "fn", 21, 32, [("context", s["secret"], 7)]),
        ("object", "WeakValue", 15, 16, []),
    ]
    fields = ["type", "name", "id", "self_size", "edge_count", "trace_node_id"] + (["detachedness"] if detachedness else [])
    flat_nodes, flat_edges = [], []
    for ty, name, nid, size, edges in nodes:
        flat_nodes += [NODE_TYPES.index(ty), s[name], nid, size, len(edges), 0] + ([0] if detachedness else [])
        for ety, name_or_index, to in edges:
            flat_edges += [EDGE_TYPES.index(ety), name_or_index, to * len(fields)]
    meta = {"node_fields": fields, "node_types": [NODE_TYPES] + ["string"] + ["number"] * (len(fields) - 2),
            "edge_fields": ["type", "name_or_index", "to_node"],
            "edge_types": [EDGE_TYPES, "string_or_number", "node"]}
    doc = {"snapshot": {"meta": meta, "node_count": len(nodes), "edge_count": len(flat_edges) // 3,
                        "trace_function_count": 0},
           "nodes": flat_nodes, "edges": flat_edges, "trace_function_infos": [], "trace_tree": [],
           "samples": [], "locations": [], "strings": strings}
    return json.dumps(doc, ensure_ascii=True).replace("],\"", "],\n\"")


def main(directory):
    os.makedirs(directory, exist_ok=True)
    for name, detachedness in [("v7-fields.heapsnapshot", True), ("v6-fields.heapsnapshot", False)]:
        with open(os.path.join(directory, name), "w") as f:
            f.write(snapshot(detachedness))


if __name__ == "__main__":
    main(sys.argv[1])
