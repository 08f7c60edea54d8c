"""Writes small but complete V8 heap snapshots into a directory, as seeds for the `v8` fuzz target: the
synthetic root with a shortcut to the global object, (GC roots) with a category, every node and edge type
the reader maps (context, element, property, internal, hidden, shortcut, weak, a WeakMap entry pair), and
strings with escapes, in V8's layout with 7 node fields and in an older one with 6 (no detachedness). The
first was taken with allocation tracking (a tree of allocation stacks that some nodes name) and has
`locations` (where the holder's constructor is defined); the older layout has neither.
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
               "weakref", "(root)", "main", "makeItems", "app.js"]
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
    # Allocation tracking: functions (function_id, name, script_name, script_id, line, column) and the
    # tree (id, function_info_index, count, size, children) of (root) -> main -> makeItems; the holder was
    # allocated in main (trace node 2), the items and their array in makeItems (3).
    tracked = detachedness
    functions = [0, s["(root)"], s[""], 0, 0, 0, 1, s["main"], s["app.js"], 3, 10, 1,
                 2, s["makeItems"], s["app.js"], 3, 4, 18] if tracked else []
    tree = [1, 0, 0, 0, [2, 1, 1, 32, [3, 2, 2, 80, []]]] if tracked else []
    allocated = {"Holder": 2, "Item": 3, "": 3} if tracked else {}
    flat_nodes, flat_edges = [], []
    for ty, name, nid, size, edges in nodes:
        trace = allocated.get(name, 0) if ty in ("object", "array") else 0
        flat_nodes += [NODE_TYPES.index(ty), s[name], nid, size, len(edges), trace] + ([0] if detachedness else [])
        for ety, name_or_index, to in edges:
            flat_edges += [EDGE_TYPES.index(ety), name_or_index, to * len(fields)]
    meta = {"node_fields": fields, "node_types": [NODE_TYPES] + ["string"] + ["number"] * (len(fields) - 2),
            "edge_fields": ["type", "name_or_index", "to_node"],
            "edge_types": [EDGE_TYPES, "string_or_number", "node"],
            "trace_function_info_fields": ["function_id", "name", "script_name", "script_id", "line", "column"],
            "trace_node_fields": ["id", "function_info_index", "count", "size", "children"]}
    if tracked:
        meta["location_fields"] = ["object_index", "script_id", "line", "column"]
    doc = {"snapshot": {"meta": meta, "node_count": len(nodes), "edge_count": len(flat_edges) // 3,
                        "trace_function_count": len(functions) // 6},
           "nodes": flat_nodes, "edges": flat_edges, "trace_function_infos": functions, "trace_tree": tree,
           "samples": []}
    if tracked:
        holder = next(i for i, node in enumerate(nodes) if node[1] == "Holder")
        doc["locations"] = [holder * len(fields), 3, 1, 0]
    doc["strings"] = strings
    return json.dumps(doc, ensure_ascii=True).replace("],\"", "],\n\"")


def main(directory):
    os.makedirs(directory, exist_ok=True)
    for name, detachedness in [("v7-fields.heapsnapshot", True), ("v6-fields.heapsnapshot", False)]:
        with open(os.path.join(directory, name), "w") as f:
            f.write(snapshot(detachedness))


if __name__ == "__main__":
    main(sys.argv[1])
