"""memgate's helper inside a Python process under `memgate explain`.

`sitecustomize` calls `start()` when `MEMGATE_DIAG_DIR` is set. From then on the helper
records, without changing what the program does:

* The cyclic garbage. Every collection runs with `gc.DEBUG_SAVEALL` added to the
  program's flags, so what the collector found unreachable (and already finalized: its
  `__del__` ran, weak references to it were cleared) lands in `gc.garbage` instead of
  being freed. The helper takes it out again at once, sizes it by type, finds the
  shortest reference cycle through the biggest types, and frees it (`release`): it
  clears what Python lets it clear (instance dicts, slots, dicts, lists, sets, cells,
  function defaults, exception links, class dicts) and drops it. What that cannot free
  (a class is always in a cycle with its `__mro__`; some C objects hold fields Python
  cannot reach) is found with weak references: held memory over 1 MiB makes the next
  collection of its generation run without DEBUG_SAVEALL (the collector frees it; that
  collection is "not_analysed"); less waits aside (`graveyard`) until there are
  GRAVEYARD_OBJECTS such objects. A program that set DEBUG_SAVEALL itself keeps its
  gc.garbage: analysed, never touched.
* At exit, the cyclic garbage the collector never got round to, found by a read-only
  census (`find_unreachable`: the collector's own algorithm, nothing freed) and sized
  the same way.
* With `MEMGATE_DIAG_SITES=1`, the allocation sites alive near the traced peak
  (`tracemalloc`), and a snapshot taken when memgate says the tree nears its memory
  limit (it creates `$MEMGATE_DIAG_DIR/limit`).

The analysis has a budget (BUDGET_S plus BUDGET_SHARE of the run): past it, collections
run as they would without the helper. The report is `$MEMGATE_DIAG_DIR/py-<pid>.json`
(format `memgate_diag: 1`), written soon after start, every WRITE_EVERY_S while
something changes, and at exit (`atexit`, or `os._exit`); `py-<pid>-limit.json` at the
limit. Every hook catches its own errors and lists them in the report's `errors`.

Standard library only; CPython 3.8 and later. Main type: `_Diag`.
"""

# Only modules that are built in or already loaded: importing `threading`, `collections`,
# `operator`, `json`, `weakref`, `types` or `importlib.util` leaves cyclic garbage on
# some versions (classes made and dropped at import), and the program's first
# gc.collect() would count it.
import _thread
import gc
import os
import sys
import time
from _collections import _count_elements, deque
# Comparisons through _operator's functions, not bound methods like `(0).__lt__`: a
# method-wrapper call allocates an argument tuple, which tracemalloc makes slow.
from _operator import ge, gt, itemgetter, lt, not_, sub
from _weakref import ref as _weakref
from itertools import compress, filterfalse, groupby, islice, repeat

FORMAT = 1
MAX_TYPES = 20  # types in a report
CYCLE_TYPES = 10  # types whose shortest cycle is looked for
MAX_SITES = 25
MAX_ERRORS = 20
MAX_ARGV = 20
MAX_ARG_CHARS = 200
MAX_CODE_CHARS = 120
MAX_KEY_CHARS = 40
TRACEBACK_FRAMES = 5

POLL_S = 0.01
WRITE_EVERY_S = 2.0
MIB = 1 << 20
SNAPSHOT_GROWTH = 1.05  # a new snapshot once traced memory passes the kept one by 5% ...
SNAPSHOT_STEP = MIB  # ... and by at least this much
# Traced memory within PLATEAU_BYTES (or 0.1%) over PLATEAU_POLLS polls: a plateau.
PLATEAU_POLLS = 6
PLATEAU_BYTES = 64 * 1024

# Sizing a container's untracked referents: exactly up to BIG_CONTAINER of them, else a
# stride sample of SIZE_SAMPLE scaled up.
BIG_CONTAINER = 1000
SIZE_SAMPLE = 256
# At most this many traces are aggregated per snapshot: blocks of BIG_TRACE bytes or
# more always, smaller ones as a stride sample scaled up.
TRACE_SAMPLE = 1000000
BIG_TRACE = 64 * 1024
# The analysis may take this long plus this share of the run; past it a collection runs
# as usual (counted as not analysed).
BUDGET_S = 0.25
BUDGET_SHARE = 0.2
# Up to this many objects of a type are tried as a cycle's start, each search visiting
# at most this many objects.
CYCLE_STARTS = 4
CYCLE_SEARCH_OBJECTS = 200000
# Above this many objects in one collection's garbage, its components are not computed
# (all of it counts as one).
FULL_ANALYSIS_OBJECTS = 300000
# Objects the release could not free: above this many bytes held, the next collection of
# their generation frees them; below, they wait, up to this many objects.
LEFTOVER_BYTES = MIB
GRAVEYARD_OBJECTS = 2000
# Released objects of unknown fate remembered at most (then a full collection runs
# without DEBUG_SAVEALL, freeing whichever outlived its release).
OPAQUE_IDS = 100000
# The census at exit reads every tracked object: not above this many.
CENSUS_OBJECTS = 1500000
CENSUS_CHUNK = 5000

SAVEALL = gc.DEBUG_SAVEALL

_OURS, _USER, _SKIP = "ours", "user", "skip"

_FunctionType = type(lambda: None)
_CellType = type((lambda x: lambda: x)(0).__closure__[0])
class _Probe(object):
    def method(self):
        pass


_MethodType = type(_Probe().method)
_ModuleType = type(sys)
_MemberDescriptorType = type(_FunctionType.__dict__["__globals__"])
_MethodDescriptorType = type(list.clear)
_FrameType = type(sys._getframe())
try:
    raise TypeError
except TypeError:
    _TracebackType = type(sys.exc_info()[2])
_PLAIN_KEYS = (str, int, float, bool, bytes, type(None))
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement or type()


# --------------------------------------------------------------------------------------
# Edges and cycles (pure functions; tested on generated graphs)
# --------------------------------------------------------------------------------------


def _is(obj, classes):
    """isinstance without asking the object: a user's `__class__` is never read."""
    return issubclass(type(obj), classes)


def _get(klass, name, obj):
    """obj's attribute `name` through `klass`'s own descriptor: no `__getattribute__`
    of obj's type runs."""
    return klass.__dict__[name].__get__(obj, type(obj))


def _set(klass, name, obj, value):
    klass.__dict__[name].__set__(obj, value)


def _dict_descriptor(t):
    """The `__dict__` descriptor instances of `t` have, or None."""
    if issubclass(t, (type, _ModuleType)):
        return None
    for klass in t.__mro__:
        descr = klass.__dict__.get("__dict__")
        if descr is not None:
            return descr if hasattr(type(descr), "__get__") else None
    return None


def instance_dict(obj):
    """The instance `__dict__` of `obj` when it has a real one (not for classes and
    modules), read through the type's descriptor so no `__getattribute__` runs."""
    descr = _dict_descriptor(type(obj))
    if descr is None:
        return None
    try:
        d = descr.__get__(obj, type(obj))
    except Exception:
        return None
    return d if type(d) is dict else None


def slot_descriptors(t):
    """(attribute name, member descriptor) for every `__slots__` entry along the MRO."""
    out = []
    for klass in t.__mro__:
        slots = klass.__dict__.get("__slots__")
        if slots is None:
            continue
        if _is(slots, str):
            slots = (slots,)
        try:
            names = list(slots)
        except Exception:
            continue
        for name in names:
            if not isinstance(name, str) or name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = "_%s%s" % (klass.__name__.lstrip("_"), name)
            descr = klass.__dict__.get(name)
            if type(descr) is _MemberDescriptorType:
                out.append((name, descr))
    return out


def _key_text(key):
    if type(key) in _PLAIN_KEYS:
        text = repr(key)
    else:
        text = "<%s>" % type(key).__qualname__
    return text[:MAX_KEY_CHARS]


def edge_label(obj, target):
    """How `obj` refers to `target`: `.name` (attribute, slot, special attribute),
    `['key']` (dict value), `<key>` (dict key), `[i]` (list or tuple item), `{…}` (set
    member); `?` when no known way matches."""
    try:
        d = instance_dict(obj)
        if d is not None:
            if d is target:
                return ".__dict__"
            for k, v in dict.items(d):
                if v is target and _is(k, str):
                    return "." + k
        for name, descr in slot_descriptors(type(obj)):
            try:
                if descr.__get__(obj, type(obj)) is target:
                    return "." + name
            except AttributeError:
                pass
        if _is(obj, dict):
            for k, v in dict.items(obj):
                if v is target:
                    return "[%s]" % _key_text(k)
            for k in dict.keys(obj):
                if k is target:
                    return "<key>"
        elif _is(obj, (list, tuple)):
            items = list.__iter__(obj) if _is(obj, list) else tuple.__iter__(obj)
            for i, v in enumerate(items):
                if v is target:
                    return "[%d]" % i
        elif _is(obj, (set, frozenset)):
            items = set.__iter__(obj) if _is(obj, set) else frozenset.__iter__(obj)
            for v in items:
                if v is target:
                    return "{…}"
        elif _is(obj, type):
            for name in ("__mro__", "__bases__", "__base__"):
                if _get(type, name, obj) is target:
                    return "." + name
            proxy = _get(type, "__dict__", obj)
            if any(r is target for r in gc.get_referents(proxy)):
                return ".__dict__"
            for k, v in proxy.items():
                if v is target:
                    return "." + str(k)
        elif _is(obj, _ModuleType):
            md = _get(_ModuleType, "__dict__", obj)
            if md is target:
                return ".__dict__"
            for k, v in dict.items(md):
                if v is target:
                    return "." + str(k)
        for name in _SPECIAL_ATTRIBUTES.get(type(obj), ()):
            try:
                if getattr(obj, name) is target:
                    return "." + name
            except Exception:
                pass
        if _is(obj, BaseException):
            for name in ("__traceback__", "__context__", "__cause__", "args"):
                if _get(BaseException, name, obj) is target:
                    return "." + name
        if type(obj) is _FrameType:
            try:
                for k, v in obj.f_locals.items():
                    if v is target:
                        return ".f_locals[%s]" % _key_text(k)
            except Exception:
                pass
    except Exception:
        pass
    return "?"


_SPECIAL_ATTRIBUTES = {
    _CellType: ("cell_contents",),
    _FunctionType: ("__closure__", "__defaults__", "__kwdefaults__", "__globals__",
                    "__dict__", "__annotations__", "__code__"),
    _MethodType: ("__self__", "__func__"),
    _FrameType: ("f_back", "f_globals", "f_builtins"),
    _TracebackType: ("tb_frame", "tb_next"),
}


def shortest_cycle(start, members, referents=gc.get_referents, limit=None):
    """The shortest reference cycle from `start` back to itself passing only through
    `members`, as [(object, edge label leaving it)], or None when there is none (or none
    within `limit` objects visited).

    `members`: the objects the cycle may pass through, or a mapping whose keys are their
    `id()`s. Breadth first over `referents`, so no shorter cycle exists."""
    if isinstance(members, dict):
        allowed = members
    else:
        allowed = {id(o): None for o in members}
    start_id = id(start)
    parent = {start_id: None}
    objects = {start_id: start}
    queue = deque([start])
    found = None
    while queue and found is None:
        if limit is not None and len(parent) > limit:
            return None
        node = queue.popleft()
        for r in referents(node):
            rid = id(r)
            if rid == start_id:
                found = node
                break
            if rid in allowed and rid not in parent:
                parent[rid] = id(node)
                objects[rid] = r
                queue.append(r)
    if found is None:
        return None
    chain = [found]
    pid = parent[id(found)]
    while pid is not None:
        chain.append(objects[pid])
        pid = parent[pid]
    chain.reverse()  # start ... found
    steps = []
    for i, obj in enumerate(chain):
        target = chain[i + 1] if i + 1 < len(chain) else start
        steps.append((obj, edge_label(obj, target)))
    return steps


def _names(t):
    """(module, qualified name) of class `t`, read through `type`'s own descriptors."""
    try:
        qual = _get(type, "__qualname__", t)
    except Exception:
        qual = "?"
    try:
        module = _get(type, "__module__", t)
    except Exception:
        module = None
    return (module if type(module) is str else None), (qual if type(qual) is str else "?")


def type_key(t):
    """`module.QualName`, or `QualName` for built-ins."""
    module, qual = _names(t)
    if module is None or module == "builtins":
        return qual
    return "%s.%s" % (module, qual)


def _short_name(t):
    """The qualified name without the enclosing functions (`f.<locals>.`)."""
    return _names(t)[1].rpartition("<locals>.")[2]


def render_cycle(steps):
    """([{"type", "edge"}], text) for `shortest_cycle`'s steps, `X.__dict__['k']`
    written `X.k` when the dict is X's own."""
    merged = []
    i = 0
    while i < len(steps):
        obj, label = steps[i]
        if label == ".__dict__" and i + 1 < len(steps):
            nlabel = steps[i + 1][1]
            if nlabel.startswith("['") and nlabel.endswith("']") and nlabel[2:-2].isidentifier():
                merged.append((obj, "." + nlabel[2:-2]))
                i += 2
                continue
        merged.append((obj, label))
        i += 1
    cycle = [{"type": type_key(type(o)), "edge": label} for o, label in merged]
    text = " -> ".join(_short_name(type(o)) + label for o, label in merged)
    text += " -> " + _short_name(type(steps[0][0]))
    return cycle, text


# --------------------------------------------------------------------------------------
# Sizing the garbage of one collection
# --------------------------------------------------------------------------------------


def _sizeof(o):
    try:
        return sys.getsizeof(o, 0)
    except Exception:
        return 0


_CONTAINERS = (list, tuple, dict, set, frozenset, deque)


def _big_len(o):
    """How many items `o` holds when it is a built-in container (or a subclass) with
    more than BIG_CONTAINER of them, else 0. Never calls a Python `__len__`."""
    if not _is(o, _CONTAINERS):
        return 0
    for base in _CONTAINERS:
        if _is(o, base):
            n = base.__len__(o)
            if base is dict:
                n *= 2  # keys and values
            return n if n > BIG_CONTAINER else 0
    return 0


def _sample_items(o, n):
    """A stride sample of about SIZE_SAMPLE of a big container's items (keys and values
    for a dict), without copying the rest."""
    step = max(1, n // SIZE_SAMPLE)
    if _is(o, list):
        return list.__getitem__(o, slice(None, None, step))
    if _is(o, tuple):
        return list(tuple.__getitem__(o, slice(None, None, step)))
    if _is(o, dict):
        return (list(islice(dict.keys(o), 0, None, step))
                + list(islice(dict.values(o), 0, None, step)))
    base = set if _is(o, set) else frozenset if _is(o, frozenset) else deque
    return list(islice(base.__iter__(o), 0, None, step))


def _held(r, seen):
    """Bytes an untracked object holds: its size, and for an array that is a view (a
    numpy array with a `base`), the size of the array that owns the data, once by id:
    a frame's columns are views of blocks no garbage object may point at directly."""
    size = _sizeof(r)
    owner = r
    for _ in range(8):
        base = getattr(owner, "base", None) if hasattr(type(owner), "nbytes") else None
        if base is None:
            break
        owner = base
    if owner is not r and id(owner) not in seen:
        seen.add(id(owner))
        size += _sizeof(owner)
    return size


def _sampled_bytes(sample, n, seen):
    """Bytes of the untracked objects among a container's `n` items, from a sample;
    objects already counted (by id) count nothing."""
    if not sample:
        return 0
    return _new_bytes(sample, seen, False) * n // len(sample)


def _untracked_bytes(refs, seen):
    """Bytes of the untracked objects among `refs` (and one level inside untracked
    tuples and dicts), each id once per collection; sampled when there are many."""
    n = len(refs)
    if n > BIG_CONTAINER:
        return _sampled_bytes(refs[::n // SIZE_SAMPLE], n, seen)
    return _new_bytes(refs, seen, True)


def _new_bytes(items, seen, inside):
    """Bytes the untracked objects among `items` hold that `seen` has not counted yet
    (and, with `inside`, of what untracked tuples and dicts among them hold)."""
    total = 0
    for r in filterfalse(gc.is_tracked, items):
        k = id(r)
        if k in seen:
            continue
        seen.add(k)
        total += _held(r, seen)
        if inside and (type(r) is tuple or type(r) is dict):
            inner = gc.get_referents(r)
            if inner:
                total += _untracked_bytes(inner, seen)
    return total


def tracked_referents(o):
    """The gc-tracked objects `o` refers to. A big built-in container whose stride
    sample holds none is taken to hold none (a census or an analysis then sees fewer
    edges: it may miss a cycle through it, never invent one)."""
    n = _big_len(o)
    if n and not any(map(gc.is_tracked, _sample_items(o, n))):
        return []
    refs = gc.get_referents(o)
    return list(compress(refs, map(gc.is_tracked, refs)))


def _kind(t):
    """(the built-in container type `t` derives from or None, whether its `__sizeof__`
    is written in Python) for the analysis. pandas' `__sizeof__` is a deep
    `memory_usage`: a frame and each Series cached on it would count the same columns
    again, so such objects count their own size and their referents are walked."""
    sizeof = getattr(t, "__sizeof__", None)
    python_sizeof = type(sizeof).__name__ == "function"
    if issubclass(t, _CONTAINERS):
        for base in _CONTAINERS:
            if issubclass(t, base):
                return (base, python_sizeof)
    return (None, python_sizeof)


def _strongly_connected(adj, n):
    """The strongly connected component of each node of the graph `adj` (lists of node
    indices), by Tarjan's algorithm without recursion. Ids are in [0, n)."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            edges = adj[v]
            while k < len(edges):
                w = edges[k]
                k += 1
                if index[w] < 0:
                    work.append((v, k))
                    work.append((w, 0))
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        comp[w] = v
                        if w == v:
                            break
                if work:
                    u = work[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
    return comp


def _label_type(objects, indices, adj, own, scc):
    """The type that names a cycle: among its members' types, a class of the program or
    a library before a built-in one, then `type` (a class dropped with its `__mro__`),
    then the one whose objects hold the most outside the cycle (a frame holds its
    columns; the accessor that closes the cycle holds little), then by name."""
    by_type = {}
    for i in indices:
        by_type.setdefault(type(objects[i]), []).append(i)
    if len(by_type) == 1:
        return next(iter(by_type))
    cycle = scc[indices[0]]
    # An instance's own __dict__ is part of it (the cycle often runs through it).
    holders = {}
    for t, members in by_type.items():
        holders[t] = list(members)
        for i in members:
            try:
                d = instance_dict(objects[i])
            except Exception:
                d = None
            if d is not None:
                holders[t].extend(j for j in adj[i] if objects[j] is d)

    def holds(starts):
        seen = set(starts)
        stack = list(starts)
        total = 0
        while stack:
            i = stack.pop()
            total += own[i]
            for j in adj[i]:
                if j not in seen and scc[j] != cycle:
                    seen.add(j)
                    stack.append(j)
        return total

    return min(by_type, key=lambda t: (_names(t)[0] in (None, "builtins"), t is not type,
                                       -holds(holders[t]), type_key(t)))


class Analysis:
    """Components (union-find over references inside the garbage), their bytes, and the
    types in them, for one list of garbage objects. Holds the objects only while alive."""

    def __init__(self, garbage, errors):
        self.objects = garbage
        n = len(garbage)
        self.n = n
        self.index = dict(zip(map(id, garbage), range(n)))
        index_get = self.index.get
        parent = list(range(n))
        adj = [()] * n
        own = [0] * n
        seen = set()
        full = n <= FULL_ANALYSIS_OBJECTS
        get_referents = gc.get_referents
        is_tracked = gc.is_tracked

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        kinds = {}  # type: (container base or None,)
        getsizeof = sys.getsizeof
        for i in range(n):
            o = garbage[i]
            t = type(o)
            kind = kinds.get(t)
            if kind is None:
                kind = kinds[t] = _kind(t)
            try:
                size = object.__sizeof__(o) if kind[1] else getsizeof(o, 0)
            except Exception:
                size = 0
            big = 0
            if kind[0] is not None:
                big = kind[0].__len__(o) * (2 if kind[0] is dict else 1)
                if big <= BIG_CONTAINER:
                    big = 0
            if big:
                sample = _sample_items(o, big)
                size += _sampled_bytes(sample, big, seen)
                tracked = tracked_referents(o) if full else ()
                sample = None
            else:
                refs = get_referents(o)
                tracked = list(compress(refs, map(is_tracked, refs)))
                if len(tracked) < len(refs):
                    size += _untracked_bytes(refs, seen)
                refs = None
            if tracked and full:
                js = [j for j in map(index_get, map(id, tracked)) if j is not None]
                if js:
                    adj[i] = js
                    for j in js:
                        a, b = find(i), find(j)
                        if a != b:
                            parent[a] = b
            own[i] = size
        o = tracked = kinds = None

        roots = list(map(find, range(n))) if full else [0] * n
        comp_bytes = {}
        for r, size in zip(roots, own):
            comp_bytes[r] = comp_bytes.get(r, 0) + size
        self.adj = adj
        self.roots = roots
        self.comp_bytes = comp_bytes
        self.total_bytes = sum(comp_bytes.values())
        self.types = []  # (type, key, builtin, count, bytes)
        self.starts = {}  # type: indices of members to look for a cycle from
        if full:
            self._by_cycle(garbage, adj, own)
        else:
            self._by_type(garbage, roots, comp_bytes)
        self.types.sort(key=lambda e: (-e[4], e[2], -e[3], e[1]))

    def _by_cycle(self, garbage, adj, own):
        """Each type's bytes are those its cycles kept alive. The cycles are the strongly
        connected components of the garbage; those no other one refers to are what the
        program dropped (the roots), and everything reachable from a root is what it
        held. A root is named by its type (a class of the program's or a library's
        before a built-in one, the most numerous first), and counts once: the types'
        bytes add up to the total, and the type that held the memory comes first, not
        every type its data is made of."""
        n = len(garbage)
        scc = _strongly_connected(adj, n)
        referred = [False] * n  # by scc id: another component refers to it
        members = {}
        for i in range(n):
            c = scc[i]
            members.setdefault(c, []).append(i)
            for j in adj[i]:
                if scc[j] != c:
                    referred[scc[j]] = True
        owner = [-1] * n
        labels = {}
        roots = [c for c in members if not referred[c]]
        # The biggest first: what two roots share is counted with the bigger one.
        roots.sort(key=lambda c: -len(members[c]))
        held = {}
        for c in roots:
            total = 0
            stack = list(members[c])
            for i in stack:
                owner[i] = c
            while stack:
                i = stack.pop()
                total += own[i]
                for j in adj[i]:
                    if owner[j] < 0:
                        owner[j] = c
                        stack.append(j)
            held[c] = total
            labels[c] = _label_type(garbage, members[c], adj, own, scc)
        by_type = {}
        for c in roots:
            t = labels[c]
            entry = by_type.get(t)
            if entry is None:
                entry = by_type[t] = [0, 0, c]
            entry[0] += sum(1 for i in members[c] if type(garbage[i]) is t)
            entry[1] += held[c]
            if held[c] > held[entry[2]]:
                entry[2] = c
        for t, (count, total, biggest) in by_type.items():
            key = type_key(t)
            builtin = _names(t)[0] in (None, "builtins")
            self.types.append((t, key, builtin, count, total))
            starts = [i for i in members[biggest] if type(garbage[i]) is t]
            self.starts[t] = starts[:CYCLE_STARTS]

    def _by_type(self, garbage, roots, comp_bytes):
        """Too much garbage to walk its references: each type with the bytes of the
        components (here: all of it) that hold one."""
        by_type = {}
        for i, t in enumerate(map(type, garbage)):
            entry = by_type.get(t)
            if entry is None:
                entry = by_type[t] = [0, {}]
            entry[0] += 1
            first = entry[1].get(roots[i])
            if first is None:
                entry[1][roots[i]] = [i]
            elif len(first) < CYCLE_STARTS:
                first.append(i)
        for t, (count, comps) in by_type.items():
            key = type_key(t)
            builtin = _names(t)[0] in (None, "builtins")
            total = sum(comp_bytes[r] for r in comps)
            self.types.append((t, key, builtin, count, total))
            largest = max(comps, key=lambda r: (comp_bytes[r], len(comps[r])))
            self.starts[t] = comps[largest]

    def _referents(self, o):
        objects = self.objects
        return [objects[j] for j in self.adj[self.index[id(o)]]]

    def cycle_for(self, t):
        """The shortest cycle through a `t` object of the largest component holding one
        (up to CYCLE_STARTS of them tried), as shortest_cycle's steps, or None."""
        best = None
        for i in self.starts.get(t, ()):
            steps = shortest_cycle(self.objects[i], self.index, self._referents,
                                   limit=CYCLE_SEARCH_OBJECTS)
            if steps is not None and (best is None or len(steps) < len(best)):
                best = steps
                if len(best) == 1:
                    break
        return best


def _note(errors, text):
    if len(errors) < MAX_ERRORS and text not in errors:
        errors.append(text[:300])


# --------------------------------------------------------------------------------------
# Releasing what DEBUG_SAVEALL kept
# --------------------------------------------------------------------------------------


def _c_clear_method(t):
    """The first C-implemented `clear` along t's MRO (never a Python override)."""
    for klass in t.__mro__:
        method = klass.__dict__.get("clear")
        if type(method) is _MethodDescriptorType:
            return method
    return None


_EXCEPTION = object()
_CLASS = object()


class _Plan(object):
    """How to clear the objects of one type (computed once per type per collection)."""

    __slots__ = ("clear", "dict_descr", "slots", "kind")

    def __init__(self, t):
        self.clear = _c_clear_method(t) if issubclass(t, (dict, list, set, deque)) else None
        self.dict_descr = _dict_descriptor(t)
        self.slots = slot_descriptors(t)
        if issubclass(t, BaseException):
            self.kind = _EXCEPTION
        elif issubclass(t, type):
            self.kind = _CLASS
        else:
            self.kind = t  # compared (by identity) with the special types below


def clear_object(o, plans=None):
    """Drops the references `o` holds that Python lets us drop: what the collector's
    tp_clear would have done to an object it found unreachable. `plans` caches the
    per-type work."""
    t = type(o)
    plan = plans.get(t) if plans is not None else None
    if plan is None:
        plan = _Plan(t)
        if plans is not None:
            plans[t] = plan
    if plan.clear is not None:
        plan.clear(o)
    kind = plan.kind
    if kind is _CellType:
        try:
            del o.cell_contents
        except ValueError:
            pass
    elif kind is _FunctionType:
        o.__defaults__ = None
        o.__kwdefaults__ = None
    elif kind is _FrameType:
        try:
            o.clear()
        except RuntimeError:
            pass
    elif kind is _TracebackType:
        o.tb_next = None
    elif kind is _EXCEPTION:
        for name in ("__traceback__", "__context__", "__cause__"):
            _set(BaseException, name, o, None)
        _set(BaseException, "args", o, ())
    elif kind is _CLASS:
        # A class stays in a cycle with its __mro__; empty what it holds.
        if not (_get(type, "__flags__", o) & _HEAPTYPE):
            return
        for name in list(_get(type, "__dict__", o)):
            if name in ("__dict__", "__weakref__", "__module__", "__qualname__"):
                continue
            try:
                type.__delattr__(o, name)
            except Exception:
                pass
        return
    if plan.dict_descr is not None:
        try:
            d = plan.dict_descr.__get__(o, t)
        except Exception:
            d = None
        if type(d) is dict:
            dict.clear(d)
    for _name, descr in plan.slots:
        try:
            descr.__delete__(o)
        except AttributeError:
            pass


# Types that cannot be weakly referenced but cannot outlive a release either: emptied by
# it, or holding nothing but what is emptied (a tuple's items go with it).
_SURELY_EMPTIED = frozenset([dict, list, set, frozenset, deque, tuple, _CellType])


def release(objects, errors, opaque):
    """Clears every object of `objects` (a list, emptied here) and drops them; returns
    the weak-referenceable ones still alive after that (held in cycles that could not be
    cleared: a class and its __mro__, a C object's own fields). Those that can be neither
    weakly referenced nor surely emptied (a `defaultdict`'s factory, a C extension's
    object) go into `opaque` by id, with their type: if one is found in a later
    collection's garbage, it outlived its release."""
    plans = {}
    for o in objects:
        try:
            clear_object(o, plans)
        except Exception as e:
            _note(errors, "release: %s: %s" % (type(e).__name__, e))
    o = plans = None
    refs = []
    suspects = []
    for o in objects:
        try:
            refs.append(_weakref(o))
        except TypeError:
            if type(o) not in _SURELY_EMPTIED:
                suspects.append(o)
    o = None
    del objects[:]
    # Held by anything but `suspects`, `o` and getrefcount's argument: it outlives the
    # release (an id kept only for those, so a new object that reuses a freed one's id
    # is not taken for it).
    getrefcount = sys.getrefcount
    for o in suspects:
        if getrefcount(o) > 3:
            opaque[id(o)] = type(o)
    o = None
    del suspects[:]
    return [o for o in map(_call, refs) if o is not None]


def _call(f):
    return f()


def retained_bytes(objects, members, limit=10000):
    """Bytes held by `objects` through what they refer to among `members` (ids), and the
    untracked objects those refer to: what letting them live a while longer costs."""
    seen = set(map(id, objects))
    stack = list(objects)
    total = 0
    while stack and len(seen) < limit:
        o = stack.pop()
        total += _sizeof(o)
        for r in gc.get_referents(o):
            k = id(r)
            if k in seen:
                continue
            if not gc.is_tracked(r):
                seen.add(k)
                total += _sizeof(r)
            elif k in members:
                seen.add(k)
                stack.append(r)
    return total


# --------------------------------------------------------------------------------------
# The census at exit: cyclic garbage the collector has not collected yet
# --------------------------------------------------------------------------------------


def _big_ids(objects):
    """The ids of the big containers among `objects` (see _big_len), found with as
    little Python-level work per object as possible."""
    types = set(map(type, objects))
    exact = types.intersection(_CONTAINERS)
    derived = [t for t in types - exact if issubclass(t, _CONTAINERS)]
    out = set()
    if exact:
        cands = list(compress(objects, map(exact.__contains__, map(type, objects))))
        # Over half the limit: a dict counts its keys and values (see _big_len).
        out.update(map(id, compress(cands, map(gt, map(len, cands), repeat(BIG_CONTAINER // 2)))))
    if derived:
        derived = set(derived)
        for o in compress(objects, map(derived.__contains__, map(type, objects))):
            if _big_len(o):
                out.add(id(o))
    return out


def _referents_counted(objects, sink, bigs):
    """Feeds `sink` the ids of the tracked objects that `objects` refer to: a chunk at a
    time, but the big containers (ids in `bigs`) one by one (see tracked_referents)."""
    is_tracked = gc.is_tracked
    get_referents = gc.get_referents
    big = ()
    small = objects
    if bigs:
        flags = list(map(bigs.__contains__, map(id, objects)))
        big = list(compress(objects, flags))
        small = list(compress(objects, map(not_, flags)))
        flags = None
    for k in range(0, len(small), CENSUS_CHUNK):
        sink(map(id, filter(is_tracked, get_referents(*small[k:k + CENSUS_CHUNK]))))
    small = None
    for o in big:
        sink(map(id, tracked_referents(o)))


def find_unreachable(limit=CENSUS_OBJECTS, deadline=None):
    """The tracked objects that only the cyclic collector could free now, found the way
    the collector does (references from outside the tracked set are roots) but without
    collecting: nothing is freed, finalized or moved. None above `limit` objects, or
    when the first pass ends past `deadline` (perf_counter seconds; the second costs
    about as much)."""
    objs = gc.get_objects()
    n = len(objs)
    if n > limit:
        return None
    objs.append([])  # a probe held by this list only: the baseline refcount
    counts = list(map(sys.getrefcount, objs))
    base = counts.pop()
    objs.pop()
    ids = list(map(id, objs))
    bigs = _big_ids(objs)
    inside = {}
    _referents_counted(objs, lambda it: _count_elements(inside, it), bigs)
    if deadline is not None and time.perf_counter() > deadline:
        return None
    outside = map(sub, map(sub, counts, repeat(base)), map(inside.get, ids, repeat(0)))
    by_id = dict(zip(ids, objs))
    reached = set(compress(ids, map(gt, outside, repeat(0))))
    del counts, inside, outside
    frontier = list(map(by_id.__getitem__, reached))
    contains = by_id.__contains__
    while frontier:
        new = set()
        _referents_counted(frontier, lambda it: new.update(filter(contains, it)), bigs)
        new -= reached
        reached |= new
        frontier = list(map(by_id.__getitem__, new))
    unreachable = list(map(by_id.__getitem__, filterfalse(reached.__contains__, ids)))
    # Only `unreachable` may hold them now (refcounts are read next).
    del objs, by_id, contains, ids, reached, frontier, new
    return confirm_garbage(unreachable)


def confirm_garbage(objects):
    """The members of `objects` (a list, the only other holder of them) that are cyclic
    garbage: not referenced from outside the list, and on a reference cycle or reachable
    from one. The rest changed while the census ran, or only the census kept them alive.
    """
    n = len(objects)
    if not n:
        return objects
    index = dict(zip(map(id, objects), range(n)))
    objects.append([])  # the probe again: held by this list only
    outside = list(map(sys.getrefcount, objects))
    base = outside.pop()
    objects.pop()
    outside = [c - base for c in outside]
    adj = []
    index_get = index.get
    for o in objects:
        js = [j for j in map(index_get, map(id, tracked_referents(o))) if j is not None]
        adj.append(js)
        for j in js:
            outside[j] -= 1
    o = None
    # Referenced from outside: alive, and so is what it reaches.
    alive = [c > 0 for c in outside]
    stack = [i for i in range(n) if alive[i]]
    while stack:
        for j in adj[stack.pop()]:
            if not alive[j]:
                alive[j] = True
                stack.append(j)
    # No cycle above it: refcounting alone would free it; peel such objects off.
    indegree = [0] * n
    for i in range(n):
        if not alive[i]:
            for j in adj[i]:
                indegree[j] += 1
    gone = list(alive)
    stack = [i for i in range(n) if not gone[i] and indegree[i] == 0]
    while stack:
        i = stack.pop()
        gone[i] = True
        for j in adj[i]:
            indegree[j] -= 1
            if indegree[j] == 0 and not gone[j]:
                stack.append(j)
    kept = list(compress(objects, map(not_, gone)))
    del objects[:]
    return kept


# --------------------------------------------------------------------------------------
# Allocation sites from a tracemalloc snapshot
# --------------------------------------------------------------------------------------


def _by_traceback(traces, weight, out):
    """Adds to `out` {traceback: [bytes, blocks]} for `traces`, sorted in place: under
    tracemalloc every object this allocates is traced (slow), so no per-trace objects."""
    key = itemgetter(2)
    size = itemgetter(1)
    traces.sort(key=key)
    for tb, group in groupby(traces, key):
        sizes = list(map(size, group))
        e = out.get(tb)
        if e is None:
            out[tb] = [sum(sizes) * weight, len(sizes) * weight]
        else:
            e[0] += sum(sizes) * weight
            e[1] += len(sizes) * weight


def summarise_traces(raw, excluded, relative=lambda f: f, limit=MAX_SITES):
    """The top `limit` lines by bytes alive, from raw tracemalloc traces (domain, size,
    frames most recent first, ...; the list is reordered), skipping the tracebacks
    `excluded(frames)` says. Each with the biggest traceback ending at it. Above
    TRACE_SAMPLE traces, blocks under BIG_TRACE bytes are a stride sample scaled up."""
    import linecache

    n = len(raw)
    by_tb = {}
    if n > TRACE_SAMPLE:
        step = -(-n // TRACE_SAMPLE)
        sizes = list(map(itemgetter(1), raw))
        big = list(compress(raw, map(ge, sizes, repeat(BIG_TRACE))))
        sizes = None
        _by_traceback(big, 1, by_tb)
        big = None
        small = raw[::step]
        small = list(compress(small, map(lt, map(itemgetter(1), small), repeat(BIG_TRACE))))
        _by_traceback(small, step, by_tb)
        small = None
    else:
        _by_traceback(raw, 1, by_tb)
    by_line = {}
    for tb, (size, count) in by_tb.items():
        if not tb or excluded(tb):
            continue
        frame = tb[0]
        e = by_line.get(frame)
        if e is None:
            by_line[frame] = [size, count, size, tb]
        else:
            e[0] += size
            e[1] += count
            if size > e[2]:
                e[2] = size
                e[3] = tb
    top = sorted(by_line.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    out = []
    cached = set(linecache.cache)
    for (name, line), (size, count, _, tb) in top:
        try:
            code = linecache.getline(name, line).strip()[:MAX_CODE_CHARS]
        except Exception:
            code = ""
        out.append({
            "file": relative(name), "line": line, "bytes": int(size), "count": int(count),
            "code": code,
            "traceback": [{"file": relative(f), "line": ln}
                          for f, ln in reversed(tb[:TRACEBACK_FRAMES])],
        })
    for name in set(linecache.cache) - cached:  # the program's cache as it was
        linecache.cache.pop(name, None)
    return out


# --------------------------------------------------------------------------------------
# JSON, written by hand (the json module is not imported: see the imports)
# --------------------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_str(text):
    out = ['"']
    for ch in text:
        code = ord(ch)
        if 0x20 <= code < 0x7F and ch != '"' and ch != "\\":
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate (undecodable bytes): not JSON
            out.append("\\ufffd")
        elif code > 0xFFFF:
            code -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 | (code >> 10), 0xDC00 | (code & 0x3FF)))
        else:
            out.append("\\u%04x" % code)
    out.append('"')
    return "".join(out)


def to_json(value):
    """`value` (dicts with str keys, lists, str, int, float, bool, None) as ASCII JSON."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    t = type(value)
    if t is int:
        return str(value)
    if t is float:
        return repr(value) if value == value and abs(value) != float("inf") else "0.0"
    if t is str:
        return _json_str(value)
    if t is dict:
        return "{" + ",".join(_json_str(str(k)) + ":" + to_json(v) for k, v in value.items()) + "}"
    if t is list or t is tuple:
        return "[" + ",".join(map(to_json, value)) + "]"
    return _json_str(str(value))


# --------------------------------------------------------------------------------------
# The helper's state, hooks and report
# --------------------------------------------------------------------------------------


def _move(callbacks, cb, where):
    """Puts `cb` first (where=0) or last (-1) in `callbacks` unless it is there or gone."""
    if callbacks and callbacks[where] is not cb:
        for i, c in enumerate(callbacks):
            if c is cb:
                del callbacks[i]
                if where == 0:
                    callbacks.insert(0, cb)
                else:
                    callbacks.append(cb)
                return


def _flags_are_ours(flags, program_flags):
    """Whether the collector's debug flags are the program's plus our DEBUG_SAVEALL (a
    program that changed them during the collection keeps its own)."""
    return flags == program_flags | SAVEALL and not program_flags & SAVEALL


class _TypeStat(object):
    __slots__ = ("count", "bytes", "builtin", "cycle", "text", "length", "tries")

    def __init__(self, builtin):
        self.count = 0
        self.bytes = 0
        self.builtin = builtin
        self.cycle = None
        self.text = None
        self.length = 0
        self.tries = 0


def _sort_key(item):
    key, s = item
    return (-s.bytes, s.builtin, -s.count, key)


class _Diag(object):
    def __init__(self, environ):
        self.dir = environ["MEMGATE_DIAG_DIR"]
        self.sites_on = environ.get("MEMGATE_DIAG_SITES", "0") == "1"
        try:
            frames = int(environ.get("MEMGATE_DIAG_FRAMES", "5"))
        except ValueError:
            frames = 5
        self.frames = max(1, min(frames, 100))
        self.cwd = os.getcwd()
        here = os.path.dirname(os.path.abspath(__file__))
        self.own_files = {
            os.path.join(here, "memgate_diag.py"), os.path.join(here, "sitecustomize.py"),
            __file__,
        }
        self.garbage = gc.garbage
        self.lock = _thread.allocate_lock()  # guards merging into the totals, and writing
        self.final_done = False
        # A forked child shares its parent's pages: the census at exit would write into
        # every object's header and copy them all.
        self.forked = False
        self.own_tracing = False  # tracemalloc started by us, not by PYTHONTRACEMALLOC
        self._thread = None  # (stop lock, done lock) of the polling thread
        self.poller_ident = None
        self.first_cb = self.last_cb = None
        self._reset()

    def _reset(self):
        """Counters for a new process (at start and in a forked child)."""
        self.pid = os.getpid()
        self.ppid = os.getppid()
        self.t0 = time.perf_counter()
        self.report_path = os.path.join(self.dir, "py-%d.json" % self.pid)
        self.limit_flag = os.path.join(self.dir, "limit")
        self.stats0 = [(s.get("collections", 0), s.get("collected", 0),
                        s.get("uncollectable", 0)) for s in gc.get_stats()]
        self.gc_time = 0.0
        self.analysis_time = 0.0
        self.analysed = 0
        self.not_analysed = 0
        self.released_late = 0
        self.skip_gen = None
        self.graveyard = []
        # id -> type of released objects that may have outlived their release.
        self.opaque = {}
        self.c_mode = None
        self.c_own = False
        self.own_stats = [[0, 0, 0] for _ in range(3)]
        self.helper_threads = set()
        self.c_t0 = 0.0
        self.c_flags = 0
        self.c_n0 = 0
        self.objects = 0
        self.bytes = 0
        self.types = {}
        self.pending = deque()
        self.errors = []
        self.changes = 1  # the report's version, compared with the one written
        self.written = 0
        self.last_write = self.t0
        self.limit_done = False
        self.final_done = False
        self.interrupt = False  # a Ctrl-C to hand on to the main thread
        self.sites = None
        self.kept = 0
        self.peak = 0
        self.recent = deque(maxlen=PLATEAU_POLLS)
        self.next_snapshot = 0.0
        self.next_plateau_snapshot = 0.0

    # ---- installing ------------------------------------------------------------------

    def install(self):
        if self.sites_on:
            import tracemalloc

            if not tracemalloc.is_tracing():
                tracemalloc.start(self.frames)
                self.own_tracing = True
            self.own_files.add(tracemalloc.__file__)
        self.first_cb = self._gc_first  # bound once: compared by identity
        self.last_cb = self._gc_last
        gc.callbacks.insert(0, self.first_cb)
        gc.callbacks.append(self.last_cb)
        import atexit

        atexit.register(self._at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(before=self._before_fork,
                                after_in_parent=self._after_fork_parent,
                                after_in_child=self._after_fork_child)
        self._wrap_os_exit()
        self._start_thread()

    def _wrap_os_exit(self):
        real = os._exit
        diag = self

        def _exit(status):
            try:
                diag.final("exit")
            except BaseException:
                pass
            real(status)

        _exit.__name__ = getattr(real, "__name__", "_exit")
        _exit.__qualname__ = _exit.__name__
        _exit.__doc__ = getattr(real, "__doc__", None)
        _exit.__wrapped__ = real
        os._exit = _exit

    def error(self, where, e):
        _note(self.errors, "%s: %s: %s" % (where, type(e).__name__, e))
        self.changes += 1

    # ---- the collector's callback ----------------------------------------------------

    # Two callbacks: the first in gc.callbacks handles "stop" (flags restored, garbage
    # taken and released before any other callback looks), the last handles "start"
    # (DEBUG_SAVEALL set after every other callback has looked). Each puts the other
    # back in its place if the program added callbacks since.

    def _gc_first(self, phase, info):
        if phase != "stop":
            try:
                _move(gc.callbacks, self.last_cb, -1)
            except Exception as e:
                self.error("gc start", e)
            return
        try:
            self._on_stop(info)
        except KeyboardInterrupt:
            self._interrupted()
        except Exception as e:
            self._restore_flags()
            self.error("gc stop", e)

    def _gc_last(self, phase, info):
        if phase != "start":
            return
        try:
            self._on_start(info)
            _move(gc.callbacks, self.first_cb, 0)
        except KeyboardInterrupt:
            self._interrupted()
        except Exception as e:
            self.c_mode = None
            self._restore_flags()
            self.error("gc start", e)

    def _interrupted(self):
        """Ctrl-C landed in our code, where the collector would only print it: the flags
        back, and the interrupt handed on to the program by the polling thread (raised
        here, it would land in our code again)."""
        self._restore_flags()
        self.interrupt = True
        if self._thread is None:
            try:
                _thread.interrupt_main()
            except Exception:
                pass

    def _restore_flags(self):
        try:
            if _flags_are_ours(gc.get_debug(), self.c_flags):
                gc.set_debug(self.c_flags)
        except Exception:
            pass

    def _on_start(self, info):
        now = time.perf_counter()
        self.c_t0 = now
        # A collection that starts in the helper's own work (its thread, the census,
        # the last report) is not the program's: left out of the statistics.
        self.c_own = _thread.get_ident() in self.helper_threads
        flags = gc.get_debug()
        self.c_flags = flags
        self.c_n0 = len(self.garbage)
        if flags & SAVEALL:
            self.c_mode = _USER
            return
        gen = info.get("generation", 2)
        if self.skip_gen is not None and gen >= self.skip_gen:
            self.skip_gen = None
            self.c_mode = _SKIP
            return
        if self.analysis_time > BUDGET_S + BUDGET_SHARE * (now - self.t0):
            self.c_mode = _SKIP
            return
        self.c_mode = _OURS
        gc.set_debug(flags | SAVEALL)

    def _on_stop(self, info):
        if _flags_are_ours(gc.get_debug(), self.c_flags):
            gc.set_debug(self.c_flags)  # first, whatever happens next
        mode = self.c_mode
        self.c_mode = None
        now = time.perf_counter()
        if mode is None:
            return
        own = self.c_own
        if own:
            g = min(max(int(info.get("generation", 2)), 0), 2)
            self.own_stats[g][0] += 1
            self.own_stats[g][1] += int(info.get("collected", 0))
            self.own_stats[g][2] += int(info.get("uncollectable", 0))
            self.analysis_time += now - self.c_t0
        else:
            self.gc_time += now - self.c_t0
        self.changes += 1
        if mode == _SKIP:
            if not own:
                self.not_analysed += 1
            return
        if not own:
            self.analysed += 1
        garbage = self.garbage
        n0 = self.c_n0
        new = len(garbage) - n0
        if new <= 0:
            return
        # The collector appends what it found unreachable ("collected"), then the
        # uncollectable objects; those stay in gc.garbage as they would without us.
        m = min(max(int(info.get("collected", new)), 0), new)
        if m == 0:
            return
        objects = garbage[n0:n0 + m]
        if mode == _OURS:
            del garbage[n0:n0 + m]
        generation = int(info.get("generation", 2))
        opaque = self.opaque
        if opaque and mode == _OURS and any(opaque.get(id(o)) is type(o) for o in objects):
            # Something an earlier release could not free is back: not counted again,
            # not saved again. The next collection of its generation frees it all.
            back = [o for o in objects if opaque.pop(id(o), None) is type(o)]
            self.released_late += len(back)
            back = None
            if not own:
                self.analysed -= 1
                self.not_analysed += 1
            self.skip_gen = min(generation + 1, 2)
            del objects[:]
            self.analysis_time += time.perf_counter() - now
            return
        try:
            self._analyse(objects, now)
        except Exception as e:
            self.error("analysis", e)
        if mode == _OURS:
            members = set(map(id, objects))
            if len(opaque) > OPAQUE_IDS:
                opaque.clear()
                self.skip_gen = 2
            late = release(objects, self.errors, opaque)
            if late:
                self._left_over(late, members, generation)
            late = None
        del objects[:]
        self.analysis_time += time.perf_counter() - now

    def _left_over(self, late, members, generation):
        """What the release could not free. The next collection of the generation it
        moved to runs without DEBUG_SAVEALL so the collector frees it (else it would be
        found, saved and analysed again at every collection). Small leftovers (classes,
        above all: one is always in a cycle with its __mro__) wait in `graveyard` instead,
        out of the collector's sight, so that every such class does not cost the
        analysis of a collection; it is emptied once big, then a full collection runs
        without DEBUG_SAVEALL."""
        self.released_late += len(late)
        if retained_bytes(late, members) >= LEFTOVER_BYTES:
            self.skip_gen = min(generation + 1, 2)
            return
        self.graveyard.extend(late)
        if len(self.graveyard) >= GRAVEYARD_OBJECTS:
            del self.graveyard[:]
            self.skip_gen = 2

    # ---- analysis and merging --------------------------------------------------------

    def _analyse(self, objects, now=None):
        a = Analysis(objects, self.errors)
        try:
            present = {key for _, key, _, _, _ in a.types}
            wanted = [e for e in a.types[:CYCLE_TYPES]]
            for key, _s in self._top_types(CYCLE_TYPES):
                if key in present and all(e[1] != key for e in wanted):
                    wanted.extend(e for e in a.types if e[1] == key)
            delta = {}
            for t, key, builtin, count, size in a.types:
                delta[key] = [count, size, builtin, None, None, 0]
            for t, key, _b, _c, _s in wanted:
                if not self._wants_cycle(key):
                    continue
                try:
                    steps = a.cycle_for(t)
                    if steps is not None:
                        cycle, text = render_cycle(steps)
                        delta[key][3:6] = [cycle, text, len(steps)]
                    steps = None
                except Exception as e:
                    self.error("cycle", e)
                self._tried(key)
            self._merge((a.n, a.total_bytes, delta))
        finally:
            a.objects = a.index = None

    def _top_types(self, k):
        try:
            items = list(self.types.items())
        except RuntimeError:
            return []
        items.sort(key=_sort_key)
        return items[:k]

    def _wants_cycle(self, key):
        s = self.types.get(key)
        if s is None or s.cycle is None:
            return s is None or s.tries < 8
        return s.length > 2 and s.tries < 3

    def _tried(self, key):
        s = self.types.get(key)
        if s is not None:
            s.tries += 1

    def _merge(self, result):
        self.pending.append(result)
        if self.lock.acquire(False):
            try:
                self._drain()
            finally:
                self.lock.release()

    def _drain(self):
        """Folds pending per-collection results into the totals (lock held)."""
        while self.pending:
            objects, size, delta = self.pending.popleft()
            self.objects += objects
            self.bytes += size
            for key, (count, tbytes, builtin, cycle, text, length) in delta.items():
                s = self.types.get(key)
                if s is None:
                    s = self.types[key] = _TypeStat(builtin)
                s.count += count
                s.bytes += tbytes
                if cycle is not None and (s.cycle is None or length < s.length):
                    s.cycle, s.text, s.length = cycle, text, length
            if len(self.types) > 4 * MAX_TYPES + 1000:
                keep = sorted(self.types.items(), key=_sort_key)[:2 * MAX_TYPES + 500]
                self.types = dict(keep)
        self.changes += 1

    # ---- allocation sites ------------------------------------------------------------

    def _relative(self, name):
        cwd = self.cwd
        if name.startswith(cwd + os.sep):
            return name[len(cwd) + 1:]
        return name

    def _excluded(self, tb):
        """The helper's own allocations (its file anywhere in the traceback), and the
        import system's and tracemalloc's (innermost frame)."""
        name = tb[0][0]
        if name.startswith("<frozen importlib._bootstrap") or name in self.own_files:
            return True
        own = self.own_files
        return any(f[0] in own for f in tb)

    def _snapshot(self):
        import tracemalloc

        if not tracemalloc.is_tracing():
            return
        began = time.perf_counter()
        cur, peak = tracemalloc.get_traced_memory()
        self.peak = max(self.peak, peak)
        snap = tracemalloc.take_snapshot()
        raw = getattr(getattr(snap, "traces", None), "_traces", None)
        if not isinstance(raw, list):
            raw = [(0, t.size, tuple((f.filename, f.lineno) for f in reversed(t.traceback)))
                   for t in snap.traces]
        snap = None
        top = summarise_traces(raw, self._excluded, self._relative)
        raw = None
        if hasattr(tracemalloc, "reset_peak"):  # 3.9+: the peak without our own work
            tracemalloc.reset_peak()
        ended = time.perf_counter()
        self.kept = cur
        self.sites = {"peak_traced": int(self.peak), "snapshot_traced": int(cur),
                      "at_s": round(began - self.t0, 3), "top": top}
        # The next one waits twice as long as this one took (at most a third of the time
        # on snapshots), or as long on a plateau (at most half).
        self.next_snapshot = ended + 2 * (ended - began)
        self.next_plateau_snapshot = ended + (ended - began)
        self.changes += 1

    def _poll_sites(self):
        import tracemalloc

        if not tracemalloc.is_tracing():
            return
        cur, peak = tracemalloc.get_traced_memory()
        if peak > self.peak:
            self.peak = peak
            if self.sites is not None:
                self.sites["peak_traced"] = int(peak)
        recent = self.recent
        recent.append(cur)
        if cur < max(self.kept * SNAPSHOT_GROWTH, self.kept + SNAPSHOT_STEP):
            return
        # While memory grows, snapshots wait (see _snapshot); once it holds still (a
        # plateau, often the peak itself) they wait less.
        now = time.perf_counter()
        plateau = (len(recent) == recent.maxlen
                   and max(recent) - min(recent) <= max(PLATEAU_BYTES, cur // 1000))
        if now >= (self.next_plateau_snapshot if plateau else self.next_snapshot):
            self._snapshot()

    # ---- the polling thread ----------------------------------------------------------

    # A bare `_thread` thread ("memgate-diag" in the docs): not in threading.enumerate()
    # or threading.active_count(), which a program may check, and no `threading` import.

    def _start_thread(self):
        stop = _thread.allocate_lock()
        done = _thread.allocate_lock()
        stop.acquire()  # released to stop the thread
        done.acquire()  # released by the thread when it ends
        self._thread = (stop, done)
        _thread.start_new_thread(self._run, (stop, done))

    def _stop_thread(self, timeout):
        poller = self._thread
        if poller is None:
            return
        self._thread = None
        stop, done = poller
        stop.release()
        if _thread.get_ident() != self.poller_ident and done.acquire(True, timeout):
            done.release()

    def _run(self, stop, done):
        ident = _thread.get_ident()
        self.poller_ident = ident
        self.helper_threads.add(ident)
        try:
            while not stop.acquire(True, POLL_S):
                try:
                    self._poll()
                except Exception as e:
                    self.error("poll", e)
        except BaseException:
            pass
        finally:
            self.helper_threads.discard(ident)
            done.release()

    def _poll(self):
        if self.interrupt:
            self.interrupt = False
            _thread.interrupt_main()
        if self.sites_on:
            try:
                self._poll_sites()
            except Exception as e:
                self.error("sites", e)
        if not self.limit_done and os.path.exists(self.limit_flag):
            self.limit_done = True
            if self.sites_on:
                try:
                    self._snapshot()
                except Exception as e:
                    self.error("sites at limit", e)
            self.write("limit")
        now = time.perf_counter()
        # The first report at once (a process killed or ended by os._exit early still
        # leaves one), then every WRITE_EVERY_S when something changed.
        if self.written == 0 or now - self.last_write >= WRITE_EVERY_S:
            self.last_write = now
            if self.changes != self.written:
                self.write("running")

    # ---- exit and fork ---------------------------------------------------------------

    def _at_exit(self):
        try:
            self.final("exit")
        finally:
            for cb in (self.first_cb, self.last_cb):
                try:
                    gc.callbacks.remove(cb)
                except ValueError:
                    pass

    def final(self, event):
        if self.final_done:
            return
        self.final_done = True
        self._stop_thread(1.0)
        self.helper_threads.add(_thread.get_ident())
        if self.sites_on:
            try:
                import tracemalloc

                if tracemalloc.is_tracing():
                    peak = tracemalloc.get_traced_memory()[1]
                    self.peak = max(self.peak, peak)
                    if self.sites is None:
                        self._snapshot()
                    self.sites["peak_traced"] = int(self.peak)
                    if self.own_tracing and event == "exit" and not self.forked:
                        # Our atexit handler runs last: nothing needs tracing now, and
                        # the census runs many times faster without it.
                        tracemalloc.stop()
            except Exception as e:
                self.error("sites at exit", e)
        if not self.forked:
            self._census()
        self.write(event)

    def _census(self):
        """Sizes the cyclic garbage still uncollected (read only, within the budget)."""
        began = time.perf_counter()
        left = BUDGET_S + BUDGET_SHARE * (began - self.t0) - self.analysis_time
        if left <= 0:
            _note(self.errors, "census at exit skipped: analysis budget spent")
            return
        objects = None
        try:
            objects = find_unreachable(deadline=began + left / 2)
            if objects is None:
                _note(self.errors, "census at exit skipped: too many tracked objects for "
                      "the analysis budget")
            elif objects:
                self._analyse(objects)
        except Exception as e:
            self.error("census", e)
        finally:
            if objects is not None:
                del objects[:]
            self.analysis_time += time.perf_counter() - began

    def _before_fork(self):
        try:
            # No thread of ours at fork: Python 3.12+ warns about forking a process
            # with threads.
            self._stop_thread(1.0)
        except Exception as e:
            self.error("fork", e)

    def _after_fork_parent(self):
        try:
            if not self.final_done:
                self._start_thread()
        except Exception as e:
            self.error("fork", e)

    def _after_fork_child(self):
        try:
            self.lock = _thread.allocate_lock()
            self._thread = None
            self.forked = True
            self._reset()
            if self.sites_on:
                import tracemalloc

                if hasattr(tracemalloc, "reset_peak"):
                    tracemalloc.reset_peak()
            self._start_thread()
        except Exception as e:
            self.error("fork", e)

    # ---- the report ------------------------------------------------------------------

    def report(self, event):
        stats = gc.get_stats()
        collections = []
        collected = []
        uncollectable = 0
        for s, (c0, k0, u0), (c1, k1, u1) in zip(stats, self.stats0, self.own_stats):
            collections.append(max(0, s.get("collections", 0) - c0 - c1))
            collected.append(max(0, s.get("collected", 0) - k0 - k1))
            uncollectable += max(0, s.get("uncollectable", 0) - u0 - u1)
        while len(collections) < 3:
            collections.append(0)
            collected.append(0)
        types = []
        for key, s in self._top_types(MAX_TYPES):
            types.append({"type": key, "count": s.count, "bytes": int(s.bytes),
                          "cycle": s.cycle, "cycle_text": s.text})
        argv = [str(a)[:MAX_ARG_CHARS] for a in list(sys.argv or [])[:MAX_ARGV]]
        sites = None
        if self.sites_on:
            sites = dict(self.sites) if self.sites is not None else {
                "peak_traced": int(self.peak), "snapshot_traced": 0, "at_s": 0.0, "top": []}
        return {
            "memgate_diag": FORMAT, "pid": self.pid, "ppid": self.ppid, "argv": argv,
            "python": sys.version.split()[0], "event": event,
            "wall_s": round(time.perf_counter() - self.t0, 6),
            "gc": {"collections": collections[:3], "collected": collected[:3],
                   "uncollectable": uncollectable, "time_s": round(self.gc_time, 6),
                   "analysis_s": round(self.analysis_time, 6), "analysed": self.analysed,
                   "not_analysed": self.not_analysed, "released_late": self.released_late},
            "cycles": {"objects": self.objects, "bytes": int(self.bytes), "types": types},
            "sites": sites,
            "errors": list(self.errors),
        }

    def write(self, event):
        """Writes the report for `event` atomically; errors go into the next one."""
        if not self.lock.acquire(True, 1.0):
            return
        try:
            self._drain()
            changes = self.changes
            data = to_json(self.report(event))
            path = self.report_path
            if event == "limit":
                path = os.path.join(self.dir, "py-%d-limit.json" % self.pid)
            tmp = os.path.join(self.dir, ".py-%d-%d.tmp" % (self.pid, _thread.get_ident()))
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, path)
            self.written = changes
        except Exception as e:
            _note(self.errors, "write: %s: %s" % (type(e).__name__, e))
        finally:
            self.lock.release()


_diag = None


def start(environ=None):
    """Starts the helper once per process when MEMGATE_DIAG_DIR is set; never raises."""
    global _diag
    try:
        env = os.environ if environ is None else environ
        if _diag is not None or not env.get("MEMGATE_DIAG_DIR"):
            return _diag
        diag = _Diag(env)
        diag.install()
        _diag = diag
    except Exception:
        pass
    return _diag
