"""Runs inside the target process when `heapgraph dump --pid` asks it to, at a safe point of its main thread
(a pending call queued through gdb, or `sys.remote_exec` on 3.14+). Standard library only.

The directory holding this file is the hand-over between heapgraph and the target:

* ``request.json`` (written by heapgraph): where to write the dump, whether to collect first.
* ``claim`` (created with O_EXCL): whoever creates it first wins. The target creates it when it starts the
  dump; heapgraph creates it when it stops waiting, so a request that runs late does nothing.
* ``status.json`` (written here, renamed into place): the dumper's summary, or its error, and how long the
  main thread was taken away from its own work.

It runs in a fresh globals dict, so it binds no name in the target's ``__main__``.
"""

import json
import os
import sys
import time


def _load_dumper(here, version):
    """The dumper module: the one a previous request left in sys.modules, or a fresh copy from `here`."""
    module = sys.modules.get("heapgraph_dump")
    if module is not None and getattr(module, "__version__", None) == version:
        return module
    path = os.path.join(here, "heapgraph_dump.py")
    with open(path) as source:
        code = compile(source.read(), path, "exec")
    module = type(sys)("heapgraph_dump")
    module.__file__ = path
    sys.modules["heapgraph_dump"] = module  # kept: a second dump reuses it instead of reloading
    exec(code, module.__dict__)
    return module


def _main(here):
    started = time.perf_counter()
    try:
        os.close(os.open(os.path.join(here, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except OSError:
        return  # heapgraph stopped waiting (or this request already ran): nothing to do
    with open(os.path.join(here, "request.json")) as f:
        request = json.load(f)
    try:
        dumper = _load_dumper(here, request["dumper_version"])
        status = {"ok": True, "summary": dumper.dump(request["output"], collect=request["collect"])}
    except Exception as error:  # reported to heapgraph; the target carries on
        status = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
    status["paused_seconds"] = time.perf_counter() - started
    status["python"] = sys.version.split()[0]
    path = os.path.join(here, "status.json")
    with open(path + ".tmp", "w") as f:
        json.dump(status, f)
    os.rename(path + ".tmp", path)


_main(os.path.dirname(__file__))
