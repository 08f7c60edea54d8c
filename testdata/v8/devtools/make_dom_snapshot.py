"""Writes dom.heapsnapshot: a small heap snapshot shaped as Chrome writes one for a page, with what Node's
snapshots lack: DOM (native) nodes attached, detached and in between, element names with attributes,
plain objects for DevTools' {a, b} names (one property needing quotes, one list too long for a name), two constructors of one name
told apart by their locations, and arrays one object alone owns or two share. The test compares
`heapgraph types` on it with DevTools' own Summary.
    python3 make_dom_snapshot.py > dom.heapsnapshot
"""
import json

NODE_TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native",
              "synthetic", "concatenated string", "sliced string", "symbol", "bigint", "object shape"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]

strings = []
def s(text):
    if text not in strings:
        strings.append(text)
    return strings.index(text)

nodes = []  # [type, name, self_size, detachedness, edges: [(type, name_or_index, target)]]
def node(ty, name, size, detachedness=0):
    nodes.append([ty, name, size, detachedness, []])
    return len(nodes) - 1
def edge(src, ty, name, dst):
    nodes[src][4].append((ty, name, dst))

root = node("synthetic", "", 0)
gc_roots = node("synthetic", "(GC roots)", 0)
strong = node("synthetic", "(Strong roots)", 0)
dom_trees = node("synthetic", "(Document DOM trees)", 0)
window = node("object", "Window", 120)
edge(root, "shortcut", "window", window)
edge(root, "element", 1, gc_roots)
edge(root, "element", 2, dom_trees)
edge(gc_roots, "element", 1, strong)

# The document and its attached elements; one detached subtree, one element both reach.
document = node("native", "HTMLDocument", 400, detachedness=1)
edge(dom_trees, "element", 1, document)
edge(window, "property", "document", document)
body = node("native", '<body class="main">', 90)
edge(document, "element", 1, body)
div_a = node("native", '<div id="a" class="x">', 80)
edge(body, "element", 1, div_a)
gone = node("native", '<div id="gone">', 80, detachedness=2)
para = node("native", "<p>", 60)
text = node("native", "Text", 30)
shared = node("native", "<span>", 40)
edge(gone, "element", 1, para)
edge(para, "element", 1, text)
edge(para, "element", 2, shared)
edge(div_a, "element", 1, shared)  # attached wins: reached from the document first
edge(para, "hidden", 3, node("native", "<em>", 20))
holder = node("object", "Holder", 32)
edge(window, "property", "held", holder)
edge(holder, "property", "el", gone)
edge(strong, "element", 1, gone)

# Arrays: one owned by the holder alone (its size moves there), one shared by two objects.
owned = node("array", "(object elements)", 64)
edge(holder, "internal", "elements", owned)
owned_inner = node("hidden", "system / Something", 16)
edge(owned, "internal", "x", owned_inner)
shared_array = node("array", "(object elements)", 48)
edge(holder, "internal", "shared", shared_array)
edge(window, "internal", "shared", shared_array)

# Plain objects: {a, b} three times, {a, b, c} twice, {"x,y", z} twice, a lone {q}, and twice one with
# more properties than an interface name holds (it stops at 120 characters).
long = [f"a_rather_long_property_name_{i}" for i in range(8)]
for props in [["a", "b"]] * 3 + [["a", "b", "c"]] * 2 + [["x,y", "z"]] * 2 + [["q"]] + [long] * 2:
    o = node("object", "Object", 28)
    edge(window, "element", len(nodes), o)
    for p in props:
        edge(o, "property", p, node("number", "1.5", 16))

# Two constructors named Thing, told apart by their locations, and a closure and a regexp.
things = [node("object", "Thing", 24) for _ in range(3)]
for t in things:
    edge(window, "property", "thing", t)
closure = node("closure", "run", 32)
edge(window, "property", "run", closure)
regexp = node("regexp", "a+b", 32)
edge(window, "property", "re", regexp)
locations = [[things[0], 1, 10, 4], [things[1], 1, 10, 4], [things[2], 2, 3, 0]]

fields = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
flat_nodes, flat_edges = [], []
for i, (ty, name, size, detached, edges) in enumerate(nodes):
    flat_nodes += [NODE_TYPES.index(ty), s(name), 2 * i + 1, size, len(edges), 0, detached]
    for ety, ename, dst in edges:
        name_or_index = ename if isinstance(ename, int) else s(ename)
        flat_edges += [EDGE_TYPES.index(ety), name_or_index, dst * len(fields)]
snapshot = {
    "snapshot": {
        "meta": {
            "node_fields": fields,
            "node_types": [NODE_TYPES, "string", "number", "number", "number", "number", "number"],
            "edge_fields": ["type", "name_or_index", "to_node"],
            "edge_types": [EDGE_TYPES, "string_or_number", "node"],
            "location_fields": ["object_index", "script_id", "line", "column"],
        },
        "node_count": len(nodes),
        "edge_count": len(flat_edges) // 3,
        "trace_function_count": 0,
    },
    "nodes": flat_nodes,
    "edges": flat_edges,
    "locations": [v for o, *rest in locations for v in [o * len(fields), *rest]],
    "strings": strings,
}
print(json.dumps(snapshot))
