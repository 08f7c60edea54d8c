"""Objects that run code when touched, and odd builtin/C objects: the dump must not run any of that code.

    python fixture_hostile.py DUMPER_DIR OUT.hgd

Every hook below records its name in TRAPS when it runs; the dump must leave TRAPS empty, survive every
object, and leave the objects as they were. One JSON line on stdout.
"""
import array
import asyncio
import collections
import ctypes
import decimal
import functools
import gc
import io
import json
import mmap
import re
import socket
import sys
import types
import weakref

TRAPS = []


def sprung(name):
    TRAPS.append(name)


class Meta(type):
    def __getattribute__(cls, name):
        sprung("Meta.__getattribute__ " + name)
        return type.__getattribute__(cls, name)

    def __repr__(cls):
        sprung("Meta.__repr__")
        return "Meta"


class Trap(metaclass=Meta):
    """Every hook a dumper might be tempted to call, and a __class__ that lies."""

    __slots__ = ("slot_value", "__dict__", "__weakref__")

    def __getattribute__(self, name):
        sprung("__getattribute__ " + name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        sprung("__getattr__ " + name)
        raise AttributeError(name)

    def __repr__(self):
        sprung("__repr__")
        return "Trap"

    __str__ = __repr__

    def __eq__(self, other):
        sprung("__eq__")
        return self is other

    def __hash__(self):
        sprung("__hash__")
        return 1

    def __len__(self):
        sprung("__len__")
        return 0

    def __sizeof__(self):
        sprung("__sizeof__")
        return 1 << 40

    def __iter__(self):
        sprung("__iter__")
        return iter(())

    def __dir__(self):
        sprung("__dir__")
        return []

    @property
    def __class__(self):
        sprung("__class__")
        return int


def trapped_methods(base):
    """A subclass of builtin `base` whose Python-level hooks all spring traps."""
    hooks = {}
    for name in ("__repr__", "__str__", "__len__", "__iter__", "__getitem__", "__hash__", "__eq__",
                 "__sizeof__", "__bool__", "items", "keys", "values", "__format__", "bit_length"):
        if hasattr(base, name):
            def hook(self, *args, _name=name, _base=base):
                sprung("%s.%s" % (_base.__name__, _name))
                return getattr(_base, _name)(self, *args)

            hooks[name] = hook
    return type("Trapped" + base.__name__.capitalize(), (base,), hooks)


TrappedStr = trapped_methods(str)
TrappedInt = trapped_methods(int)
TrappedList = trapped_methods(list)
TrappedDict = trapped_methods(dict)
TrappedBytes = trapped_methods(bytes)
TrappedFloat = trapped_methods(float)


class TrappedRef(weakref.ref):
    """Like weakref.WeakMethod: a weakref subclass whose __call__ is Python code."""

    def __call__(self):
        sprung("TrappedRef.__call__")
        return super().__call__()


class TrappedFileIO(io.FileIO):
    """A file whose closed state and descriptor are Python code (the dumper reads FileIO's own field)."""

    @property
    def closed(self):
        sprung("TrappedFileIO.closed")
        return io.FileIO.closed.__get__(self)

    def fileno(self):
        sprung("TrappedFileIO.fileno")
        return io.FileIO.fileno(self)


class TrappedText(io.TextIOWrapper):
    @property
    def buffer(self):
        sprung("TrappedText.buffer")
        return io.TextIOWrapper.buffer.__get__(self)


class TrappedSocket(socket.socket):
    def fileno(self):
        sprung("TrappedSocket.fileno")
        return socket.socket.fileno(self)


def trapped_files():
    """An open and a closed text file over trapped raw files, and an open and a closed trapped socket."""
    files = [TrappedText(io.BufferedReader(TrappedFileIO(__file__))) for _ in range(2)]
    sockets = [TrappedSocket() for _ in range(2)]
    files[1].close()
    sockets[1].close()
    return files + sockets


def finished_frame():
    local_in_finished = ["kept by a finished frame"]
    return sys._getframe(), local_in_finished


def generator():
    yield 1


async def coroutine():
    return 1


async def async_generator():
    yield 1


def plain_function(a, b=2):
    return a + b


TRAP = Trap()
TRAP.slot_value = ["slot"]
TRAP.attribute = ["attribute"]
LYING_KEY = TrappedStr("trapped-key")
LYING_KEY.extra = 1
HUGE = 10 ** 5000  # above 3.11's int-to-str digit limit
HOSTILE = {
    "trap": TRAP,
    "proxy": weakref.proxy(TRAP),
    "trapped_ref": TrappedRef(TRAP),
    LYING_KEY: TrappedStr("trapped-value"),
    TrappedInt(7): TrappedInt(10 ** 30),
    "huge": HUGE,
    "trapped_huge": TrappedInt(HUGE),
    "trapped_list": TrappedList([1, 2, 3]),
    "trapped_dict": TrappedDict(a=1, b=[2]),
    "trapped_bytes": TrappedBytes(b"\x00\xff" * 40),
    "trapped_float": TrappedFloat(2.5),
    "surrogate": "lone \udc80 surrogate",
    "long_text": "x" * 100000,
    "class": Trap,
    "memoryview": memoryview(b"abc"),
    "array": array.array("d", [1.0, 2.0]),
    "mmap": mmap.mmap(-1, 4096),
    "ctypes": (ctypes.c_int * 4)(1, 2, 3, 4),
    "deque": collections.deque([1, 2]),
    "partial": functools.partial(plain_function, 1),
    "pattern": re.compile(r"a+b"),
    "decimal": decimal.Decimal("1.5"),
    "bytesio": io.BytesIO(b"data"),
    "finished_frame": finished_frame(),
    "trapped_files": trapped_files(),
    "generator": generator(),
    "coroutine": coroutine(),
    "async_generator": async_generator(),
    "event_loop": asyncio.new_event_loop(),
    "module": types.ModuleType("synthetic"),
    "bound_method": TRAP.__class__ if False else plain_function.__get__(1),
    "function": plain_function,
    "simple_namespace": types.SimpleNamespace(a=1),
    "mappingproxy": types.MappingProxyType({"k": "v"}),
}
HOSTILE["module"].__getattr__ = lambda name: sprung("module __getattr__ " + name)
try:
    raise ValueError("kept with its traceback")
except ValueError as error:
    HOSTILE["exception"] = error


def referent_types(obj):
    return sorted(type(r).__name__ for r in gc.get_referents(obj))


def main():
    dumper_dir, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, dumper_dir)
    import heapgraph_dump

    watched = {name: HOSTILE[name] for name in ("trap", "function", "trapped_dict", "module", "generator")}
    before = {name: referent_types(obj) for name, obj in watched.items()}
    del TRAPS[:]
    summary = heapgraph_dump.dump(out)
    facts = {
        "traps": list(TRAPS),
        "summary": summary,
        "referents_unchanged": before == {name: referent_types(obj) for name, obj in watched.items()},
        "trap": id(TRAP),
        "huge": id(HUGE),
        "huge_bits": HUGE.bit_length(),
        "lying_key": id(LYING_KEY),
        "hostile": id(HOSTILE),
        # open file, closed file, open socket, closed socket; the finished frame
        "trapped_files": [id(f) for f in HOSTILE["trapped_files"]],
        "finished_frame": id(HOSTILE["finished_frame"][0]),
    }
    HOSTILE["coroutine"].close()
    HOSTILE["event_loop"].close()
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
