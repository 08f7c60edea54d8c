"""Run the dumper's fixtures on CPython interpreters and check the dumps against what they expect.

    python testdata/python/run_dumper_checks.py [--python PATH ...] [--keep DIR]

Interpreters: the --python ones, else pyenv's ~/.pyenv/versions/3.{8..13}.*/bin/python, else this one.
(e2e/tests/dumper_checks.rs passes this machine's, and runs the script again inside the 3.14/3.15 chroot
for each of its interpreters.)
For each: the fixtures (fixture_basic, fixture_known_retained, fixture_hostile), the command line, a
dump while two threads mutate the heap, a dump from running generator and coroutine frames, and the error path (unwritable path, file-size limit standing in for a full disk). Every dump is validated
with hgd_check.py. Prints one line per interpreter; exits 1 if any check failed.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DUMPER_DIR = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, "crates", "heapgraph-formats", "python"))
sys.path.insert(0, HERE)
import hgd_check  # noqa: E402  (next to this file)


class Checks:
    """Failures collected for one interpreter."""

    def __init__(self, python):
        self.python = python
        self.failures = []

    def expect(self, condition, what, *args):
        if not condition:
            self.failures.append(what % args if args else what)
        return condition

    def run(self, *args, **kwargs):
        return subprocess.run([self.python] + list(args), capture_output=True, text=True, timeout=600, **kwargs)

    def fixture(self, name, out):
        """Run fixture `name` dumping to `out`; its JSON facts, or None on failure."""
        result = self.run(os.path.join(HERE, name + ".py"), DUMPER_DIR, out)
        if not self.expect(result.returncode == 0, "%s exited %d: %s", name, result.returncode, result.stderr[-2000:]):
            return None
        return json.loads(result.stdout.strip().splitlines()[-1])

    def load(self, path):
        """The dump at `path`, validated against the spec; None when invalid."""
        try:
            return hgd_check.load(path)
        except (hgd_check.FormatError, ValueError, OSError) as error:
            self.expect(False, "%s: invalid dump: %s", os.path.basename(path), error)
            return None


def histogram(dump):
    counts = {}
    for obj in dump.objects.values():
        name = dump.type_name(obj)
        counts[name] = counts.get(name, 0) + 1
    return counts


def holding_in_edges(dump):
    """Number of reference-holding edges (not weak) pointing at each address.

    3.11's deep-frozen static objects (refcount 999999999) reference True/False etc. without counting it.
    """
    counts = {}
    for obj in dump.objects.values():
        if obj.refcount >= 999999999:
            continue
        for target, label in obj.edges:
            if label >> 29 != 6:
                counts[target] = counts.get(target, 0) + 1
    return counts


def has_attribute(dump, source, name, target):
    """`source` reaches `target` by `.name`, directly or through `.__dict__` then `['name']`."""
    edges = dump.edges_of(source) if source in dump.objects else []
    if (target, "." + name) in edges:
        return True
    for dict_address, label in edges:
        if label == ".__dict__" and dict_address in dump.objects:
            if (target, "[%r]" % name) in dump.edges_of(dict_address):
                return True
    return False


def check_common(checks, dump, name):
    """Rules every dump of a quiet process meets."""
    checks.expect(dump.dangling() == 0, "%s: %d dangling edges", name, dump.dangling())
    missing = [root for root in dump.roots if root[0] not in dump.objects]
    checks.expect(not missing, "%s: roots not in the dump: %s", name, missing[:3])
    holding = holding_in_edges(dump)
    over = [obj for obj in dump.objects.values()
            if obj.refcount < 4294967295 and holding.get(obj.address, 0) > obj.refcount]
    checks.expect(not over, "%s: %d objects with more holding edges than references, e.g. %s", name,
                  len(over), [(dump.type_name(o), o.refcount, holding[o.address]) for o in over[:3]])


def check_basic(checks, directory):
    out = os.path.join(directory, "basic.hgd")
    facts = checks.fixture("fixture_basic", out)
    dump = facts and checks.load(out)
    again = facts and checks.load(out + ".again")
    if not dump or not again:
        return
    check_common(checks, dump, "basic")
    version = tuple(int(part) for part in dump.meta["python_version"].split(".")[:2])
    counts = {}
    for obj in dump.objects.values():
        module, qualname = dump.types[obj.type]
        if module == "__main__":
            counts[qualname] = counts.get(qualname, 0) + 1
    for cls, expected in facts["counts"].items():
        checks.expect(counts.get(cls, 0) == expected, "basic: %d %s in dump, %d in heap", counts.get(cls, 0), cls,
                      expected)
    ids = facts["ids"]
    probe = dump.objects.get(ids["probe"])
    checks.expect(probe is not None and probe.refcount == facts["probe_refcount"],
                  "basic: probe refcount %s, expected %d", probe and probe.refcount, facts["probe_refcount"])
    held = facts["held_only_here"]
    checks.expect((held, 4, facts["local_root"]) in dump.roots, "basic: no local root %r", facts["local_root"])
    frames = [obj for obj in dump.objects.values() if (held, "local held_only_here") in dump.edges_of(obj.address)]
    checks.expect(len(frames) == 1, "basic: %d frames with `local held_only_here`", len(frames))
    checks.expect(any(kind == 3 and name.startswith("hold_and_dump() at ") for _, kind, name in dump.roots),
                  "basic: no frame root for hold_and_dump()")
    checks.expect(not any("heapgraph_dump.py" in name for _, kind, name in dump.roots if kind in (3, 4)),
                  "basic: the dumper's own frames are roots")
    for edge in facts["edges"]:
        if "attr" in edge:
            found = has_attribute(dump, edge["from"], edge["attr"], edge["to"])
            what = "." + edge["attr"]
        else:
            found = edge["from"] in dump.objects and (edge["to"], edge["label"]) in dump.edges_of(edge["from"])
            what = edge["label"]
        checks.expect(found, "basic: no edge %s from %s", what, edge["from"])
    if version >= (3, 11):
        checks.expect(dump.meta["attribute_names"], "basic: attribute_names false on %s", version)
        checks.expect((facts["edges"][0]["to"], ".name") in dump.edges_of(ids["holder"]),
                      "basic: no inline `.name` edge on %s", version)
    for address, value in facts["values"].items():
        obj = dump.objects.get(int(address))
        checks.expect(obj is not None and obj.value == value, "basic: value %r, expected %r", obj and obj.value, value)
    for address, name in facts["names"].items():
        obj = dump.objects.get(int(address))
        checks.expect(obj is not None and obj.name == name, "basic: name %r, expected %r", obj and obj.name, name)
    for address in ids["garbage"] + [ids["generator"], ids["weak_proxy"], ids["captured"]]:
        checks.expect(address in dump.objects, "basic: object %#x missing", address)
    checks.expect(facts["before"]["holder_referents"] == facts["after"]["holder_referents"],
                  "basic: dumping changed the instance's referents: %s", facts["after"]["holder_referents"])
    checks.expect(not facts["after"]["f_locals_materialized"], "basic: dumping materialized f_locals")
    checks.expect(facts["after"]["counts"] == facts["counts"], "basic: class counts changed by dumping")
    first, second = histogram(dump), histogram(again)
    changed = {name: (first.get(name), second.get(name)) for name in set(first) | set(second)
               if first.get(name) != second.get(name)}
    checks.expect(not changed, "basic: second dump differs from the first: %s", changed)
    return len(dump.objects)


def check_known_retained(checks, directory):
    out = os.path.join(directory, "retained.hgd")
    facts = checks.fixture("fixture_known_retained", out)
    dump = facts and checks.load(out)
    if not dump:
        return
    check_common(checks, dump, "retained")
    checks.expect(facts["element_refcounts"] == [1], "retained: element refcounts %s", facts["element_refcounts"])
    held = dump.objects.get(facts["list"])
    if not checks.expect(held is not None, "retained: list missing"):
        return
    checks.expect(held.size == facts["list_size"], "retained: list size %d, expected %d", held.size,
                  facts["list_size"])
    targets = [target for target, _ in held.edges]
    labels = [dump.label_text(label) for _, label in held.edges]
    checks.expect(labels == ["[%d]" % i for i in range(facts["count"])], "retained: list labels wrong")
    total = held.size + sum(dump.objects[t].size for t in targets if t in dump.objects)
    checks.expect(total == facts["retained"], "retained: retained %d, expected %d", total, facts["retained"])
    checks.expect(all(dump.objects[t].refcount == 1 for t in targets), "retained: element refcount != 1")
    holding = holding_in_edges(dump)
    checks.expect(all(holding.get(t) == 1 for t in targets), "retained: an element has another referrer")


def check_hostile(checks, directory):
    out = os.path.join(directory, "hostile.hgd")
    facts = checks.fixture("fixture_hostile", out)
    dump = facts and checks.load(out)
    if not dump:
        return
    check_common(checks, dump, "hostile")
    checks.expect(facts["traps"] == [], "hostile: the dump ran the process's code: %s", facts["traps"][:5])
    checks.expect(facts["referents_unchanged"], "hostile: dumping changed referents")
    trap = dump.objects.get(facts["trap"])
    checks.expect(trap is not None and dump.types[trap.type][1] == "Trap", "hostile: Trap type wrong")
    huge = dump.objects.get(facts["huge"])
    expected = "<%d-bit int>" % facts["huge_bits"]
    checks.expect(huge is not None and huge.value == expected, "hostile: huge int value %r", huge and huge.value)
    key = dump.objects.get(facts["lying_key"])
    checks.expect(key is not None and key.value == "trapped-key", "hostile: str subclass value wrong")
    stated = dict(dump.facts)
    open_file, closed_file, open_socket, closed_socket = facts["trapped_files"]
    got = [stated.get(address) for address in (open_file, closed_file, open_socket, closed_socket)]
    checks.expect(got == [None, 1, None, 2], "hostile: facts of open and closed files and sockets %s", got)
    checks.expect(stated.get(facts["finished_frame"]) == 5, "hostile: the finished frame has no fact")
    labels = {label for _, label in dump.edges_of(facts["hostile"])}
    checks.expect("[<TrappedStr>]" in labels and "['trap']" in labels, "hostile: dict key labels %s",
                  sorted(labels)[:8])


def check_command_line(checks, directory):
    result = checks.run(os.path.join(DUMPER_DIR, "heapgraph_dump.py"), "--help")
    checks.expect(result.returncode == 0 and "usage:" in result.stdout, "cli: --help failed")
    script = os.path.join(directory, "script.py")
    with open(script, "w") as handle:
        handle.write("import sys\nMARKER = ['marker'] + sys.argv[1:]\n")
    out = os.path.join(directory, "cli.hgd")
    result = checks.run(os.path.join(DUMPER_DIR, "heapgraph_dump.py"), "-o", out, script, "argument")
    if not checks.expect(result.returncode == 0, "cli: exit %d: %s", result.returncode, result.stderr[-1000:]):
        return
    dump = checks.load(out)
    marked = dump and any(dump.label_text(label) == "['MARKER']"
                          for obj in dump.objects.values() for _, label in obj.edges)
    checks.expect(marked, "cli: the script's global MARKER is not in the dump")
    checks.expect(dump and dump.meta["argv"] == [script, "argument"], "cli: argv %s", dump and dump.meta["argv"])


FAILING_DUMPS = r"""
import json, os, resource, signal, sys
sys.path.insert(0, sys.argv[1])
import heapgraph_dump
results = {}
try:
    heapgraph_dump.dump(os.path.join(sys.argv[2], "missing", "x.hgd"))
except heapgraph_dump.DumpError as error:
    results["missing_dir"] = str(error)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
path = os.path.join(sys.argv[2], "too-big.hgd")
try:
    heapgraph_dump.dump(path)
except heapgraph_dump.DumpError as error:
    results["file_too_big"] = str(error)
results["partial_removed"] = not os.path.exists(path)
print(json.dumps(results))
"""


BUSY_THREADS = r"""
import sys, threading, time
sys.path.insert(0, sys.argv[1])
import heapgraph_dump
data, stop = [], []
def busy():  # never blocks: only the switch interval can take the GIL from it
    while not stop:
        data.append([len(data)])
        if len(data) > 100000:
            del data[:50000]
def sleeper():  # releases the GIL all the time
    while not stop:
        time.sleep(0.0001)
        data.append("s")
threads = [threading.Thread(target=busy, name="busy"), threading.Thread(target=sleeper, name="sleeper")]
for thread in threads:
    thread.start()
time.sleep(0.2)
summary = heapgraph_dump.dump(sys.argv[2])
stop.append(True)
for thread in threads:
    thread.join()
print(summary["seconds"])
"""


def check_threads(checks, directory):
    """Two threads mutating the heap while it is dumped: the walk must see a consistent heap."""
    out = os.path.join(directory, "threads.hgd")
    result = checks.run("-c", BUSY_THREADS, DUMPER_DIR, out)
    if not checks.expect(result.returncode == 0, "threads: exit %d: %s", result.returncode, result.stderr[-1000:]):
        return
    dump = checks.load(out)
    if dump:
        checks.expect(dump.dangling() == 0, "threads: %d dangling edges (heap changed mid-walk)", dump.dangling())
        names = {name.rsplit("[thread ", 1)[-1] for _, kind, name in dump.roots if kind == 3}
        checks.expect({"busy]", "sleeper]", "MainThread]"} <= names, "threads: thread roots %s", sorted(names))
        checks.expect(float(result.stdout) < 30, "threads: dump took %s s", result.stdout.strip())


DUMP_IN_GENERATORS = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[1])
import heapgraph_dump
def generator(first):
    held = [first]
    yield heapgraph_dump.dump(sys.argv[2])
async def coroutine(first):
    held = (first, [first])
    await asyncio.sleep(0)
    return [summary for summary in generator(held)]
print(asyncio.run(coroutine(["argument"]))[0]["objects"])
"""


def check_generators(checks, directory):
    """A dump from running generator and coroutine frames: their objects hold those frames' locals."""
    out = os.path.join(directory, "generators.hgd")
    result = checks.run("-c", DUMP_IN_GENERATORS, DUMPER_DIR, out)
    if not checks.expect(result.returncode == 0, "generators: exit %d: %s", result.returncode, result.stderr[-1000:]):
        return
    dump = checks.load(out)
    if dump:
        check_common(checks, dump, "generators")
        locals_ = {name.split(" in ")[0] for _, kind, name in dump.roots if kind == 4}
        checks.expect({"first", "held"} <= locals_, "generators: local roots %s", sorted(locals_))


def check_errors(checks, directory):
    result = checks.run("-c", FAILING_DUMPS, DUMPER_DIR, directory)
    if not checks.expect(result.returncode == 0, "errors: exit %d: %s", result.returncode, result.stderr[-1000:]):
        return
    results = json.loads(result.stdout)
    checks.expect("missing_dir" in results, "errors: no DumpError for a missing directory")
    checks.expect("file_too_big" in results, "errors: no DumpError when the file cannot grow")
    checks.expect(results.get("partial_removed"), "errors: partial file left behind")


def interpreters(argv):
    chosen = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--python"]
    if chosen:
        return chosen
    found = []
    for minor in range(8, 14):
        found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.%d.*/bin/python" % minor)))[-1:]
    return found or [sys.executable]


def main(argv):
    keep = argv[argv.index("--keep") + 1] if "--keep" in argv else None
    failed = False
    for python in interpreters(argv):
        checks = Checks(python)
        directory = keep or tempfile.mkdtemp(prefix="hgd-checks-")
        if keep:
            os.makedirs(directory, exist_ok=True)
        objects = check_basic(checks, directory)
        check_known_retained(checks, directory)
        check_hostile(checks, directory)
        check_command_line(checks, directory)
        check_threads(checks, directory)
        check_generators(checks, directory)
        check_errors(checks, directory)
        status = "ok" if not checks.failures else "FAILED"
        print("%-50s %s (basic dump: %s objects)" % (python, status, objects))
        for failure in checks.failures:
            print("    " + failure)
        failed = failed or bool(checks.failures)
        if not keep:
            subprocess.run(["rm", "-rf", directory])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
