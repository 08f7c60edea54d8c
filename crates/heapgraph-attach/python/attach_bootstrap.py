"""Runs inside the target process when `heapgraph dump --pid` asks it to, at a safe point of its main thread
(a pending call queued by heapgraph, or `sys.remote_exec` on 3.14+). Standard library only.

The directory holding this file is the hand-over between heapgraph and the target:

* ``request.json`` (written by heapgraph): where to write the dump, whether to collect first, whether to
  fork a process that writes it.
* ``claim`` (created with O_EXCL): whoever creates it first wins. The target creates it when it starts the
  dump; heapgraph creates it when it stops waiting, so a request that runs late does nothing.
* ``forked.json`` (written by the target once it forked): the dumping process's pid and how long the main
  thread was taken away from its own work.
* ``status.json`` (written here, renamed into place, by whichever process wrote the dump): the dumper's
  summary, or its error, which way the dump was taken, and what it cost.

With ``fork``, the main thread forks twice and goes back to its work: the first child forks the process
that dumps and exits at once, so the service is left no child of ours to reap, and the dumping process
sees the heap as it was at the fork (copy-on-write) however long the walk takes. That process touches
nothing the service shares: see ``_detach``. If the fork fails, the dump is taken in place.

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


def _write_json(here, name, value):
    path = os.path.join(here, name)
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.rename(path + ".tmp", path)


def _run_dumper(here, request, service=None):
    """The dump as a status dict; `service` is the process the dump describes when it is not this one
    (whose collector already ran when the request asked for it)."""
    try:
        dumper = _load_dumper(here, request["dumper_version"])
        collect = request["collect"]
        if service is not None:
            _describe_as(dumper, service, collect)
            collect = False
        status = {"ok": True, "summary": dumper.dump(request["output"], collect=collect)}
    except Exception as error:  # reported to heapgraph; the target carries on
        status = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
    status["python"] = sys.version.split()[0]
    return status


def _describe_as(dumper, pid, collected):
    """Makes the dump's header describe the service, not the forked process that writes it."""
    meta = getattr(dumper, "_meta", None)
    if meta is None:
        return

    def service_meta(*args, **kwargs):
        fields = meta(*args, **kwargs)
        if isinstance(fields, dict):
            fields.update(pid=pid, gc_collected=bool(collected))
        return fields

    dumper._meta = service_meta


def _private_bytes():
    """Memory mapped by this process alone (Private_Clean + Private_Dirty), or None without smaps_rollup.

    In a forked child these are the pages copied since the fork, by either side, plus its own
    allocations: what the fork added to the machine's memory use."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[key].split()[0]) * 1024 for key in ("Private_Clean", "Private_Dirty"))
    except (OSError, KeyError, ValueError, IndexError):
        return None


def _detach(signal, mask):
    """First steps of the dumping process: nothing it does from here reaches the service or its peers.

    Signal handlers the service installed in Python go back to the default action, so a SIGTERM sent to
    the whole group ends the dump instead of running the service's shutdown code here, and the signal
    wakeup fd (an asyncio loop's socket, shared with the service) is dropped so a signal here never
    wakes the service. Standard streams go to /dev/null; every other inherited descriptor is closed, so
    sockets and pipes the service closes reach EOF, and listening ports and flock()s are released, as if
    this process did not exist. Under memory pressure the kernel kills this process before the service."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for number in signal.valid_signals():
        try:
            if callable(signal.getsignal(number)):
                signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    try:
        inherited = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc (a chroot): every possible descriptor
        inherited = range(3, min(os.sysconf("SC_OPEN_MAX"), 1 << 16))
    for fd in inherited:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def _dump_in_child(here, request, service, signal, mask):
    """The dumping process: detach, dump, report, and leave by os._exit (no atexit handler, no flush)."""
    code = 1
    try:
        try:
            _detach(signal, mask)
        except Exception as error:
            _write_json(here, "status.json", {"ok": False, "way": "fork", "error": "%s: %s" % (type(error).__name__, error)})
            raise
        status = _run_dumper(here, request, service)
        status["way"] = "fork"
        status["child_pid"] = os.getpid()
        status["child_private_bytes"] = _private_bytes()
        _write_json(here, "status.json", status)
        code = 0 if status["ok"] else 1
    finally:
        os._exit(code)


def _fork(here, request, started):
    """Forks the dumping process. Returns None once it runs, or why the dump must be taken in place."""
    import signal
    import warnings

    service = os.getpid()
    read_end, write_end = os.pipe()
    # SIGCHLD stays blocked on this thread until the first child is reaped, so that the service's own
    # handler (if any) does not reap it first; other threads may still take the signal, hence the
    # ChildProcessError below.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    try:
        # 3.12+ warns on the service's stderr when forking with threads; the dumping process runs no
        # thread code and leaves by os._exit, which is what the warning is about.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                first = os.fork()
            except OSError as error:
                return "fork failed: %s" % error
            if first == 0:
                try:
                    os.close(read_end)
                    child = os.fork()
                    if child == 0:
                        _dump_in_child(here, request, service, signal, mask)
                    os.write(write_end, b"%d\n" % child)
                finally:
                    os._exit(0)
        os.close(write_end)
        write_end = None
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = os.read(read_end, 64)
            if not chunk:
                break
            answer += chunk
        try:
            os.waitpid(first, 0)
        except ChildProcessError:
            pass  # the service's own SIGCHLD handling reaped it
        _consume_our_sigchld(signal)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)
    if not answer.endswith(b"\n"):
        return "the first child could not fork the dumping process"
    _write_json(here, "forked.json", {"paused_seconds": time.perf_counter() - started, "child_pid": int(answer)})
    return None


def _consume_our_sigchld(signal):
    """Drops the SIGCHLD our first child's exit left pending on this thread, unless another child of the
    service is waitable too: then the signal is raised again, for the service's own handling."""
    try:
        if signal.sigtimedwait({signal.SIGCHLD}, 0) is None:
            return
        flags = os.WEXITED | os.WSTOPPED | os.WCONTINUED | os.WNOHANG | os.WNOWAIT
        try:
            other = os.waitid(os.P_ALL, 0, flags)
        except ChildProcessError:
            other = None
        if other is not None:
            os.kill(os.getpid(), signal.SIGCHLD)
    except (OSError, AttributeError):
        pass


def _main(here):
    started = time.perf_counter()
    try:
        os.close(os.open(os.path.join(here, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except OSError:
        return  # heapgraph stopped waiting (or this request already ran): nothing to do
    with open(os.path.join(here, "request.json")) as f:
        request = json.load(f)
    why_in_place = None
    if request.get("fork"):
        if request["collect"]:
            import gc

            gc.collect()  # here, so that finalizers run in the service, never in the dumping process
        why_in_place = _fork(here, request, started)
        if why_in_place is None:
            return
    status = _run_dumper(here, request)
    status["way"] = "in place"
    status["why_in_place"] = why_in_place
    status["paused_seconds"] = time.perf_counter() - started
    _write_json(here, "status.json", status)


_main(os.path.dirname(__file__))
