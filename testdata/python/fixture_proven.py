"""Dumps a process that still holds objects it is done with, each beside a live twin of the same kind.

    python testdata/python/fixture_proven.py DUMPER_DIR OUT.hgd

`HOLDER.done` holds a closed file, a closed socket, a finished generator, a finished coroutine and a
traceback whose inner frame is that of a call that has returned, and keeps its 200,000 `rows`; `HOLDER.live` holds an open file, an
open socket, a suspended and a new generator and a coroutine not yet started, about which the dump must
state nothing.
"""
import socket
import sys


class Holder:
    pass


def numbers():
    yield 1
    yield 2


async def answer():
    return 42


def failing_call():
    # Kept by the frame the traceback holds: enough to make that frame the first suspect's path.
    rows = [object() for _ in range(200000)]  # noqa: F841
    raise ValueError("kept")


def traceback_of_returned_call():
    try:
        failing_call()
    except ValueError as error:
        return error.__traceback__


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    done, live = Holder(), Holder()
    done.file = open(__file__)
    done.file.close()
    done.socket = socket.socket()
    done.socket.close()
    done.generator = numbers()
    list(done.generator)
    done.coroutine = answer()
    try:
        done.coroutine.send(None)
    except StopIteration:
        pass
    done.traceback = traceback_of_returned_call()

    live.file = open(__file__)
    live.socket = socket.socket()
    live.suspended = numbers()
    next(live.suspended)
    live.created = numbers()
    live.coroutine = answer()

    global HOLDER
    HOLDER = Holder()
    HOLDER.done, HOLDER.live = done, live
    print(heapgraph_dump.dump(out))
    live.coroutine.close()
    live.file.close()
    live.socket.close()


if __name__ == "__main__":
    main()
