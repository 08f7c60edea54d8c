"""Preloaded by `heapgraph run` (its directory is first on PYTHONPATH): installs heapgraph's dumper in the
program being run, which takes dumps on a signal, periodically or at exit, without changing its code.

Configuration comes from HEAPGRAPH_RUN_* environment variables, removed as they are read so that processes
the program starts do not dump too. Dumps are named ``PREFIX-PID-SEQ-TIME.hgd`` (SEQ zero-padded, TIME in
UTC): sorted by name, one process's dumps are in the order they were taken, so the first and the last are
what ``heapgraph growth`` compares. The sitecustomize this file hides, if any, runs afterwards.
"""

import os
import sys


def _install():
    directory = os.environ.pop("HEAPGRAPH_RUN_DIR", None)
    signal_name = os.environ.pop("HEAPGRAPH_RUN_SIGNAL", "")
    every = float(os.environ.pop("HEAPGRAPH_RUN_EVERY", "0") or 0)
    at_exit = os.environ.pop("HEAPGRAPH_RUN_AT_EXIT", "") == "1"
    prefix = os.environ.pop("HEAPGRAPH_RUN_PREFIX", "heap")
    if directory is None:
        return
    import itertools
    import threading
    import time

    import heapgraph_dump

    sequence = itertools.count(1)
    lock = threading.Lock()  # one dump at a time: a timer's and a signal's could overlap

    def take(reason):
        with lock:
            name = "%s-%d-%04d-%s.hgd" % (
                prefix, os.getpid(), next(sequence), time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
            path = os.path.join(directory, name)
            try:
                summary = heapgraph_dump.dump(path)
            except heapgraph_dump.DumpError as error:
                sys.stderr.write("heapgraph run: %s dump failed: %s\n" % (reason, error))
                return
            sys.stderr.write("heapgraph run: %s dump %s: %d objects, paused %.2f s\n"
                             % (reason, path, summary["objects"], summary["seconds"]))

    if signal_name:
        import signal

        signal.signal(getattr(signal, signal_name), lambda number, frame: take(signal_name))
    if every > 0:
        def periodically():
            while True:
                time.sleep(every)
                take("periodic")

        threading.Thread(target=periodically, name="heapgraph-every", daemon=True).start()
    if at_exit:
        import atexit

        atexit.register(take, "exit")


def _run_hidden_sitecustomize():
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_install()
_run_hidden_sitecustomize()
