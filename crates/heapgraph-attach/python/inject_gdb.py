"""gdb script: queue a Python snippet as a pending call of the attached CPython process, and detach.

Run as ``gdb -p PID -batch -x inject_gdb.py`` with the snippet in the environment variable
HEAPGRAPH_SNIPPET. Prints one line ``HEAPGRAPH-RESULT {json}`` or ``HEAPGRAPH-ERROR message``.

Why a pending call: the process is stopped at an arbitrary instruction (inside malloc, in the middle of a
dict resize, holding the GIL or not). Running Python code there, as pyrasite's ``PyGILState_Ensure`` +
``PyRun_SimpleString`` does, can corrupt the heap, and a call that waits for the GIL can hang gdb with the
target stopped inside it. ``Py_AddPendingCall`` only appends to a queue; the main thread runs the snippet
later at its next safe point (between bytecodes, GIL held), as it runs signal handlers. No call made here
can block, so the target is stopped only while gdb is attached, and a snippet that never runs leaves the
target untouched.

The snippet's text must outlive gdb: it goes into a fresh anonymous page (``mmap`` is a plain system call,
safe at any instruction; a string literal would make gdb call the target's malloc). The page (4 KiB per
request) is not freed: the pending call may still be running from it.
"""

import json
import os

import gdb

PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS = 3, 0x22


def _main_thread():
    for thread in gdb.selected_inferior().threads():
        if thread.ptid[1] == thread.ptid[0]:
            return thread
    raise gdb.GdbError("no main thread")


def _call(expression):
    return int(gdb.parse_and_eval(expression))


def main():
    snippet = os.environ["HEAPGRAPH_SNIPPET"].encode() + b"\0"
    gdb.execute("set scheduler-locking off")  # a call that takes a lock lets the lock's holder run
    _main_thread().switch()
    size = (len(snippet) + 4095) // 4096 * 4096
    page = _call("(long) mmap(0, %d, %d, %d, -1, 0)" % (size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS))
    if page in (-1, 0):
        raise gdb.GdbError("mmap in the target failed")
    gdb.selected_inferior().write_memory(page, snippet)
    main_holds_gil = _call("(int) PyGILState_Check()")
    queued = _call("(int) Py_AddPendingCall((int (*)(void *)) PyRun_SimpleString, (void *) %d)" % page)
    if queued != 0:
        raise gdb.GdbError("Py_AddPendingCall refused the request (its queue of 32 calls is full)")
    print("HEAPGRAPH-RESULT " + json.dumps({"main_held_gil": bool(main_holds_gil)}))


try:
    main()
except gdb.error as error:
    print("HEAPGRAPH-ERROR %s" % error)
