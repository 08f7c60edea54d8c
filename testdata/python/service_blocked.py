"""A service whose main thread waits in C for minutes, for `heapgraph dump --pid` tests: it cannot run a
pending call until its wait ends, so a dump must reach it where it waits.

    python service_blocked.py WAIT [EXIT_AFTER]

WAIT is where the main thread waits: `sleep` (time.sleep), `select` (select.select on nothing), `accept`
(a listening socket that answers every connection with one JSON line), `lock` (threading.Event.wait), or
`held` (a C function that sleeps without releasing the GIL: a wait no dump can reach). It first holds HELD
instances of `Held`, prints {"ready": PID, "port": PORT} and then waits. With EXIT_AFTER, SIGALRM ends
the process that many seconds after the start (a target that exits while it is being dumped).
"""
import ctypes
import json
import os
import select
import signal
import socket
import sys
import threading
import time

HELD = 1234


class Held:
    def __init__(self, n):
        self.n = n


KEEP = [Held(n) for n in range(HELD)]


def main():
    wait = sys.argv[1]
    if len(sys.argv) > 2:
        signal.setitimer(signal.ITIMER_REAL, float(sys.argv[2]))  # SIGALRM's default action ends it
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    print(json.dumps({"ready": os.getpid(), "port": server.getsockname()[1]}), flush=True)
    if wait == "sleep":
        time.sleep(600)
    elif wait == "select":
        select.select([], [], [], 600)
    elif wait == "lock":
        threading.Event().wait()
    elif wait == "held":
        ctypes.PyDLL(None).sleep(600)  # PyDLL: the GIL stays held during the call
    elif wait == "accept":
        while True:
            connection, _ = server.accept()
            held = sum(1 for o in KEEP if type(o) is Held)
            connection.sendall(json.dumps({"held": held}).encode() + b"\n")
            connection.close()
    print("the wait ended early", file=sys.stderr, flush=True)
    sys.exit(3)


main()
