"""A service holding what a process forked from it must leave alone, for `heapgraph dump --pid` tests.

    python service_exit_hooks.py DIR

It registers an atexit hook that appends "atexit PID" to DIR/hooks.log, and a SIGTERM handler that
appends "sigterm PID" there; it holds DIR/buffered.log open with "written once" in its buffer, written
out only when the service itself exits; a worker thread runs all along (3.12+ warns when such a process
forks). Commands on stdin, one JSON answer per line on stdout, as in service_growing.py:

    grow N    add N CacheEntry objects to the cache   -> {"cache": total}
    count     what gc sees now                        -> {"CacheEntry": n, "pid": pid}
    ping      still alive and answering?              -> {"pong": true}

A closed stdin ends it normally (atexit hooks run, buffers are flushed).
"""
import atexit
import gc
import json
import os
import select
import signal
import sys
import threading
import time


class CacheEntry:
    def __init__(self, key):
        self.key = key
        self.payload = [key, "value-%d" % key]


CACHE = {}


def note(directory, what):
    with open(os.path.join(directory, "hooks.log"), "a") as log:
        log.write("%s %d\n" % (what, os.getpid()))


def main(directory):
    atexit.register(note, directory, "atexit")
    signal.signal(signal.SIGTERM, lambda number, frame: note(directory, "sigterm"))
    buffered = open(os.path.join(directory, "buffered.log"), "w", buffering=1 << 16)
    buffered.write("written once\n")
    threading.Thread(target=lambda: [time.sleep(0.01) for _ in iter(int, 1)], daemon=True).start()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.05)
        if not ready:
            continue
        line = sys.stdin.readline()
        if not line:
            buffered.close()
            return
        words = line.split()
        if words[0] == "grow":
            start = len(CACHE)
            for key in range(start, start + int(words[1])):
                CACHE[key] = CacheEntry(key)
            answer = {"cache": len(CACHE)}
        elif words[0] == "count":
            answer = {"CacheEntry": sum(1 for o in gc.get_objects() if type(o) is CacheEntry), "pid": os.getpid()}
        else:
            answer = {"pong": True}
        print(json.dumps(answer), flush=True)


main(sys.argv[1])
