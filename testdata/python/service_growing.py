"""A small service whose cache grows on command, for `heapgraph dump --pid` and `heapgraph run` tests.

Commands on stdin, one per line; one JSON answer per line on stdout:

    grow N    add N CacheEntry objects to the cache   -> {"cache": total}
    count     what gc sees now                        -> {"CacheEntry": n, "pid": pid}
    ping      still alive and answering?              -> {"pong": true}

Its main thread waits for commands with a short select timeout, like an event loop with timers, so it reaches
a safe point often; a worker thread refreshes a statistic meanwhile, so the process has more than one thread.
"""
import gc
import json
import os
import select
import sys
import threading
import time


class CacheEntry:
    def __init__(self, key):
        self.key = key
        self.payload = [key, "value-%d" % key]


CACHE = {}
STATS = {"refreshed": 0}


def refresh():
    while True:
        STATS["refreshed"] += 1
        time.sleep(0.01)


def answer(command):
    words = command.split()
    if words[0] == "grow":
        start = len(CACHE)
        for key in range(start, start + int(words[1])):
            CACHE[key] = CacheEntry(key)
        return {"cache": len(CACHE)}
    if words[0] == "count":
        entries = sum(1 for o in gc.get_objects() if type(o) is CacheEntry)
        return {"CacheEntry": entries, "pid": os.getpid()}
    if words[0] == "ping":
        return {"pong": True}
    return {"error": "unknown command %r" % command}


def main():
    threading.Thread(target=refresh, name="refresher", daemon=True).start()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.05)
        if not ready:
            continue
        line = sys.stdin.readline()
        if not line:
            return
        print(json.dumps(answer(line)), flush=True)


main()
