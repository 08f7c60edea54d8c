"""Write a heap dump of the running CPython process for heapgraph (`.hgd` format, version 1).

Usage
=====

Inside the process to diagnose (any thread; CPython 3.8 to 3.15; standard library only)::

    import heapgraph_dump
    summary = heapgraph_dump.dump("/tmp/service.hgd")
    # {'objects': 812345, 'edges': 2345678, 'roots': 912, 'seconds': 1.9, 'bytes': 61234567}

``dump(path, collect=True)`` runs ``gc.collect()`` first; by default it does not, because uncollected
garbage is evidence. Then, wherever heapgraph is installed: ``heapgraph info /tmp/service.hgd``.

Or run a script and dump its heap when it ends (normally, by exception or by ``sys.exit``)::

    python heapgraph_dump.py -o out.hgd script.py [args ...]

The file format is specified in heapgraph's ``docs/formats.md``.

What it records
===============

Every object reachable from ``gc.get_objects()`` through ``gc.get_referents()``, each once, plus the frames
of every thread and their local variables. Per object: address, type, ``sys.getsizeof`` size, refcount
(the dumper's own references subtracted), GC-tracked flag, ``len`` of builtin containers, a short value
preview of str/bytes/int/float/bool/None, the name of modules, classes, functions, code objects and frames,
and the references, labelled (list index, dict key, attribute, local variable) where the dumper can tell.
Facts that prove the program is done with an object (FACT records): a file or socket already closed, a
finished generator or coroutine, the frame of a call that has returned. When ``tracemalloc`` is tracing
(``PYTHONTRACEMALLOC=25``, ``python -X tracemalloc=25``, ``tracemalloc.start(25)``), each object's
allocation traceback, the distinct tracebacks written once (TRACE and ALLOCATED records); tracemalloc is
kept from tracing the dumper's own allocations meanwhile, so that the dump stays about as fast.

Design notes (why it is written this way)
=========================================

* **It never runs code of the process being diagnosed.** No ``repr``, ``getattr``, ``isinstance``,
  ``len`` or ``__sizeof__`` on user objects: types come from ``type(o)``, class attributes from the
  ``__dict__`` of each class in ``__mro__`` (read through ``type``'s own descriptors), lengths and values
  through the builtin base class's C methods, sizes through ``sys.getsizeof`` only when the
  ``__sizeof__`` it would call is a C method (else ``object.__sizeof__`` plus the GC header).
* **It does not change the heap it describes.** Since 3.11 instances keep attributes inline and reading
  ``obj.__dict__`` would create a dict; ``frame.f_locals`` creates one on 3.11/3.12. The dumper reads the
  inline values, the class's shared keys and the frames' fast locals directly from memory with ctypes.
* **It never reads memory at a guessed offset.** Raw reads use the offsets of a table of the builds it
  knows (CPython 3.8 to 3.15, default 64-bit build: not free-threaded, not debug), each read back first
  by a self-test on probe objects at import. On any other build, or when a self-test fails, it still
  works through public APIs only: attribute values become plain edges (META ``attribute_names`` false)
  and frame locals are left out (META ``frame_locals`` false), with a warning in META ``warnings`` and on
  stderr; it never falls back to the mutating attributes.
* **Other threads do not run while it walks the heap** (best effort, pure Python cannot suspend them).
  The GIL is only released by blocking calls, and the walk makes none: output goes into a shared
  ``mmap`` of the file (a memory copy, GIL held), grown with ``mmap.resize`` after reserving disk blocks
  with ``posix_fallocate`` called through ``ctypes.pythonapi`` (which keeps the GIL; ``os.posix_fallocate``
  and ``file.write`` would release it). Reserving blocks first turns a full disk into an exception
  instead of a SIGBUS. A thread waiting for the GIL still forces a switch after the switch interval,
  so the interval is raised for the walk to twice its expected duration (estimated from the RSS, 0.5 s
  to 60 s), and threads already waiting get their turn in a short sleep just before the snapshot is
  taken. The price: a thread that computes without ever blocking and gets the GIL in that sleep keeps
  it for up to that interval (its fair share anyway), and a walk longer than the interval can be
  interrupted by such a thread. The interval is restored as soon as the walk ends, before anything
  that releases the GIL. (A forked child would be frozen, but it would have lost the other threads'
  stacks, i.e. their roots and locals.)
  Written pages are dropped from the process with ``madvise(MADV_DONTNEED)`` as the dump advances (they
  stay in the page cache), so the output does not grow the process's RSS; the file is truncated to its
  exact size at the end. A failed dump removes its partial file and raises ``DumpError``.
* **Its own memory stays small.** The list from ``gc.get_objects()`` (8 bytes per tracked object) is
  unavoidable. Objects outside it (str, int, float, untracked tuples and dicts) are marked visited in a
  bitmap of one bit per 16 bytes of address space, allocated per MiB region actually used, instead of a
  set of ids (about 70 bytes per object). Big containers' edges are packed 4096 at a time. Caches are
  bounded and hold ints and bytes, never objects of the heap (that would change their refcounts),
  except class-level descriptors, whose extra references are counted and subtracted.
* **Refcounts are exact.** Every object is visited by the same statements, whose own references were
  measured at import on a probe object; the snapshot list lets go of each object before it is visited.
  3.14+ frames borrow references (an argument is often its caller's stack reference, uncounted): each
  such edge of a running frame adds one to the refcount written, so that the refcount minus the edges
  the dump shows stays the number of references held from outside it.
* **Edges follow who really holds a reference.** A split-table dict (an instance dict sharing its
  class's keys) does not hold its keys: the class's shared-key table does (``<shared key>`` edges from
  the class); a 3.13 dict of values embedded in an instance holds none of them. A running 3.11+ frame
  holds its locals and code through its interpreter frame, which gc.get_referents does not show: they
  are added (unless the frame is a generator's or coroutine's, which reports them itself); its
  ``f_globals``/``f_builtins`` are borrowed there and are not edges.
* **It is iterative** (an explicit stack), so million-long linked structures do not overflow the C stack.
"""

import gc
import io
import json
from array import array
from itertools import islice
import mmap
import os
import platform
import struct
import sys
import time
import types
import weakref

try:
    import resource
except ImportError:  # not on Windows
    resource = None
try:
    import ctypes
except ImportError:  # interpreters built without _ctypes: the dumper still works, with fewer names
    ctypes = None

__all__ = ["dump", "DumpError"]
__version__ = "1.1.0"

# ---------------------------------------------------------------------------------------------------------
# File format constants (docs/formats.md, "heapgraph Python dump (.hgd), version 1")

MAGIC = b"\x89HGD\r\n\x1a\n"
FORMAT_VERSION = 1
TAG_META, TAG_STRING, TAG_TYPE, TAG_OBJECT, TAG_ROOT, TAG_END, TAG_FACT = 1, 2, 3, 4, 5, 6, 7
TAG_TRACE, TAG_ALLOCATED = 8, 9

KIND_PLAIN, KIND_INDEX, KIND_ATTR, KIND_KEY, KIND_LOCAL, KIND_INTERNAL, KIND_WEAK = range(7)
INDEX_MAX = (1 << 29) - 1

ROOT_MODULE, ROOT_INTERPRETER, ROOT_FRAME, ROOT_LOCAL = 1, 2, 3, 4

FLAG_TRACKED, FLAG_LEN, FLAG_VALUE, FLAG_NAME = 1, 2, 4, 8

FACT_FILE_CLOSED, FACT_SOCKET_CLOSED, FACT_GENERATOR_FINISHED, FACT_COROUTINE_FINISHED = 1, 2, 3, 4
FACT_RETURNED_FRAME = 5
IMMORTAL_REFCOUNT = 4294967295

_FILE_HEADER = struct.Struct("<8sII")
_RECORD = struct.Struct("<BI")
_OBJECT = struct.Struct("<BIQQQQIB3x")  # record header + the 40-byte OBJECT header
_STRING = struct.Struct("<BII")
_TYPE = struct.Struct("<BIQII")
_ROOT = struct.Struct("<BIQBI")
_END = struct.Struct("<BIQQQQQ")
_FACT = struct.Struct("<BIQB")
_TRACE = struct.Struct("<BII")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")

_STRING_CACHE_MAX = 1 << 14  # texts remembered for reuse; past that the cache starts over (spec allows)
_KEY_CACHE_MAX = 1 << 14  # dict-key labels remembered by key address
_VALUE_CHARS = 64
_VALUE_BYTES = 32
_KEY_CHARS = 64
_BIG_INT_BITS = 64

_FLUSH_BYTES = 1 << 20  # records are assembled in a buffer of this size, then copied into the map
_CHUNK = 4096  # big containers' edges are made and packed this many at a time
_RESERVE_MIN = 16 << 20  # disk reserved at a time, at least
_RELEASE_BYTES = 2 << 20  # written pages are dropped from RSS every this many bytes
# Switch interval during the walk (how long a thread waiting for the GIL waits before forcing a switch):
# twice the walk's expected duration, from the RSS at about 25 MB/s, within these bounds. The floor is
# generous because a walk of a small heap on a loaded machine can take seconds, and a thread let in
# mid-walk changes the heap under it; other threads are to wait for the whole walk anyway.
_QUIET_BYTES_PER_SECOND = 12.5e6
_QUIET_MIN, _QUIET_MAX = 5.0, 60.0

_PY311 = sys.version_info >= (3, 11)
_PY312 = sys.version_info >= (3, 12)
_PY313 = sys.version_info >= (3, 13)

# Code flags of generator, coroutine and async generator functions (inspect.CO_GENERATOR, CO_COROUTINE,
# CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR)
_CO_GENERATORS = 0x20 | 0x80 | 0x100 | 0x200

# Type flags (Include/object.h)
_TPFLAGS_INLINE_VALUES = 1 << 2  # 3.13
_TPFLAGS_PREHEADER = (1 << 3) | (1 << 4)  # managed weakref | managed dict (3.11+; bit 3 from 3.12)
_TPFLAGS_MANAGED_DICT = 1 << 4
_TPFLAGS_HEAPTYPE = 1 << 9
_TPFLAGS_HAVE_GC = 1 << 14


class DumpError(Exception):
    """The dump could not be written; the partial file was removed."""


# ---------------------------------------------------------------------------------------------------------
# Safe static access to types and objects: C descriptors of the builtin types, called directly, so that
# no metaclass, __getattribute__, __class__ property or descriptor of the process's own code ever runs.

_type_mro = type.__dict__["__mro__"].__get__
_type_vars = type.__dict__["__dict__"].__get__  # a mappingproxy of the class's own dict
_type_flags = type.__dict__["__flags__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_type_dictoffset = type.__dict__["__dictoffset__"].__get__
_type_basicsize = type.__dict__["__basicsize__"].__get__
_module_dict = types.ModuleType.__dict__["__dict__"].__get__
_func_qualname = types.FunctionType.__dict__["__qualname__"].__get__
_frame_code = types.FrameType.__dict__["f_code"].__get__
_frame_lineno = types.FrameType.__dict__["f_lineno"].__get__
_frame_back = types.FrameType.__dict__["f_back"].__get__
_frame_globals = types.FrameType.__dict__["f_globals"].__get__
_member_get = types.MemberDescriptorType.__get__
_getset_get = types.GetSetDescriptorType.__get__
_object_sizeof = object.__sizeof__
_getrefcount = sys.getrefcount
_getsizeof = sys.getsizeof
_is_tracked = gc.is_tracked
_get_referents = gc.get_referents

_C_CALLABLES = (
    types.MethodDescriptorType,
    types.BuiltinFunctionType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
)

_OWN_GLOBALS = globals()
# An identifier-like constant, hence interned: the table of interned strings is the one dict that maps
# this very object to itself. (Looking it up in a dict compares it with a key only when their full hashes
# are equal, so a key's own __eq__ is not run in practice.)
_INTERNED_MARK = sys.intern("heapgraph_dump_interned_mark")


def _class_attr(t, name):
    """The first `name` in the dicts of `t`'s MRO, found without running any lookup hook; None if absent."""
    for klass in _type_mro(t):
        found = _type_vars(klass).get(name, _class_attr)
        if found is not _class_attr:
            return found
    return None


def _first_of(candidates, mro):
    """The first class of `mro` that is one of `candidates`, by identity (== could run a metaclass's __eq__)."""
    for klass in mro:
        for candidate in candidates:
            if klass is candidate:
                return klass
    return None


def _safe_str(value):
    """`value` if it is an exact str (safe to encode), else None."""
    return value if type(value) is str else None


def _instance_attr(obj, name):
    """An instance attribute stored in the object itself (its dict or inline values), or None.

    Refuses when any class in the MRO defines `name` (a property would run code); object.__getattribute__
    skips __getattr__ and reads inline values without creating the instance dict.
    """
    if _class_attr(type(obj), name) is not None:
        return None
    try:
        return object.__getattribute__(obj, name)
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------------------
# Raw memory access (ctypes) and the layouts it depends on
#
# Every raw read uses offsets from _LAYOUTS, the table of the builds whose layouts this file knows, and
# only after a self-test on probe objects has read them back. On any other build (another minor version,
# free-threaded, debug, 32-bit, another implementation) nothing is read raw: the dump is made through
# gc.get_referents and the other public APIs, and says so in its metadata and on stderr.


def _this_build():
    """This interpreter as _LAYOUTS names builds: "3.14" for CPython's default 64-bit build; a suffix "t"
    (free-threaded: another object header), "d" (debug: other internal structs) or "r" (trace refs: two
    more words per object) for the others; other implementations and 32-bit builds say so."""
    flags = ""
    try:
        import sysconfig

        config = sysconfig.get_config_var
        free_threaded, debug = config("Py_GIL_DISABLED"), config("Py_DEBUG")
    except Exception:
        free_threaded = debug = None
    if free_threaded or "t" in getattr(sys, "abiflags", ""):
        flags += "t"
    if debug or "d" in getattr(sys, "abiflags", "") or hasattr(sys, "gettotalrefcount"):
        flags += "d"  # gettotalrefcount: Py_REF_DEBUG, which debug builds define
    if hasattr(sys, "getobjects"):
        flags += "r"
    build = "%d.%d%s" % (sys.version_info[0], sys.version_info[1], flags)
    if struct.calcsize("P") != 8:
        build += " (%d-bit)" % (8 * struct.calcsize("P"))
    if sys.implementation.name != "cpython":
        build = "%s %s" % (sys.implementation.name, build)
    return build


# Offsets in CPython's default 64-bit builds (Include/cpython/*.h and Include/internal/*.h of each
# version, checked on the real interpreters), read only by the classes below:
#   frame_data   PyFrameObject.f_frame, the _PyInterpreterFrame (3.11+; None: the locals are in the frame)
#   frame_obj    _PyInterpreterFrame.frame_obj, which points back at the PyFrameObject (3.11+)
#   localsplus   first fast-local slot: PyFrameObject.f_localsplus (3.8-3.10), or
#                _PyInterpreterFrame.localsplus (3.11+), after f_executable and its other fields
#   stackrefs    3.14+: slots and f_executable are _PyStackRef words whose two low bits are a tag
#                (pycore_stackref.h): 0 a counted reference, 1 one the refcount does not count (borrowed,
#                or to an immortal object; the bare word 1 is NULL), 3 a tagged int, 2 invalid
#   cached_keys  PyHeapTypeObject.ht_cached_keys (the shared keys of the class's instances)
#   ma_values    PyDictObject.ma_values
#   managed_dict the managed dict's word before the object (3.11+: MANAGED_DICT_OFFSET = -3 words)
#   values       where 3.11+ instances keep attribute values: ("pointer", word, skip) a pointer in the
#                pre-header (3.11), ("tagged", word, skip) a pointer tagged 1 sharing the managed-dict word
#                (3.12), ("inline", skip) after tp_basicsize (3.13+); skip: bytes to values[0]
#   wr_object    PyWeakReference.wr_object
_COMMON = {"ma_values": 40, "wr_object": 16, "stackrefs": False}
_LAYOUTS = {
    "3.8": dict(_COMMON, frame_data=None, localsplus=360, cached_keys=872),
    "3.9": dict(_COMMON, frame_data=None, localsplus=360, cached_keys=864),
    "3.10": dict(_COMMON, frame_data=None, localsplus=352, cached_keys=872),
    "3.11": dict(_COMMON, frame_data=24, frame_obj=40, localsplus=72, cached_keys=872, managed_dict=-24,
                 values=("pointer", -32, 0)),
    "3.12": dict(_COMMON, frame_data=24, frame_obj=48, localsplus=72, cached_keys=880, managed_dict=-24,
                 values=("tagged", -24, 8)),
    "3.13": dict(_COMMON, frame_data=24, frame_obj=48, localsplus=72, cached_keys=880, managed_dict=-24,
                 values=("inline", 8)),
    # 3.14: _PyInterpreterFrame.stacktop (int) became the stackpointer pointer: localsplus moves 8 bytes
    "3.14": dict(_COMMON, frame_data=24, frame_obj=48, localsplus=80, cached_keys=880, managed_dict=-24,
                 values=("inline", 8), stackrefs=True),
    # 3.15: PyTypeObject gained a last field (_tp_iteritem), which moves ht_cached_keys a word
    "3.15": dict(_COMMON, frame_data=24, frame_obj=48, localsplus=80, cached_keys=888, managed_dict=-24,
                 values=("inline", 8), stackrefs=True),
}

# Tests (and anyone who wants no raw reads at all) name another build here ("portable", "3.99"): the dumper
# then treats this interpreter as one whose layouts it does not know. Naming a build can only take the raw
# reads away, never give another build's offsets to this one.
_BUILD_ENV = "HEAPGRAPH_DUMP_BUILD"
_THIS_BUILD = _this_build()
_BUILD = os.environ.get(_BUILD_ENV) or _THIS_BUILD
_LAYOUT = _LAYOUTS.get(_BUILD) if ctypes is not None and _BUILD == _THIS_BUILD else None
_WARNINGS = []  # said in the dump's metadata and on stderr by every dump
if ctypes is None:
    _WARNINGS.append("ctypes is missing: frame locals, attribute names and weak referents are left out")
elif _LAYOUT is None:
    _LEFT_OUT = "the dump uses public APIs only, without frame locals, instance attribute names or weak referents"
    if _BUILD in _LAYOUTS:  # named in the environment, and not this interpreter's
        _WARNINGS.append("%s=%s is not this interpreter's build, %s: %s" % (_BUILD_ENV, _BUILD, _THIS_BUILD,
                                                                          _LEFT_OUT))
    else:
        _WARNINGS.append("CPython build %s is not one whose memory layouts this dumper knows (%s): %s"
                         % (_BUILD, ", ".join(_LAYOUTS), _LEFT_OUT))


class _Probe:
    """Probe objects for the self-tests: distinct objects whose addresses the layouts must read back."""


if _LAYOUT is not None:
    # One ctypes array spanning the address space: struct.unpack_from on it reads any word for ~0.1 us
    # without creating a ctypes object per read. Only fields of live objects are ever read.
    _MEMORY = (ctypes.c_char * (1 << 62)).from_address(0)
    _WORD = _U64.unpack_from
    # Unpackers made at import: caches filled during a dump would be heap changes the walk then sees.
    _WORD_RUNS = tuple(struct.Struct("<%dQ" % count).unpack_from for count in range(65))

    def _word(address):
        """The 8-byte word at `address`."""
        return _WORD(_MEMORY, address)[0]

    def _words(address, count):
        """`count` consecutive words starting at `address`."""
        if count <= 64:
            return _WORD_RUNS[count](_MEMORY, address)
        return _WORD_RUNS[64](_MEMORY, address) + _words(address + 512, count - 64)

    def _object_at(address):
        """A new reference to the live object at `address` (callers pass only addresses of live objects)."""
        return ctypes.cast(address, ctypes.py_object).value


if ctypes is not None:

    def _fallocate(fd, offset, length):
        """Reserve disk blocks without releasing the GIL (ctypes.pythonapi calls keep it)."""
        err = _posix_fallocate(fd, offset, length)
        if err:
            raise OSError(err, os.strerror(err))

    try:
        _posix_fallocate = ctypes.pythonapi.posix_fallocate
        _posix_fallocate.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
        _posix_fallocate.restype = ctypes.c_int
    except AttributeError:  # no posix_fallocate in this libc: reserving releases the GIL
        _fallocate = getattr(os, "posix_fallocate", None)
else:
    _fallocate = getattr(os, "posix_fallocate", None)


def _plain_ref(word):
    """(address, counted) of a slot holding a plain PyObject pointer (0: empty)."""
    return word, True


def _stack_ref(word):
    """(address, counted) of a 3.14+ _PyStackRef word; address 0 for NULL, tagged ints and invalid words."""
    tag = word & 3
    if tag == 0:
        return word, True
    if tag == 1 and word != 1:
        return word - 1, False
    return 0, True


class _FrameLayout:
    """Where a frame's fast locals are, verified on a probe frame.

    3.8-3.10: `f_localsplus` inside PyFrameObject. 3.11+: PyFrameObject.f_frame points to the
    _PyInterpreterFrame whose `localsplus` array holds them. Slot names: co_varnames, then co_cellvars
    (3.11+: those not already arguments, which share one slot), then co_freevars. 3.14+ slots are tagged
    stack references: a running frame's argument is often borrowed from its caller's stack, uncounted.
    """

    def __init__(self, layout):
        self.frame_data = layout["frame_data"]
        self.frame_obj = layout.get("frame_obj")
        self.stackrefs = layout["stackrefs"]
        self.localsplus = layout["localsplus"]
        self.decode = _stack_ref if layout["stackrefs"] else _plain_ref
        self._calibrate()

    @staticmethod
    def slot_names(code):
        """Names of the fast-local slots of `code`, in slot order.

        3.11+: read one by one from co_localsplusnames, because co_varnames & co build tuples that
        3.12+ then caches in the code object (a heap change).
        """
        if not _PY311:
            return code.co_varnames + code.co_cellvars + code.co_freevars
        names = []
        while True:
            try:
                names.append(code._varname_from_oparg(len(names)))
            except IndexError:
                return names

    def refs(self, frame, count):
        """(address, counted) of each of the `count` slots of `frame` (address 0: empty)."""
        base = id(frame)
        if self.frame_data is not None:
            base = _word(base + self.frame_data)
        decode = self.decode
        return [decode(word) for word in _words(base + self.localsplus, count)]

    def code_counted(self, frame):
        """Whether the reference of a running 3.11+ frame to its code object is counted in its refcount
        (3.14+: f_executable, the first word of the interpreter frame, is a stack reference)."""
        return not self.stackrefs or _stack_ref(_word(_word(id(frame) + self.frame_data)))[1]

    def _calibrate(self):
        outer_value = _Probe()

        def probe(arg_plain, arg_cell):
            local_plain = _Probe()
            local_cell = _Probe()
            keep = outer_value  # makes outer_value a free variable of probe

            def inner():
                return arg_cell, local_cell

            frame = sys._getframe()
            expected = {
                "arg_plain": arg_plain,
                "local_plain": local_plain,
                "keep": keep,
                "inner": inner,
                "arg_cell": arg_cell,
                "local_cell": local_cell,
                "outer_value": outer_value,
            }
            self._verify(frame, expected, {"arg_cell", "local_cell", "outer_value"})
            if self.stackrefs and _stack_ref(_word(_word(id(frame) + self.frame_data)))[0] != id(
                    _frame_code(frame)):
                raise RuntimeError("f_executable misread")

        probe(_Probe(), _Probe())

    def _verify(self, frame, expected, cells):
        if self.frame_data is not None and _word(_word(id(frame) + self.frame_data) + self.frame_obj) != id(frame):
            raise RuntimeError("interpreter frame misread")  # its frame_obj field points back at the frame
        names = self.slot_names(_frame_code(frame))
        seen = {}
        for name, (address, _) in zip(names, self.refs(frame, len(names))):
            if address:
                seen[name] = address
        for name, value in expected.items():
            address = seen.get(name)
            if address is None:
                raise RuntimeError("local %s not found" % name)
            if name in cells:
                address = _word(address + 16)  # PyCellObject.ob_ref
            if address != id(value):
                raise RuntimeError("local %s misread" % name)


class _AttributeProbe:
    """A class with three attributes, set in this order, whose instances share their keys."""

    def __init__(self):
        self.probe_first = _Probe()
        self.probe_second = _Probe()
        self.probe_third = _Probe()


_PROBE_NAMES = ["probe_first", "probe_second", "probe_third"]


class _SharedKeys:
    """The attribute names a heap type shares among its instances' dicts (or 3.11+ inline values).

    PyHeapTypeObject.ht_cached_keys points to a PyDictKeysObject. Its header and entries differ: 3.8-3.10
    {refcnt, size, lookup, usable, nentries, indices}, entries {hash, key, value}; 3.11+ {refcnt, log2_size,
    log2_index_bytes, kind, version, usable, nentries, indices}, entries {key, value}. Entry i names value
    slot i.
    """

    def __init__(self, layout):
        self.pointer = layout["cached_keys"]
        _AttributeProbe()
        names = [_safe_str(_object_at(address)) for address in self.addresses(_AttributeProbe)]
        if names != _PROBE_NAMES:
            raise RuntimeError("shared keys misread: %r" % (names,))

    def addresses(self, cls):
        """Addresses of the names in the shared keys of heap type `cls`, in slot order (0: a hole)."""
        keys = _word(id(cls) + self.pointer)
        if not keys:
            return ()
        if _PY311:
            count = _word(keys + 24)
            entries = keys + 32 + (1 << (_word(keys + 8) >> 8 & 0xFF))
            return _words(entries, 2 * count)[0::2]
        size, count = _word(keys + 8), _word(keys + 32)
        width = 1 if size <= 0xFF else 2 if size <= 0xFFFF else 4 if size <= 0xFFFFFFFF else 8
        entries = keys + 40 + size * width
        return _words(entries, 3 * count)[1::3]


class _DictLayout:
    """PyDictObject.ma_values: set for split tables, whose keys belong to a class's shared keys.

    3.13+ also embeds an instance's values in the instance and lets its dict point to them (the
    `embedded` byte of PyDictValues, just before the values); such a dict holds none of its values.
    """

    def __init__(self, layout):
        self.values = layout["ma_values"]
        first = _AttributeProbe()
        split, combined = first.__dict__, dict(probe_first=1)
        if not self.is_split(split) or self.is_split(combined):
            raise RuntimeError("ma_values misread")
        if _PY313 and not self.embedded(split):
            raise RuntimeError("embedded values misread")

    def is_split(self, d):
        return _word(id(d) + self.values) != 0

    def embedded(self, d):
        """3.13+: whether the split dict `d` uses values embedded in (and held by) an instance."""
        return _PY313 and _word(_word(id(d) + self.values)) >> 16 & 0xFF == 1


class _InstanceLayout:
    """Where 3.11+ instances keep attribute values without a dict.

    Values: 3.11 a pointer in the pre-header, 3.12 a tagged pointer sharing the managed-dict word,
    3.13+ inline after the object. The managed dict, when one was created, is in the pre-header.
    """

    def __init__(self, layout):
        self.dict_word = layout["managed_dict"]
        where = layout["values"]
        self.inline_offset = where[1] if where[0] == "inline" else None  # values[0] past tp_basicsize
        self.values_word = where[1] if where[0] != "inline" else None  # pre-header word of the pointer
        self.values_tagged = where[0] == "tagged"  # the word holds values-1, or a dict pointer when even
        self.values_skip = where[2] if where[0] != "inline" else 0  # bytes from the pointer to values[0]
        plain = _AttributeProbe()
        with_dict = _AttributeProbe()
        materialized = with_dict.__dict__
        expected = (id(plain.probe_first), id(plain.probe_second), id(plain.probe_third))
        if self.values(plain, _AttributeProbe, 3) != expected:
            raise RuntimeError("inline values misread")
        if self.values(with_dict, _AttributeProbe, 3) is not None and not _PY313:
            raise RuntimeError("values pointer misread after the dict was created")
        if self.managed_dict(with_dict) != id(materialized) or self.managed_dict(plain):
            raise RuntimeError("managed dict misread")

    def values(self, obj, cls, count):
        """The `count` inline value words of `obj` (0 for unset), or None when it has no inline values."""
        if self.inline_offset is not None:
            return _words(id(obj) + _type_basicsize(cls) + self.inline_offset, count)
        word = _word(id(obj) + self.values_word)
        if not word or (self.values_tagged and not word & 1):
            return None
        return _words((word & ~7) + self.values_skip, count)

    def managed_dict(self, obj):
        """Address of `obj`'s managed dict, or 0."""
        word = _word(id(obj) + self.dict_word)
        return 0 if self.values_tagged and word & 1 else word


def _weakref_offset(layout):
    """Offset of PyWeakReference.wr_object, verified on a weakref.ref and a weakref.proxy."""
    target = _Probe()
    ref, proxy = weakref.ref(target), weakref.proxy(target)
    offset = layout["wr_object"]
    if _word(id(ref) + offset) != id(target) or _word(id(proxy) + offset) != id(target):
        raise RuntimeError("wr_object misread")
    return offset


def _calibrate(factory, what):
    """Run one layout self-test; None (feature off, with a warning) if it fails for any reason."""
    if _LAYOUT is None:
        return None
    try:
        return factory(_LAYOUT)
    except Exception as error:
        _WARNINGS.append("the %s layout of CPython %s failed its self-test (%s): %s are left out"
                         % (what[0], _BUILD, error, what[1]))
        return None


_FRAMES = _calibrate(_FrameLayout, ("frame", "frame locals"))
_SHARED_KEYS = _calibrate(_SharedKeys, ("shared-keys", "instance attribute names"))
_DICTS = _calibrate(_DictLayout, ("dict", "split-dict details"))
_INSTANCES = (_calibrate(_InstanceLayout, ("instance", "inline attribute values"))
              if _PY311 and _SHARED_KEYS else None)
_WEAKREF_OFFSET = _calibrate(_weakref_offset, ("weakref", "weak referents"))


def _refcount_overhead():
    """References the walk loop itself holds when it reads a refcount (see _Walk.run: same statements)."""
    holder = [_Probe()]
    stack = [holder[0]]
    pop = stack.pop
    o = pop()
    raw = _getrefcount(o)
    return raw - 1  # the holder list is the probe's one reference


def _gc_overheads():
    """Bytes sys.getsizeof adds to __sizeof__: for GC objects, and for GC objects with a pre-header."""
    gc_head = _getsizeof([]) - [].__sizeof__()
    probe = _Probe()
    return gc_head, _getsizeof(probe) - _object_sizeof(probe)


_REFCOUNT_OVERHEAD = _refcount_overhead()
_GC_OVERHEAD, _PREHEADER_OVERHEAD = _gc_overheads()


# ---------------------------------------------------------------------------------------------------------
# Output file


class _Output:
    """The dump file, written through a shared memory map so that writing never releases the GIL."""

    __slots__ = ("path", "fd", "map", "size", "capacity", "released")

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.map = None
        self.size = 0
        self.capacity = 0
        self.released = 0
        try:
            self._reserve(_RESERVE_MIN)
        except BaseException:
            self.discard()
            raise

    def write(self, data):
        """Append `data` (bytes-like) to the file."""
        end = self.size + len(data)
        if end > self.capacity:
            self._reserve(max(end, self.capacity + max(_RESERVE_MIN, self.capacity // 2)))
        self.map[self.size:end] = data
        self.size = end
        if end - self.released >= _RELEASE_BYTES:
            self._release(end)

    def _reserve(self, capacity):
        """Grow the file to `capacity` bytes, disk blocks allocated first so a full disk raises here."""
        if _fallocate is not None:
            _fallocate(self.fd, self.capacity, capacity - self.capacity)
        if self.map is None:
            if _fallocate is None:
                os.ftruncate(self.fd, capacity)
            self.map = mmap.mmap(self.fd, capacity)
        else:
            self.map.resize(capacity)
        self.capacity = capacity

    def _release(self, end):
        """Drop written pages from this process's memory (the page cache keeps and writes them)."""
        if not hasattr(mmap, "MADV_DONTNEED"):
            return
        start = self.released
        stop = end - end % mmap.PAGESIZE
        if stop > start:
            self.map.madvise(mmap.MADV_DONTNEED, start, stop - start)
            self.released = stop

    def close(self):
        """Unmap and truncate the file to what was written."""
        self.map.close()
        self.map = None
        os.ftruncate(self.fd, self.size)
        os.close(self.fd)
        self.fd = -1

    def discard(self):
        """Close and remove a partial file."""
        if self.map is not None:
            self.map.close()
            self.map = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _rss_bytes():
    """Resident set size of this process; where /proc is not mounted (a chroot, some containers) its peak
    so far, from getrusage; 0 when neither is there."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * mmap.PAGESIZE
    except (OSError, ValueError, IndexError):
        pass
    try:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except Exception:
        return 0
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


# ---------------------------------------------------------------------------------------------------------
# Per-type plans: everything about a type that the walk needs, computed once per type


def _label(kind, payload):
    return kind << 29 | payload


_KIND_ATOM, _KIND_SEQUENCE, _KIND_DICT, _KIND_FRAME, _KIND_OTHER = range(5)

# 3.15+: the builtin frozendict (not a dict subclass; like dict's, its traversal leaves out str keys)
_FROZENDICT = getattr(sys.modules["builtins"], "frozendict", None)
_MAPPINGS = (dict,) if _FROZENDICT is None else (dict, _FROZENDICT)
_SIZED_BASES = (str, bytes, bytearray, list, tuple, set, frozenset) + _MAPPINGS
_VALUE_BASES = (bool, int, float, str, bytes, bytearray, type(None))

# C getters that return a stored field without creating or changing anything, by defining type.
# (Member descriptors are always such getters and are used for every type.)
# Keyed by id: hashing a class could run its metaclass's __hash__.
_SAFE_GETSETS = {
    id(types.FunctionType): ("__code__", "__defaults__", "__kwdefaults__", "__name__", "__qualname__"),
    id(type): ("__mro__", "__bases__"),
    id(types.FrameType): ("f_back", "f_code", "f_globals", "f_builtins"),
    id(types.BuiltinFunctionType): ("__self__",),
    id(BaseException): ("args", "__traceback__", "__context__", "__cause__"),
    id(types.TracebackType): ("tb_next",),
}

# Members of non-GC objects that are strong references gc.get_referents cannot report (code objects are
# not GC containers, so their constants and names would otherwise be missing from the dump).
_CODE_REFERENCES = (
    "co_consts", "co_names", "co_varnames", "co_freevars", "co_cellvars", "co_filename", "co_name",
    "co_qualname", "co_code", "co_lnotab", "co_linetable", "co_exceptiontable",
)


class _Plan:
    """How to dump instances of one type."""

    __slots__ = (
        "kind", "gc_type", "sizeof_ok", "size_overhead", "length", "preview", "name_kind", "optional",
        "heap", "dict_offset", "managed", "members", "getsets", "references", "inline_names",
        "items_base", "index_base", "weak", "cell", "is_type", "fact",
    )


class _Walk:
    """One dump: the heap walk and the records it writes."""

    def __init__(self, output, meta):
        self.output = output
        self.buffer = bytearray()
        self.write_meta(meta)
        self.strings = {}  # utf-8 text -> string id
        self.string_count = 0
        self.plans = {}  # id(type) -> _Plan
        self.pinned = {}  # id(obj) -> references held by self.plans (subtracted from refcounts)
        self.uncounted = {}  # id(obj) -> references of running frames its refcount does not count (added)
        self.key_labels = {}  # id(dict key) -> label
        self.slot_labels = {}  # id(code) -> tuple of local labels
        self.visited = {}  # address >> 20 -> bitmap of 1 bit per 16 bytes
        self.frozen = gc.get_freeze_count() > 0 if hasattr(gc, "get_freeze_count") else False
        self.executing = {}  # id(frame) -> (function text, thread name) for frames on a thread's stack
        self.objects = self.edges = self.roots = 0
        self.sites = None  # an _AllocationSites when tracemalloc traces
        self.stack = []
        self.labels = {
            name: _label(KIND_ATTR, self.string(name))
            for name in ("__dict__", "__class__", "cell_contents", "f_code")
        }
        self.key_label = _label(KIND_INTERNAL, self.string("key"))
        self.labels["shared key"] = _label(KIND_INTERNAL, self.string("shared key"))
        self.weak_label = _label(KIND_WEAK, self.string("referent"))
        self.interned_label = _label(KIND_WEAK, self.string("interned"))

    # -- records ------------------------------------------------------------------------------------------

    def string(self, text):
        """Id of a STRING record holding `text` (an exact str), writing the record when new."""
        data = text.encode("utf-8", "backslashreplace")
        sid = self.strings.get(data)
        if sid is None:
            if len(self.strings) >= _STRING_CACHE_MAX:
                self.strings.clear()
            sid = self.strings[data] = self.string_count
            self.string_count += 1
            self.buffer += _STRING.pack(TAG_STRING, 4 + len(data), sid)
            self.buffer += data
        return sid

    def root(self, address, kind, name):
        self.buffer += _ROOT.pack(TAG_ROOT, 13, address, kind, self.string(name))
        self.roots += 1

    def flush(self):
        self.output.write(self.buffer)
        self.buffer.clear()

    def write_meta(self, meta):
        """The file header and the META record, which must come first."""
        self.buffer += _FILE_HEADER.pack(MAGIC, FORMAT_VERSION, 0)
        data = json.dumps(meta, sort_keys=True).encode("utf-8")
        self.buffer += _RECORD.pack(TAG_META, len(data))
        self.buffer += data

    def write_end(self, duration_ns, rss):
        if self.sites is not None:
            self.sites.flush()
        self.buffer += _END.pack(TAG_END, 40, self.objects, self.edges, self.roots, duration_ns, rss)
        self.flush()

    # -- roots --------------------------------------------------------------------------------------------

    def module_roots(self):
        """Modules (kind 1) and the interpreter's own dicts (kind 2)."""
        import builtins

        for name, module in list(dict.items(sys.modules)):
            self.root(id(module), ROOT_MODULE, _safe_str(name) or "<module>")
        self.root(id(sys.modules), ROOT_INTERPRETER, "sys.modules")
        self.root(id(_module_dict(builtins)), ROOT_INTERPRETER, "builtins.__dict__")
        self.root(id(_module_dict(sys)), ROOT_INTERPRETER, "sys.__dict__")

    def thread_frames(self):
        """Frames on every thread's stack (kind 3 roots), the dumper's own left out; returns them.

        `current` holds this very frame: it is emptied before returning, else the two would form a
        cycle keeping the whole walk alive after the dump.
        """
        current = sys._current_frames()
        names = _thread_names(list(current))
        frames = []
        for ident in list(current):
            frame = current.pop(ident)
            thread = names.get(ident) or "thread %d" % ident
            while frame is not None:
                if _frame_globals(frame) is not _OWN_GLOBALS:
                    function, where = _frame_description(frame)
                    self.executing[id(frame)] = (function, thread)
                    self.root(id(frame), ROOT_FRAME, "%s at %s [thread %s]" % (function, where, thread))
                    frames.append(frame)
                frame = _frame_back(frame)
        return frames

    # -- the walk -----------------------------------------------------------------------------------------

    def run(self, snapshot, seeds, exclude):
        """Dump everything reachable from `snapshot` (consumed) and `seeds`, skipping `exclude`.

        Every object goes through the same statements `o = pop(); rc = _getrefcount(o)`, whose own
        references _refcount_overhead measured; the snapshot slot is cleared before, so it holds none.
        """
        stack = self.stack
        push, pop = stack.append, stack.pop
        visit = self.visit
        if self.frozen:  # gc.freeze()d objects are missing from the snapshot: mark those it has as seen
            self.follow(snapshot)
            del stack[:]
        self.follow(seeds)
        del seeds[:]  # the stack's reference is the only one the walk may hold
        for i in range(len(snapshot)):
            if snapshot[i] is not exclude:
                push(snapshot[i])
            snapshot[i] = None
            while stack:
                o = pop()
                rc = _getrefcount(o)
                visit(o, rc)

    def follow(self, targets):
        """Queue the targets that the snapshot does not hold and that were not seen yet.

        Seen objects are marked in self.visited: one bit per 16 bytes of address (objects are at least
        16 bytes long, so two never share a bit), a bytearray per MiB of address space in use.
        """
        frozen, visited, push = self.frozen, self.visited, self.stack.append
        for target in targets:
            if frozen or not _is_tracked(target):
                address = id(target)
                bits = visited.get(address >> 20)
                if bits is None:
                    bits = visited[address >> 20] = bytearray(8192)
                byte, bit = (address >> 7) & 8191, 1 << ((address >> 4) & 7)
                if not bits[byte] & bit:
                    bits[byte] |= bit
                    push(target)

    def visit(self, o, raw_refcount):
        """Write the OBJECT record of `o` and queue what it references."""
        address = id(o)
        t = type(o)
        plan = self.plans.get(id(t)) or self.plan(t)
        if plan.kind == _KIND_ATOM:
            count, chunks = 0, ()
        else:
            try:
                count, chunks = self.edges_of(o, t, plan, address)
            except Exception:  # an object this code did not foresee: its references, unlabelled
                referents = _get_referents(o)
                self.follow(referents)
                count, chunks = len(referents), [_pack_edges(list(map(id, referents)), [0] * len(referents))]
        self.write_object(o, address, t, plan, raw_refcount, count, chunks)

    def edges_of(self, o, t, plan, address):
        """(number of edges, packed edge chunks) of `o`; big containers' chunks are made lazily."""
        kind = plan.kind
        if kind == _KIND_SEQUENCE:
            return len(o), self.sequence_chunks(o, t is not set and t is not frozenset)
        if kind == _KIND_DICT and not (_DICTS is not None and _DICTS.is_split(o)):
            if dict.get(o, _INTERNED_MARK) is _INTERNED_MARK:
                return 2 * len(o), self.dict_chunks(o, None)
            return 2 * len(o), self.dict_chunks(o, self.dict_key_labels(o))
        if kind == _KIND_FRAME:
            targets, labels = self.frame_edges(o, address)
        elif kind == _KIND_DICT:
            targets, labels = self.split_dict_edges(o)
        else:
            targets, labels = self.other_edges(o, t, plan, address)
        return len(targets), [_pack_edges(targets, labels)]

    def write_object(self, o, address, t, plan, raw_refcount, count, chunks):
        refcount = raw_refcount - _REFCOUNT_OVERHEAD - self.pinned.get(address, 0) + self.uncounted.get(address, 0)
        if _PY312 and raw_refcount & 0x80000000:  # immortal: the count means nothing
            refcount = max(raw_refcount, IMMORTAL_REFCOUNT)
        flags = FLAG_TRACKED if plan.gc_type and _is_tracked(o) else 0
        tail = b""
        if plan.optional:
            try:
                tail, tail_flags = self.optional_fields(o, plan)
                flags |= tail_flags
            except Exception:  # a value or name this code did not foresee: leave them out
                tail = b""
        size = None
        if plan.sizeof_ok:
            try:
                size = _getsizeof(o)
            except Exception:
                pass
        if size is None:
            size = _object_sizeof(o) + plan.size_overhead
        self.buffer += _OBJECT.pack(TAG_OBJECT, 40 + 12 * count + len(tail), address, id(t), size, refcount,
                                    count, flags)
        self.write_edges(count, chunks)
        self.buffer += tail
        if plan.fact is not None:
            try:
                fact = plan.fact(o, self.executing)
            except Exception:  # a state this code did not foresee: no fact
                fact = 0
            if fact:
                self.buffer += _FACT.pack(TAG_FACT, 9, address, fact)
        if self.sites is not None:
            self.sites.record(o, address, plan)
        if len(self.buffer) >= _FLUSH_BYTES:
            self.flush()
        self.objects += 1
        self.edges += count

    def write_edges(self, count, chunks):
        """Exactly `count` edges from `chunks`, whatever happens to the container meanwhile.

        A container's chunks are made while its record is written; if another thread changed it in
        between (the walk ran past the quiet switch interval), its iteration may fail or yield more or
        fewer items: extra edges are dropped and missing ones written as dangling edges to address 0, so
        the record keeps the length its header announced.
        """
        remaining = 12 * count
        try:
            for chunk in chunks:
                chunk = chunk[:remaining]
                self.buffer += chunk
                remaining -= len(chunk)
                if len(self.buffer) >= _FLUSH_BYTES:
                    self.flush()
                if not remaining:
                    break
        except Exception:
            pass
        if remaining:
            self.buffer += bytes(remaining)

    def optional_fields(self, o, plan):
        """The len, value and name fields of `o` and their flags."""
        tail, flags = b"", 0
        if plan.length is not None:
            flags |= FLAG_LEN
            tail = _U64.pack(plan.length(o))
        if plan.preview is not None:
            value = plan.preview(o)
            flags |= FLAG_VALUE
            tail += _U16.pack(len(value)) + value
        if plan.name_kind is not None:
            name = _object_name(o, plan.name_kind)
            if name is not None:
                flags |= FLAG_NAME
                tail += _U32.pack(self.string(name))
        return tail, flags

    # -- edges by kind of object (each returns [target, label, target, label, ...]) -----------------------

    def sequence_chunks(self, o, indexed):
        """Exact list and tuple (`[i]` to each element) and set (plain edges), packed a chunk at a time.

        Iterated directly, in order (gc.get_referents lists them reversed). Nothing here writes a record,
        so the chunks can be made while the OBJECT record is being written.
        """
        items = iter(o)
        start = 0
        while True:
            part = list(islice(items, _CHUNK))
            if not part:
                return
            self.follow(part)
            if indexed:
                first = (KIND_INDEX << 29) + start
                labels = list(range(first, first + len(part)))
                if start + len(part) > INDEX_MAX:
                    labels = [min(label, (KIND_INDEX << 29) + INDEX_MAX) for label in labels]
            else:
                labels = [0] * len(part)
            yield _pack_edges(list(map(id, part)), labels)
            start += len(part)

    def dict_key_labels(self, o):
        """The `['k']` label of each key of dict `o`, in order, 4 bytes each.

        Computed before the OBJECT record is written, because a new label writes a STRING record.
        """
        labels, known = array("I"), self.key_labels
        for key in dict.__iter__(o):
            label = known.get(id(key))
            labels.append(self.key_label_for(key) if label is None else label)
            if len(self.buffer) >= _FLUSH_BYTES:
                self.flush()
        return labels

    def dict_chunks(self, o, labels):
        """Exact dict: `<key>` to each key and `['k']` to each value (str keys are not referents).

        labels None: the interpreter's table of interned strings, whose key and value references are
        not counted in the strings' refcounts (a mortal string leaves the table when it dies): weak
        edges. 3.14+ keep the table GC-tracked, so it is in the snapshot.
        """
        items = iter(dict.items(o))
        start = 0
        while True:
            part = list(islice(items, _CHUNK // 2))
            if not part:
                return
            targets, edge_labels = [], []
            if labels is None:
                for key, value in part:
                    targets += (id(key), id(value))
                edge_labels = [self.interned_label] * len(targets)
            for (key, value), label in zip(part, labels[start:start + len(part)] if labels else ()):
                targets += (id(key), id(value))
                edge_labels += (self.key_label, label)
            self.follow([item for pair in part for item in pair])
            yield _pack_edges(targets, edge_labels)
            start += len(part)

    def split_dict_edges(self, o):
        """A split-table dict: only what gc.get_referents reports (its keys belong to its class's shared
        keys, see other_edges; 3.13's dicts of embedded values hold no values either), labelled."""
        labels = self.key_labels
        candidates, follow = [], []
        for key, value in dict.items(o):
            candidates.append((id(value), labels.get(id(key)) or self.key_label_for(key)))
            follow += (key, value)
        self.follow(follow)
        return self.match(_get_referents(o), candidates, ())

    def key_label_for(self, key):
        if len(self.key_labels) >= _KEY_CACHE_MAX:
            self.key_labels.clear()
        label = self.key_labels[id(key)] = _label(KIND_KEY, self.string(self.key_text(key)))
        return label

    def key_text(self, key, depth=0):
        """The repr of a dict key of a builtin type, else `<type>`: never runs a user's __repr__."""
        t = type(key)
        if t is str:
            return repr(key[:_KEY_CHARS]) + ("..." if len(key) > _KEY_CHARS else "")
        if t is int:
            bits = key.bit_length()
            return repr(key) if bits <= _BIG_INT_BITS else "<%d-bit int>" % bits
        if t is float or t is bool or t is complex or key is None:
            return repr(key)
        if t is bytes:
            return repr(key[:_VALUE_BYTES]) + ("..." if len(key) > _VALUE_BYTES else "")
        if t is tuple and len(key) <= 4 and depth < 2:
            parts = [self.key_text(item, depth + 1) for item in key]
            return "(%s)" % (parts[0] + "," if len(parts) == 1 else ", ".join(parts))
        return "<%s>" % (_safe_str(_type_qualname(t)) or "?")

    def frame_edges(self, frame, address):
        """`local x` to each fast local, and the frame's other references labelled by identity.

        3.11+: a running frame's locals and code are held by its interpreter frame, which
        gc.get_referents does not traverse; they are added as extra edges.
        """
        referents = _get_referents(frame)
        plan = self.plans[id(type(frame))]
        candidates = self.member_candidates(frame, types.FrameType, plan)
        must = []
        running = self.executing.get(address)
        # 3.11+: the interpreter frame of a generator or coroutine is part of that object, which
        # gc.get_referents reports holding the locals and code: the frame object gets no edges to them.
        held_here = running is not None and _PY311 and not _frame_code(frame).co_flags & _CO_GENERATORS
        for word, label in self.frame_slots(frame):
            candidates.append((word, label))
            if held_here:
                must.append((_object_at(word), label))
        if running is not None:
            self.local_roots(frame, running)
            if held_here:
                must.append((_frame_code(frame), self.labels["f_code"]))
        return self.match(referents, candidates, must)

    def frame_slots(self, frame):
        """(address, label) of each set fast local of `frame`; none when the layout is unknown."""
        if _FRAMES is None:
            return []
        code = _frame_code(frame)
        labels = self.slot_labels.get(id(code))
        if labels is None:
            labels = self.slot_labels[id(code)] = tuple(
                _label(KIND_LOCAL, self.string(name)) for name in _FrameLayout.slot_names(code))
        return [(address, label) for (address, _), label in zip(_FRAMES.refs(frame, len(labels)), labels)
                if address]

    def local_roots(self, frame, running):
        """A kind-4 root for the value of each local variable of a running frame."""
        function, thread = running
        names = _FrameLayout.slot_names(_frame_code(frame))
        for name, (address, _) in zip(names, _FRAMES.refs(frame, len(names)) if _FRAMES else ()):
            if address:
                self.root(address, ROOT_LOCAL, "%s in %s [thread %s]" % (name, function, thread))

    def count_uncounted(self, frames):
        """Note the references of running frames that the dump records but refcounts do not count.

        3.14+ frames borrow: an argument is often the caller's stack reference, not a new one, so the
        object's refcount is one lower than the edges the dump shows (and so, at times, its code object).
        Each such edge adds one to the refcount written, which keeps "refcount minus the references the
        dump sees" the number of references held from outside it. Done before the walk, which may write
        an object before the frame that borrows it.
        """
        if _FRAMES is None or not _FRAMES.stackrefs:
            return
        uncounted = self.uncounted
        for frame in frames:
            count = len(_FrameLayout.slot_names(_frame_code(frame)))
            for address, counted in _FRAMES.refs(frame, count):
                if address and not counted:
                    uncounted[address] = uncounted.get(address, 0) + 1
            if not _FRAMES.code_counted(frame):
                address = id(_frame_code(frame))
                uncounted[address] = uncounted.get(address, 0) + 1

    def other_edges(self, o, t, plan, address):
        """Any other object: its referents, labelled where the type's layout tells which is which."""
        referents = _get_referents(o) if plan.gc_type else []
        candidates = self.member_candidates(o, t, plan)
        must = []
        if plan.heap:
            must.append((t, self.labels["__class__"]))
        if plan.dict_offset > 0:
            word = _word(address + plan.dict_offset) if _LAYOUT is not None else 0
            if word:
                if plan.is_type:  # a static type's dict is not reported by gc.get_referents
                    must.append((_object_at(word), self.labels["__dict__"]))
                else:
                    candidates.append((word, self.labels["__dict__"]))
        elif plan.managed:
            self.managed_candidates(o, t, plan, address, candidates, must)
        if plan.index_base is not None:
            for i, item in enumerate(plan.index_base.__iter__(o)):
                candidates.append((id(item), _label(KIND_INDEX, min(i, INDEX_MAX))))
        if plan.items_base is not None:
            key_label = self.key_label
            for key, value in plan.items_base.items(o):
                label = self.key_labels.get(id(key)) or self.key_label_for(key)
                must += ((key, key_label), (value, label))
        if plan.is_type and _SHARED_KEYS is not None and _type_flags(o) & _TPFLAGS_HEAPTYPE:
            # the names in a class's shared keys: held by the keys table the class owns
            shared_key = self.labels["shared key"]
            for word in _SHARED_KEYS.addresses(o):
                if word:
                    must.append((_object_at(word), shared_key))
        if plan.cell and referents:
            candidates.append((id(referents[0]), self.labels["cell_contents"]))
        for name_label, descriptor in plan.references:
            try:
                must.append((_member_get(descriptor, o, t), name_label))
            except Exception:
                pass
        targets, labels = self.match(referents, candidates, must)
        if plan.weak and _WEAKREF_OFFSET is not None:
            word = _word(address + _WEAKREF_OFFSET)
            if word and word != id(None):
                targets.append(word)
                labels.append(self.weak_label)
                self.follow((_object_at(word),))
        return targets, labels

    def managed_candidates(self, o, t, plan, address, candidates, must):
        """3.11+ managed dict and inline attribute values, read from memory (no dict is created)."""
        if _INSTANCES is None:
            return
        word = _INSTANCES.managed_dict(o)
        if word:
            # 3.13 does not report a managed dict that shares the inline values: add it then
            must.append((_object_at(word), self.labels["__dict__"]))
        names = plan.inline_names
        if names:
            values = _INSTANCES.values(o, t, len(names))
            if values is not None:
                for word, label in zip(values, names):
                    if word and label:
                        candidates.append((word, label))

    def member_candidates(self, o, t, plan):
        """(address, label) of each member and safe getter value of `o`."""
        candidates = []
        for label, descriptor in plan.members:
            try:
                candidates.append((id(_member_get(descriptor, o, t)), label))
            except Exception:  # an unset slot
                pass
        for label, descriptor in plan.getsets:
            try:
                candidates.append((id(_getset_get(descriptor, o, t)), label))
            except Exception:
                pass
        return candidates

    def match(self, referents, candidates, must):
        """(targets, labels): each referent once, labelled by the first candidate with its address;
        `must` pairs (object, label) are true references: they label a referent when present, else
        become extra edges.
        """
        targets = list(map(id, referents))
        free = targets[:]
        labels = [0] * len(targets)
        for word, label in candidates:
            if word in free:
                i = free.index(word)
                free[i] = -1
                labels[i] = label
        for target, label in must:
            word = id(target)
            if word in free:
                i = free.index(word)
                free[i] = -1
                labels[i] = label
            else:
                targets.append(word)
                labels.append(label)
        self.follow(referents)
        self.follow([target for target, _ in must])
        return targets, labels

    # -- plans --------------------------------------------------------------------------------------------

    def plan(self, t):
        """Compute (and cache) how to dump instances of type `t`; writes its TYPE record."""
        try:
            plan = self.full_plan(t)
        except Exception:  # a type this code did not foresee: plain edges, object.__sizeof__ size
            plan = _Plan()
            plan.kind, plan.gc_type, plan.sizeof_ok, plan.size_overhead = _KIND_OTHER, True, False, 0
            plan.length = plan.preview = plan.name_kind = plan.index_base = plan.items_base = None
            plan.optional = False
            plan.heap = plan.managed = plan.weak = plan.cell = plan.is_type = False
            plan.dict_offset = 0
            plan.members = plan.getsets = plan.references = plan.inline_names = ()
            plan.fact = None
        self.plans[id(t)] = plan
        module = _safe_str(_type_module(t)) or "?"
        qualname = _safe_str(_type_qualname(t)) or "?"
        self.buffer += _TYPE.pack(TAG_TYPE, 16, id(t), self.string(module), self.string(qualname))
        return plan

    def full_plan(self, t):
        """The plan of type `t` from its flags, MRO and class dicts."""
        plan = _Plan()
        mro = _type_mro(t) or (t,)  # a static type never readied has no MRO
        flags = _type_flags(t)
        plan.gc_type = bool(flags & _TPFLAGS_HAVE_GC)
        plan.heap = bool(flags & _TPFLAGS_HEAPTYPE)
        plan.is_type = _first_of((type,), mro) is not None
        sizeof = _class_attr(t, "__sizeof__")
        plan.sizeof_ok = _first_of(_C_CALLABLES, (type(sizeof),)) is not None
        if not plan.gc_type:
            plan.size_overhead = 0
        elif _PY311 and flags & _TPFLAGS_PREHEADER:
            plan.size_overhead = _PREHEADER_OVERHEAD
        else:
            plan.size_overhead = _GC_OVERHEAD
        sized = _first_of(_SIZED_BASES, mro)
        # len() is the C slot for the exact builtins; a subclass goes through the base's slot wrapper
        plan.length = None if sized is None else len if sized is t else sized.__len__
        plan.preview = _PREVIEWS.get(id(_first_of(_VALUE_BASES, mro)))
        plan.name_kind = _name_kind(t, mro)
        plan.optional = plan.length is not None or plan.preview is not None or plan.name_kind is not None
        plan.dict_offset = _type_dictoffset(t)
        plan.managed = bool(_PY311 and flags & _TPFLAGS_MANAGED_DICT)
        plan.members, plan.getsets, plan.references = self.descriptors(t, mro)
        plan.inline_names = self.inline_names(t) if plan.managed and plan.heap else ()
        plan.index_base = _first_of((list, tuple), mro)
        plan.items_base = _first_of(_MAPPINGS, mro)
        plan.weak = _first_of(_WEAKREF_TYPES, mro) is not None
        plan.cell = t is types.CellType
        plan.fact = _fact_reader(t, mro)
        if t is list or t is tuple or t is set or t is frozenset:
            plan.kind = _KIND_SEQUENCE
        elif t is dict:
            plan.kind = _KIND_DICT
        elif t is types.FrameType:
            plan.kind = _KIND_FRAME
        elif not plan.gc_type and not plan.references and not plan.weak:
            plan.kind = _KIND_ATOM  # gc.get_referents reports nothing for non-GC objects
        else:
            plan.kind = _KIND_OTHER
        return plan

    def descriptors(self, t, mro):
        """Member descriptors and whitelisted getters along the MRO (the nearest definition wins)."""
        members, getsets, references, seen = [], [], [], set()
        for klass in mro:
            safe_getsets = _SAFE_GETSETS.get(id(klass), ())
            for name, descriptor in list(dict.items(_type_vars(klass).copy())):
                if type(name) is not str or name in seen:
                    continue
                seen.add(name)
                kind = type(descriptor)
                if kind is types.MemberDescriptorType:
                    target = references if t is types.CodeType and name in _CODE_REFERENCES else members
                elif kind is types.GetSetDescriptorType and name in safe_getsets:
                    target = getsets
                else:
                    continue
                target.append((_label(KIND_ATTR, self.string(name)), descriptor))
                self.pinned[id(descriptor)] = self.pinned.get(id(descriptor), 0) + 1
        return members, getsets, references

    def inline_names(self, t):
        """Attribute labels of `t`'s shared keys, in value-slot order (3.11+)."""
        if _INSTANCES is None:
            return ()
        names = [_safe_str(_object_at(address)) if address else None for address in _SHARED_KEYS.addresses(t)]
        return tuple(_label(KIND_ATTR, self.string(name)) if name else 0 for name in names)


_EDGE_PACKERS = tuple(struct.Struct("<" + "QI" * count).pack for count in range(65))


def _pack_edges(targets, labels):
    """Edges as the format stores them: (target u64, label u32) little-endian, 12 bytes each.

    Up to 64 edges through a struct; more by interleaving two arrays' bytes with slice assignments,
    which needs no struct format per size.
    """
    count = len(targets)
    if count <= 64:
        flat = [0] * (2 * count)
        flat[0::2] = targets
        flat[1::2] = labels
        return _EDGE_PACKERS[count](*flat)
    addresses, tags = array("Q", targets), array("I", labels)
    if sys.byteorder != "little":
        addresses.byteswap()
        tags.byteswap()
    addresses, tags = addresses.tobytes(), tags.tobytes()
    packed = bytearray(12 * count)
    for i in range(8):
        packed[i::12] = addresses[i::8]
    for i in range(4):
        packed[8 + i::12] = tags[i::4]
    return packed


_WEAKREF_TYPES = (weakref.ref, weakref.ProxyType, weakref.CallableProxyType)


def _name_kind(t, mro):
    """Which name an instance of `t` has (None: no name)."""
    if _first_of((types.ModuleType,), mro) is not None:
        return "module"
    if _first_of((type,), mro) is not None:
        return "class"
    if t is types.FunctionType:
        return "function"
    if t is types.CodeType:
        return "code"
    if t is types.FrameType:
        return "frame"
    return None


def _object_name(o, kind):
    """The name recorded for a module, class, function, code object or frame."""
    try:
        if kind == "module":
            return _safe_str(_module_dict(o).get("__name__"))
        if kind == "class":
            return _safe_str(_type_qualname(o))
        if kind == "function":
            return _safe_str(_func_qualname(o))
        if kind == "code":
            return "%s at %s:%d" % (o.co_name, o.co_filename, o.co_firstlineno)
        function, where = _frame_description(o)
        return "%s at %s" % (function, where)
    except Exception:
        return None


def _frame_description(frame):
    """("function()", "file:line") of a frame."""
    code = _frame_code(frame)
    name = code.co_qualname if _PY311 else code.co_name
    return "%s()" % name, "%s:%s" % (code.co_filename, _frame_lineno(frame))


# ---------------------------------------------------------------------------------------------------------
# Allocation sites (TRACE and ALLOCATED records): when tracemalloc traces, the traceback it recorded for
# each object's memory block, the distinct tracebacks written once each.
#
# Cost. While tracemalloc traces, every allocation captures the stack (up to its frame limit, each frame's
# line computed from the bytecode offset) and inserts into its table, and every new object from a free list
# captures it again: the walk's own allocations made a traced dump many times slower than an untraced one.
# So for the walk, the dumper's allocations go around tracemalloc (_QuietTracemalloc) and tracemalloc's
# frame limit is 1, while its traces, which the walk reads, stay as they are; both are put back before
# dump() returns. Stopping tracemalloc instead would erase the traces.

_DOMAIN_RAW, _DOMAIN_MEM, _DOMAIN_OBJ = 0, 1, 2
_SITES_BATCH = 4096  # (address, trace) pairs per ALLOCATED record


class _SlotProbe:
    """A GC object with no pre-header and no free list: its block is where tracemalloc looks for it."""

    __slots__ = ("value",)


def _tracemalloc():
    """tracemalloc's C module when it traces, else None. The C module, not `tracemalloc`: a process started
    with PYTHONTRACEMALLOC or -X tracemalloc traces without ever importing the Python one, and importing
    it would run code and add modules to the heap being described. The builtin C module is imported only
    when one of those asked for tracing; `tracemalloc.start()` has imported it already."""
    module = dict.get(sys.modules, "_tracemalloc")
    if module is None:
        environment = "" if sys.flags.ignore_environment else os.environ.get("PYTHONTRACEMALLOC", "")
        if "tracemalloc" not in sys._xoptions and environment.strip() in ("", "0"):
            return None
        try:
            import _tracemalloc as module
        except ImportError:
            return None
    try:
        return module if module.is_tracing() else None
    except Exception:
        return None


if ctypes is not None:

    class _Allocator(ctypes.Structure):
        """PyMemAllocatorEx: the context and the four functions of one allocator domain."""

        _fields_ = [(name, ctypes.c_void_p) for name in ("ctx", "malloc", "calloc", "realloc", "free")]


class _QuietTracemalloc:
    """Keeps tracemalloc from tracing the dumper's own work during the walk, without losing its traces.

    tracemalloc.start() wraps each allocator domain in hooks whose context points at the allocator they
    wrap, in one struct {mem, raw, obj} of tracemalloc's own (CPython 3.8-3.15). Those hooks are recognised
    by that shape (the mem and obj domains share hook functions, as from 3.15 the raw one does too, their
    contexts 40 and 80 bytes after the mem one) and the wrapped allocators of the mem and obj domains are
    put in place of them; the raw domain, which threads use without the GIL, is left alone.

    Every new object also asks tracemalloc to trace it again when its block is traced already (one from a
    free list), at the cost of a lookup in its table per object, and of a traceback when found: up to 3.12
    when tracemalloc's config says it is tracing, from 3.13 through the reference tracer it installs. So
    for the walk the frame limit is 1, from 3.13 the reference tracer is off, and the config's `tracing`
    flag is 0 except around each lookup of a traceback, which requires it (`lookup`; up to 3.12 the new
    objects' lookups cost more than setting the flag twice per traceback, and 3.14 traces the probe below
    when the flag stays on). The config ({initialized, tracing, max_nframe}: the exported
    `_Py_tracemalloc_config` up to 3.11, just before the allocators from 3.12) is written only where its
    three numbers read back what tracemalloc says.

    A self-test checks that a probe allocated in between has no trace (one of a few: a block freed while
    paused keeps its trace) and one allocated after has one; when any of this does not hold, the dump is
    taken traced, slower, with a warning.
    """

    def __init__(self, module):
        self.module = module
        self.limit = module.get_traceback_limit()
        api = ctypes.pythonapi
        self.get_allocator, self.set_allocator = api.PyMem_GetAllocator, api.PyMem_SetAllocator
        for function in (self.get_allocator, self.set_allocator):
            function.argtypes = [ctypes.c_int, ctypes.POINTER(_Allocator)]
            function.restype = None
        hooked = {}
        for domain in (_DOMAIN_RAW, _DOMAIN_MEM, _DOMAIN_OBJ):
            hooked[domain] = _Allocator()
            self.get_allocator(domain, ctypes.byref(hooked[domain]))
        mem, raw, obj = hooked[_DOMAIN_MEM], hooked[_DOMAIN_RAW], hooked[_DOMAIN_OBJ]
        size = ctypes.sizeof(_Allocator)
        if not (mem.ctx and mem.malloc == obj.malloc and mem.free == obj.free
                and raw.ctx == mem.ctx + size and obj.ctx == mem.ctx + 2 * size):
            raise RuntimeError("the allocators are not wrapped by tracemalloc's hooks alone")
        self.hooked = {domain: hooked[domain] for domain in (_DOMAIN_MEM, _DOMAIN_OBJ)}
        self.inner = {domain: _Allocator.from_buffer_copy(ctypes.string_at(hooked[domain].ctx, size))
                      for domain in self.hooked}
        self.config = self._config(mem.ctx)
        self.ref_tracer = None
        if _PY313:
            self.get_ref_tracer, self.set_ref_tracer = api.PyRefTracer_GetTracer, api.PyRefTracer_SetTracer
            self.get_ref_tracer.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
            self.get_ref_tracer.restype = ctypes.c_void_p
            self.set_ref_tracer.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            self.set_ref_tracer.restype = ctypes.c_int
        self.quiet = False
        self.enter()
        try:
            # A block freed while paused keeps its trace, so a probe made there reads as traced: of a few
            # probes alive at once, one untraced shows the pause works (if it did not, all would be).
            probes = [_SlotProbe() for _ in range(4)]
            untraced = any(self.lookup(module._get_object_traceback, probe) is None for probe in probes)
            del probes
        finally:
            self.leave()
        traced = module._get_object_traceback(_SlotProbe()) is not None
        if not (untraced and traced):
            raise RuntimeError("a probe object was traced while tracing was paused, or not after")

    def _config(self, allocators):
        """tracemalloc's {initialized, tracing, max_nframe}, or None where it cannot be told for sure."""
        try:
            config = (ctypes.c_int * 3).in_dll(ctypes.pythonapi, "_Py_tracemalloc_config")
        except ValueError:  # 3.12+: a field of _PyRuntime.tracemalloc, just before the allocators
            config = (ctypes.c_int * 3).from_address(allocators - 16)
        return config if list(config) == [1, 1, self.limit] else None

    def enter(self):
        for domain, allocator in self.inner.items():
            self.set_allocator(domain, ctypes.byref(allocator))
        if self.config is not None:
            self.config[2] = 1
            self.config[1] = 0
        if _PY313:
            data = ctypes.c_void_p()
            self.ref_tracer = (self.get_ref_tracer(ctypes.byref(data)), data.value)
            self.set_ref_tracer(None, None)
        self.quiet = True

    def lookup(self, lookup, *args):
        """`lookup(*args)`, with tracemalloc's `tracing` flag on for it."""
        if self.config is None or not self.quiet:
            return lookup(*args)
        config = self.config
        config[1] = 1
        try:
            return lookup(*args)
        finally:
            config[1] = 0

    def leave(self):
        """Puts tracemalloc back as it was, unless another thread stopped or restarted it meanwhile (then
        tracemalloc restored or replaced the allocators itself, and sized its buffers to its own limit)."""
        if not self.quiet:
            return
        self.quiet = False
        if _PY313 and self.ref_tracer is not None:
            self.set_ref_tracer(*self.ref_tracer)
        if self.config is not None:
            if list(self.config) != [1, 0, 1]:
                return
            self.config[1], self.config[2] = 1, self.limit
        if not self.module.is_tracing():
            return
        for domain, allocator in self.hooked.items():
            self.set_allocator(domain, ctypes.byref(allocator))


def _quiet_tracemalloc(module, warnings):
    """A _QuietTracemalloc already entered, or None (tracemalloc keeps tracing the dump: a warning)."""
    try:
        if ctypes is None:
            raise RuntimeError("ctypes is missing")
        quiet = _QuietTracemalloc(module)
    except Exception as error:
        warnings.append("tracemalloc could not be paused for the dumper's own allocations (%s): the dump is "
                        "slower" % (error,))
        return None
    quiet.enter()
    return quiet


class _AllocationSites:
    """Writes the traceback of each object tracemalloc traced: one TRACE record per distinct traceback
    (frames as tracemalloc gives them, the allocating frame first) and ALLOCATED records of (address,
    trace id) pairs, a batch at a time.

    tracemalloc looks an object up at its address minus the GC header and (3.12+) the pre-header. 3.11's
    own lookup leaves the pre-header out, and so misses instances with a managed dict: for those the block
    address is computed here (the object's GC and pre-header overhead, measured at import) and looked up
    through _PyTraceMalloc_GetTraceback.
    """

    def __init__(self, walk, module, paused):
        self.walk = walk
        self.lookup = module._get_object_traceback
        self.paused = paused if paused is not None and paused.config is not None else None
        self.block_lookup = None
        if _PY311 and not _PY312 and ctypes is not None:
            try:
                block_lookup = ctypes.pythonapi._PyTraceMalloc_GetTraceback
                block_lookup.argtypes = [ctypes.c_uint, ctypes.c_size_t]
                block_lookup.restype = ctypes.py_object
                self.block_lookup = block_lookup
            except AttributeError:
                pass
        self.ids = {}  # traceback tuple -> trace id
        self.addresses, self.traces = [], []
        self.objects = 0

    def record(self, o, address, plan):
        if plan.managed and self.block_lookup is not None:
            lookup, args = self.block_lookup, (0, address - plan.size_overhead)
        else:
            lookup, args = self.lookup, (o,)
        frames = lookup(*args) if self.paused is None else self.paused.lookup(lookup, *args)
        if frames is None:
            return
        trace = self.ids.get(frames)
        if trace is None:
            trace = self.ids[frames] = len(self.ids)
            self.write_trace(trace, frames)
        self.addresses.append(address)
        self.traces.append(trace)
        self.objects += 1
        if len(self.addresses) >= _SITES_BATCH:
            self.flush()

    def write_trace(self, trace, frames):
        walk = self.walk
        pairs = [(walk.string(_safe_str(filename) or "<unknown>"), lineno) for filename, lineno in frames]
        words = array("I", [value for pair in pairs for value in pair])
        if sys.byteorder != "little":
            words.byteswap()
        walk.buffer += _TRACE.pack(TAG_TRACE, 4 + 8 * len(pairs), trace)
        walk.buffer += words.tobytes()

    def flush(self):
        if self.addresses:
            self.walk.buffer += _RECORD.pack(TAG_ALLOCATED, 12 * len(self.addresses))
            self.walk.buffer += _pack_edges(self.addresses, self.traces)
            self.addresses, self.traces = [], []


# ---------------------------------------------------------------------------------------------------------
# Facts that prove an object should be gone (FACT records), each read from a field of the object's C
# struct through its builtin type's own descriptor or from memory, so that no code of the process runs.
# A fact is only ever written when it is certain; an object whose state cannot be read has none.

_fileio_closed = io.FileIO.__dict__["closed"].__get__  # fileio_get_closed: the fd is -1
# Wrappers and the getter of the object they wrap: a member (read as stored, None when unset), or from
# 3.14 TextIOWrapper's C getter of the same field.
_FILE_WRAPPERS = tuple(
    (klass, _member_get if type(klass.__dict__[name]) is types.MemberDescriptorType else _getset_get,
     klass.__dict__[name])
    for klass, name in ((io.TextIOWrapper, "buffer"), (io.BufferedReader, "raw"), (io.BufferedWriter, "raw"),
                        (io.BufferedRandom, "raw")))


def _file_closed(o, executing):
    """A FileIO whose descriptor is closed, or a buffered or text wrapper (of a builtin type, through its
    stored member) around one."""
    for _ in range(3):  # text -> buffered -> raw
        mro = _type_mro(type(o)) or ()
        if _first_of((io.FileIO,), mro) is not None:
            return FACT_FILE_CLOSED if _fileio_closed(o) else 0
        for klass, get, descriptor in _FILE_WRAPPERS:
            if _first_of((klass,), mro) is not None:
                o = get(descriptor, o, klass)
                break
        else:
            return 0
    return 0


def _socket_reader():
    """A reader of the closed state of _socket.socket objects (sock_fileno: the stored descriptor, -1
    once closed or detached), or None when no socket module was imported (then no socket exists)."""
    module = dict.get(sys.modules, "_socket")
    if type(module) is not types.ModuleType:
        return None
    klass = _module_dict(module).get("socket")
    fileno = _type_vars(klass).get("fileno") if type(klass) is type else None
    if type(fileno) is not types.MethodDescriptorType:
        return None

    def socket_closed(o, executing):
        return FACT_SOCKET_CLOSED if fileno(o) == -1 else 0

    return klass, socket_closed


def _generator_state(layout):
    """Where a 3.11+ generator keeps its frame state (an int8 that only grows as the generator goes from
    created to suspended to running to finished; the values differ between versions), and the least value
    a finished one has (any above running: completed or cleared), found on probe generators: the one byte
    of the object that orders those states, and is the same in two generators of one state. Coroutines and
    async generators share the header. (Left over bytes past the header can order one set of probes, and
    do, at a 3.15 interpreter's startup; they do not repeat from one generator to the next.)"""
    size = _type_basicsize(types.GeneratorType)
    box = []

    def probe():
        yield 1

    def header_when_running():
        yield _MEMORY[id(box[0]):id(box[0]) + size]

    def raising():
        yield 1
        raise ValueError

    created, suspended = (probe(), probe()), (probe(), probe())
    returned, failed, closed = probe(), raising(), probe()
    running = header_when_running()
    for g in suspended:
        next(g)
    box.append(running)
    header_running = next(running)
    box.clear()  # else box, the generator and its frame form a cycle only the collector would free
    list(returned)
    next(failed)
    try:
        next(failed)
    except ValueError:
        pass
    next(closed)
    closed.close()
    state = struct.Struct("<b").unpack_from
    found = []
    for offset in range(16, size):
        first, again = ({state(_MEMORY, id(g) + offset)[0] for g in pair} for pair in (created, suspended))
        if len(first) != 1 or len(again) != 1:
            continue
        now = state(header_running, offset)[0]
        done = min(state(_MEMORY, id(g) + offset)[0] for g in (returned, failed, closed))
        if first.pop() < again.pop() < now < done:
            found.append((offset, now + 1))
    if len(found) != 1:
        raise RuntimeError("%d candidate offsets" % len(found))
    return found[0]


def _frame_owned_offset(layout):
    """Where a 3.11+ frame object keeps its interpreter frame once its call has returned: PyFrameObject's
    f_frame then points inside the object itself (the data is copied there) instead of at a thread's
    stack or a generator. Found on a probe frame that has returned, checked against a running one."""

    def probe():
        return sys._getframe()

    returned = probe()
    owned = _word(id(returned) + _FRAMES.frame_data) - id(returned)
    running = sys._getframe()
    if not 0 < owned < _getsizeof(returned) or _word(id(running) + _FRAMES.frame_data) == id(running) + owned:
        raise RuntimeError("f_frame of a returned frame does not point inside it")
    return owned


_GENERATOR_STATE = (_calibrate(_generator_state, ("generator", "finished-generator facts"))
                    if _PY311 else None)
_FRAME_OWNED = (_calibrate(_frame_owned_offset, ("frame ownership", "returned-frame facts"))
                if _PY311 and _FRAMES is not None and _FRAMES.frame_data is not None else None)
_GENERATOR_FACTS = {
    id(types.GeneratorType): ("gi_frame", FACT_GENERATOR_FINISHED),
    id(types.CoroutineType): ("cr_frame", FACT_COROUTINE_FINISHED),
    id(types.AsyncGeneratorType): ("ag_frame", FACT_COROUTINE_FINISHED),
}


def _generator_reader(t):
    """A reader of whether a generator, coroutine or async generator has finished, or None."""
    name, fact = _GENERATOR_FACTS[id(t)]
    if _PY311:
        if _GENERATOR_STATE is None:
            return None  # the state is a plain field only raw memory shows; gi_frame would make a frame
        (offset, done), state = _GENERATOR_STATE, struct.Struct("<b").unpack_from

        def finished(o, executing):
            return fact if state(_MEMORY, id(o) + offset)[0] >= done else 0

        return finished
    frame = _type_vars(t)[name]  # 3.8-3.10: a member, cleared when the generator finishes

    def finished_member(o, executing):
        return fact if _member_get(frame, o, t) is None else 0

    return finished_member


def _returned_frame(frame, executing):
    """A frame whose call has returned: 3.11+ by where its data lives; otherwise (3.8-3.10, or no
    layout) a frame on no thread's stack, unless its code is a generator's (a suspended generator's
    frame is on no stack either, and telling it from a finished one needs raw reads)."""
    if _FRAME_OWNED is not None:
        return FACT_RETURNED_FRAME if _word(id(frame) + _FRAMES.frame_data) == id(frame) + _FRAME_OWNED else 0
    if id(frame) in executing or _frame_globals(frame) is _OWN_GLOBALS:
        return 0
    return 0 if _frame_code(frame).co_flags & _CO_GENERATORS else FACT_RETURNED_FRAME


def _fact_reader(t, mro):
    """How to read the fact an instance of type `t` may prove (see FACT records), or None."""
    if t is types.FrameType:
        return _returned_frame
    if id(t) in _GENERATOR_FACTS:
        return _generator_reader(t)
    if _first_of((io.FileIO,) + tuple(wrapper[0] for wrapper in _FILE_WRAPPERS), mro) is not None:
        return _file_closed
    sockets = _socket_reader()
    if sockets is not None and _first_of((sockets[0],), mro) is not None:
        return sockets[1]
    return None


def _preview_str(o):
    return str.__getitem__(o, _FIRST_CHARS).encode("utf-8", "backslashreplace")


def _preview_bytes(o):
    return repr(bytes(o[_FIRST_BYTES] if type(o) is bytes else bytes.__getitem__(o, _FIRST_BYTES))).encode()


def _preview_bytearray(o):
    return repr(bytes(bytearray.__getitem__(o, _FIRST_BYTES))).encode()


def _preview_int(o):
    bits = int.bit_length(o)
    return (int.__repr__(o) if bits <= _BIG_INT_BITS else "<%d-bit int>" % bits).encode()


def _preview_float(o):
    return float.__repr__(o).encode()


def _preview_bool(o):
    return b"True" if o is True else b"False"


def _preview_none(o):
    return b"None"


_FIRST_CHARS = slice(0, _VALUE_CHARS)
_FIRST_BYTES = slice(0, _VALUE_BYTES)
# UTF-8 value previews by builtin base (keyed by id: see _SAFE_GETSETS), each through the base's C methods
_PREVIEWS = {
    id(str): _preview_str,
    id(bytes): _preview_bytes,
    id(bytearray): _preview_bytearray,
    id(int): _preview_int,
    id(float): _preview_float,
    id(bool): _preview_bool,
    id(type(None)): _preview_none,
}


def _thread_names(idents):
    """Thread ident -> name, read from threading's registry without running Thread code."""
    threading = sys.modules.get("threading")
    if threading is None:  # then a lone thread is the main thread
        return {ident: "MainThread" for ident in idents} if len(idents) == 1 else {}
    active = _module_dict(threading).get("_active")
    names = {}
    if type(active) is dict:
        for ident, thread in list(dict.items(active)):
            name = _safe_str(_instance_attr(thread, "_name"))
            if name is not None:
                names[ident] = name
    return names


# ---------------------------------------------------------------------------------------------------------
# Public API


def dump(path, *, collect=False):
    """Write a heap dump of this process to `path`; return a summary dict.

    collect: run gc.collect() first (off by default: uncollected garbage is evidence).
    Raises DumpError (the partial file removed) if the file cannot be written.
    """
    started = time.perf_counter()
    wall_start = time.time()
    if collect:
        gc.collect()
    gc_enabled = gc.isenabled()
    gc.disable()
    interval = sys.getswitchinterval()
    rss_start = _rss_bytes()
    output = None
    paused = None
    tracing = _tracemalloc()
    warnings = list(_WARNINGS)
    try:
        frames = tracing.get_traceback_limit() if tracing is not None else 0  # before the pause sets it to 1
        if tracing is not None:
            paused = _quiet_tracemalloc(tracing, warnings)
        for warning in warnings:  # to the file descriptor: a replaced sys.stderr would run the process's code
            try:
                os.write(2, ("heapgraph_dump: warning: %s\n" % warning).encode("utf-8", "backslashreplace"))
            except OSError:
                pass
        meta = _meta(wall_start, rss_start, collect, warnings, frames)
        output = _Output(path)
        quiet = min(_QUIET_MAX, max(_QUIET_MIN, rss_start / _QUIET_BYTES_PER_SECOND))
        sys.setswitchinterval(quiet)
        time.sleep(0.001)  # threads already waiting (with the old interval) run now, not mid-walk
        snapshot = gc.get_objects()
        walk = _Walk(output, meta)
        if tracing is not None:
            walk.sites = _AllocationSites(walk, tracing, paused)
        walk.module_roots()
        seeds = walk.thread_frames()
        walk.count_uncounted(seeds)
        walk.run(snapshot, seeds, output)
        del snapshot, seeds
        # before anything that releases the GIL: with the long interval, each release could hand it to a
        # busy thread for that long
        sys.setswitchinterval(interval)
        walk.write_end(int((time.perf_counter() - started) * 1e9), _rss_bytes())
        output.close()
    except BaseException as error:
        if output is not None:
            output.discard()
        if isinstance(error, (OSError, ValueError, MemoryError)):
            raise DumpError("heap dump to %s failed: %s (partial file removed)" % (path, error)) from error
        raise
    finally:
        if paused is not None:
            paused.leave()
        sys.setswitchinterval(interval)
        if gc_enabled:
            gc.enable()
    return {
        "objects": walk.objects,
        "edges": walk.edges,
        "roots": walk.roots,
        "allocation_sites": walk.sites.objects if walk.sites is not None else 0,
        "seconds": time.perf_counter() - started,
        "bytes": output.size,
    }


def _meta(wall_start, rss, collected, warnings, tracemalloc_frames):
    argv = [arg for arg in getattr(sys, "argv", []) if type(arg) is str]
    return {
        "format": "heapgraph-python",
        "dumper_version": __version__,
        "python_version": platform.python_version(),
        "implementation": sys.implementation.name,
        "pid": os.getpid(),
        "argv": argv,
        "platform": sys.platform,
        "executable": sys.executable,
        "time": wall_start,
        "pointer_size": struct.calcsize("P"),
        "rss_bytes": rss,
        "attribute_names": _INSTANCES is not None if _PY311 else True,
        "frame_locals": _FRAMES is not None,
        "memory_layout": _BUILD if _LAYOUT is not None else None,
        "warnings": warnings,
        "gc_collected": bool(collected),
        "tracemalloc_frames": tracemalloc_frames,
    }


# ---------------------------------------------------------------------------------------------------------
# Command line: run a script, dump when it ends

_USAGE = """usage: python heapgraph_dump.py -o OUT.hgd [--collect] SCRIPT [ARGS ...]

Runs SCRIPT as __main__ with ARGS, then writes a heap dump of the process to OUT.hgd when the script
ends (normally, by an exception or by sys.exit). Open the dump with heapgraph.

To dump a running service instead, call the API from inside it (a debug endpoint, a signal handler):

    import heapgraph_dump
    heapgraph_dump.dump("/tmp/service.hgd")      # returns {"objects", "edges", "roots", "seconds", "bytes"}

options:
  -o OUT.hgd   where to write the dump
  --collect    run gc.collect() before dumping (by default garbage is kept: it is evidence)
  -h, --help   show this help
"""


def _main(argv):
    output, collect = None, False
    while argv and argv[0].startswith("-"):
        option = argv.pop(0)
        if option in ("-h", "--help"):
            print(_USAGE, end="")
            return 0
        if option == "-o" and argv:
            output = argv.pop(0)
        elif option == "--collect":
            collect = True
        else:
            sys.stderr.write("unknown option %s\n\n%s" % (option, _USAGE))
            return 2
    if output is None or not argv:
        sys.stderr.write(_USAGE)
        return 2
    script = argv[0]
    with open(script, "rb") as source:
        code = compile(source.read(), script, "exec")
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = __builtins__
    sys.modules["__main__"] = module
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        exec(code, module.__dict__)
    finally:
        summary = dump(output, collect=collect)
        sys.stderr.write("heapgraph_dump: %s\n" % json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
