"""Tests of memgate's Python helper (src/diagnose/python): real CPython processes with the
helper injected the way memgate injects it (PYTHONPATH, MEMGATE_DIAG_DIR), unit tests of
its pure parts, and a property test of the cycle search on generated object graphs.

    cd /work/main && python3 -m unittest discover -s tests/python -v

Standard library only. Each test works in its own temporary folder.
"""

import ast
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELPER = os.path.join(ROOT, "src", "diagnose", "python")
sys.path.insert(0, HELPER)

import memgate_diag  # noqa: E402  (after the path; importing it starts nothing)

TIMEOUT = 180
MIB = 1 << 20


class Child(object):
    """A temporary folder, scripts written into it, and Python run there with or
    without the helper (its two files copied into a folder of their own, as memgate
    does)."""

    def __init__(self, case):
        self.dir = tempfile.mkdtemp(prefix="memgate-diag-test-")
        case.addCleanup(shutil.rmtree, self.dir, True)
        self.reports = os.path.join(self.dir, "reports")
        os.mkdir(self.reports)
        self.helper = os.path.join(self.dir, "helper")
        os.mkdir(self.helper)
        for name in ("sitecustomize.py", "memgate_diag.py"):
            shutil.copy(os.path.join(HELPER, name), self.helper)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            os.makedirs(folder)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))
        return name

    def env(self, helper=True, sites=False, extra_path=(), **more):
        env = dict(os.environ)
        for key in ("PYTHONPATH", "MEMGATE_DIAG_DIR", "MEMGATE_DIAG_SITES",
                    "MEMGATE_DIAG_FRAMES", "PYTHONTRACEMALLOC", "PYTHONWARNINGS"):
            env.pop(key, None)
        path = [self.helper] if helper else []
        path += [os.path.join(self.dir, p) for p in extra_path]
        if path:
            env["PYTHONPATH"] = os.pathsep.join(path)
        if helper:
            env["MEMGATE_DIAG_DIR"] = self.reports
            env["MEMGATE_DIAG_SITES"] = "1" if sites else "0"
        env.update(more)
        return env

    def run(self, script, *args, **kw):
        flags = kw.pop("flags", [])
        env = self.env(**kw)
        return subprocess.run([sys.executable] + flags + [script] + list(args), cwd=self.dir,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=TIMEOUT)

    def popen(self, script, **kw):
        return subprocess.Popen([sys.executable, script], cwd=self.dir, env=self.env(**kw),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)

    def report_names(self):
        return sorted(n for n in os.listdir(self.reports) if n.startswith("py-"))

    def report(self, name):
        with open(os.path.join(self.reports, name)) as f:
            return json.load(f)

    def only_report(self, case):
        names = [n for n in self.report_names() if not n.endswith("-limit.json")]
        case.assertEqual(len(names), 1, names)
        return self.report(names[0])


def ok(case, proc):
    """The child's stdout, after checking it exited 0 and printed nothing on stderr."""
    case.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
    case.assertEqual(proc.stderr, "", "the helper printed nothing")
    return proc.stdout


def by_type(report, name):
    for t in report["cycles"]["types"]:
        if t["type"] == name:
            return t
    return None


# ---- the bug this exists for ------------------------------------------------------------

FRAMES = """
import gc, json, sys, weakref

VARIANT = sys.argv[1]
ROWS = 150000


class StrongWW:
    def __init__(self, f):
        self._frame_ref = f


class WeakWW:
    def __init__(self, f):
        self._frame_ref = weakref.ref(f)


class Frame:
    def __init__(self, i):
        self.cols = {"x": [float(j) + i for j in range(ROWS)]}


frames = []
for i in range(10):
    frame = Frame(i)
    frame.__dict__["ww"] = (StrongWW if VARIANT == "cycle" else WeakWW)(frame)
    frames.append(weakref.ref(frame))
    del frame
    junk = [[] for _ in range(5000)]  # tracked objects: the collector runs by itself
    del junk
for _ in range(3000):
    if sum(r() is None for r in frames) >= 5:
        break
    junk = [[] for _ in range(1000)]
# Frames freed by now were freed by the collector (cycle) or at once (weakref).
freed = sum(r() is None for r in frames)
frame_bytes = sys.getsizeof([0.0] * ROWS) + ROWS * sys.getsizeof(1.0)
print(json.dumps({"freed": freed, "frame_bytes": frame_bytes, "debug": gc.get_debug()}))
"""


class TheFrameCycle(unittest.TestCase):
    def test_the_accessor_cycle_is_named_with_its_edges_and_sized(self):
        child = Child(self)
        script = child.write("frames.py", FRAMES)
        out = json.loads(ok(self, child.run(script, "cycle")))
        self.assertGreaterEqual(out["freed"], 1, "the collector freed some frames")
        self.assertEqual(out["debug"], 0, "the program sees its own gc flags")
        report = child.only_report(self)
        frame = by_type(report, "__main__.Frame")
        self.assertIsNotNone(frame, report["cycles"])
        self.assertGreaterEqual(frame["count"], out["freed"])
        self.assertLessEqual(frame["count"], 10)
        truth = frame["count"] * out["frame_bytes"]
        self.assertTrue(0.5 * truth <= frame["bytes"] <= 2 * truth, (frame["bytes"], truth))
        self.assertEqual(frame["cycle_text"], "Frame.ww -> StrongWW._frame_ref -> Frame")
        self.assertEqual(frame["cycle"], [
            {"type": "__main__.Frame", "edge": ".ww"},
            {"type": "__main__.StrongWW", "edge": "._frame_ref"},
        ])
        self.assertGreater(report["gc"]["analysed"], 0)
        self.assertGreater(sum(report["gc"]["collections"]), 0)
        self.assertEqual(report["errors"], [])

    def test_the_weakref_fix_has_no_frame_among_the_cyclic_garbage(self):
        child = Child(self)
        script = child.write("frames.py", FRAMES)
        out = json.loads(ok(self, child.run(script, "weakref")))
        self.assertEqual(out["freed"], 10, "no cycle: every frame freed at once")
        report = child.only_report(self)
        self.assertIsNone(by_type(report, "__main__.Frame"), report["cycles"])
        self.assertIsNone(by_type(report, "__main__.WeakWW"), report["cycles"])

    def test_cycles_never_collected_are_found_at_exit(self):
        # The example pipeline raises the thresholds so high that no collection runs:
        # its dropped frames are still waiting at exit.
        child = Child(self)
        script = child.write("frames.py", "import gc\ngc.disable()\n" + FRAMES)
        out = json.loads(ok(self, child.run(script, "cycle")))
        self.assertEqual(out["freed"], 0)
        report = child.only_report(self)
        frame = by_type(report, "__main__.Frame")
        self.assertIsNotNone(frame, report["cycles"])
        self.assertEqual(frame["count"], 10)
        self.assertEqual(frame["cycle_text"], "Frame.ww -> StrongWW._frame_ref -> Frame")
        truth = 10 * out["frame_bytes"]
        self.assertTrue(0.5 * truth <= frame["bytes"] <= 2 * truth, (frame["bytes"], truth))

    def test_a_pair_of_nodes_reads_as_memgate_s_integration_test_expects(self):
        child = Child(self)
        script = child.write("nodes.py", """
            import gc
            class Node:
                pass
            def make():
                a, b = Node(), Node()
                a.other, b.other = b, a
                a.payload = bytearray(8 << 20)
            for _ in range(4):
                make()
                gc.collect()
        """)
        ok(self, child.run(script))
        node = by_type(child.only_report(self), "__main__.Node")
        self.assertEqual(node["count"], 8)
        self.assertEqual(node["cycle_text"], "Node.other -> Node.other -> Node")
        self.assertGreaterEqual(node["bytes"], 4 * 8 * MIB)


# ---- the program behaves as without the helper -------------------------------------------

BEHAVIOUR = """
import functools, gc, json, tracemalloc, weakref

# Only the collections below, so both runs see the same ones (the helper's own
# allocations would move automatic collections earlier or later).
gc.disable()
gc.collect()
tracemalloc.start()


class Node:
    deleted = 0

    def __del__(self):
        Node.deleted += 1


def cycle(mib):
    a, b = Node(), Node()
    a.other, b.other = b, a
    a.payload = bytearray(mib << 20)
    return weakref.ref(a)


def traced():
    return tracemalloc.get_traced_memory()[0]


out = {}
base = traced()
r = cycle(20)
out["held"] = traced() - base > 19 << 20
out["collected"] = gc.collect()
out["freed"] = traced() - base < 1 << 20
out["dead"] = r() is None
out["deleted"] = Node.deleted
out["garbage"] = len(gc.garbage)
out["debug"] = gc.get_debug()

# The program's own DEBUG_SAVEALL: it gets its gc.garbage.
gc.set_debug(gc.DEBUG_SAVEALL)
cycle(1)
gc.collect()
out["saved_nodes"] = sum(1 for o in gc.garbage if type(o) is Node)
out["saved_debug"] = gc.get_debug() == gc.DEBUG_SAVEALL
out["deleted_saved"] = Node.deleted
gc.set_debug(0)
del gc.garbage[:]
gc.collect()

# Hostile objects in a cycle: every hook a helper might call raises.
class Hostile(list):
    def __len__(self): raise RuntimeError("len")
    def __iter__(self): raise RuntimeError("iter")
    def clear(self): raise RuntimeError("clear")
    def __eq__(self, other): raise RuntimeError("eq")
    def __hash__(self): raise RuntimeError("hash")
    def __repr__(self): raise RuntimeError("repr")
    def __getattribute__(self, name):
        if name == "__class__":
            return Hostile
        raise RuntimeError("getattribute " + name)
    def __sizeof__(self): raise RuntimeError("sizeof")

h = Hostile()
list.append(h, h)
list.append(h, bytearray(5 << 20))
del h
base = traced()
gc.collect()
out["hostile_freed"] = traced() - base < -(4 << 20)
print(json.dumps(out, sort_keys=True))
"""


class BehaviourUnchanged(unittest.TestCase):
    def test_collections_free_and_finalize_as_without_the_helper(self):
        child = Child(self)
        script = child.write("behaviour.py", BEHAVIOUR)
        plain = json.loads(ok(self, child.run(script, helper=False)))
        self.assertEqual(child.report_names(), [])
        helped = json.loads(ok(self, child.run(script)))
        self.assertEqual(helped, plain)
        self.assertTrue(helped["held"] and helped["freed"] and helped["dead"])
        self.assertEqual(helped["deleted"], 2, "each __del__ ran once")
        self.assertEqual(helped["garbage"], 0)
        self.assertEqual(helped["debug"], 0)
        self.assertEqual(helped["saved_nodes"], 2)
        self.assertTrue(helped["saved_debug"])
        self.assertTrue(helped["hostile_freed"])
        report = child.only_report(self)
        node = by_type(report, "__main__.Node")
        # Two from the first cycle, two the program kept in gc.garbage (analysed, not
        # released), the same two again once the program emptied gc.garbage.
        self.assertEqual(node["count"], 6)
        self.assertIsNotNone(by_type(report, "__main__.Hostile"))

    def test_a_cycle_the_helper_cannot_break_is_freed_by_the_next_collection(self):
        # A partial whose args hold itself: no attribute of it can be cleared from
        # Python, so it outlives the release; the next full collection runs without
        # DEBUG_SAVEALL and the collector frees it (the collector itself cannot before
        # Python 3.10: then neither run frees it).
        child = Child(self)
        script = child.write("late.py", """
            import functools, gc, json, tracemalloc
            tracemalloc.start()
            def traced():
                return tracemalloc.get_traced_memory()[0]
            p = functools.partial(print)
            p.__setstate__((print, (p, bytearray(10 << 20)), {}, None))
            del p
            base = traced()
            gc.collect()
            first = traced() - base
            gc.collect()
            second = traced() - base
            print(json.dumps({"first": first, "second": second, "garbage": len(gc.garbage)}))
        """)
        plain = json.loads(ok(self, child.run(script, helper=False)))
        out = json.loads(ok(self, child.run(script)))
        freed = -(9 << 20)
        self.assertEqual(out["second"] < freed, plain["second"] < freed, (out, plain))
        self.assertEqual(out["garbage"], 0)
        if plain["first"] < freed:
            g = child.only_report(self)["gc"]
            self.assertGreaterEqual(g["released_late"], 1, g)
            self.assertGreaterEqual(g["not_analysed"], 1, g)

    def test_garbage_a_release_cannot_free_is_freed_by_the_next_collection(self):
        # A defaultdict whose factory holds it: neither can be weakly referenced, and
        # clearing the dict leaves the factory. Without care it would be saved, counted
        # and kept again at every collection, and the program's memory would grow.
        child = Child(self)
        script = child.write("opaque.py", """
            import gc, json, resource
            from collections import defaultdict
            gc.disable()
            for _ in range(10):
                d = defaultdict()
                d.default_factory = (bytearray(20 << 20), d).__len__
                del d
                gc.collect()
            gc.collect()
            gc.collect()
            print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
        """)
        out = json.loads(ok(self, child.run(script)))
        # Each 20 MiB is freed by the next collection at the latest: never all ten.
        self.assertLess(out["maxrss_kib"], 80 * 1024, out)
        report = child.only_report(self)
        counted = sum(t["count"] for t in report["cycles"]["types"]
                      if t["type"] == "collections.defaultdict")
        self.assertLessEqual(counted, 10, report["cycles"]["types"])

    def test_a_dropped_class_does_not_cost_the_next_collection_its_analysis(self):
        # A class is always in a cycle with its __mro__, which only the collector can
        # break: it outlives the release, and waits aside rather than make the next
        # collection run unanalysed.
        child = Child(self)
        script = child.write("classes.py", """
            import gc
            class Node:
                pass
            gc.disable()
            for _ in range(3):
                type("Temporary", (object,), {"x": bytearray(1000)})
                gc.collect()
                a, b = Node(), Node()
                a.other, b.other = b, a
                del a, b
                gc.collect()
        """)
        ok(self, child.run(script))
        report = child.only_report(self)
        self.assertEqual(by_type(report, "__main__.Node")["count"], 6)
        self.assertEqual(by_type(report, "type")["count"], 3)
        self.assertGreaterEqual(report["gc"]["released_late"], 3)
        self.assertEqual(report["gc"]["not_analysed"], 0)

    def test_other_callbacks_see_gc_garbage_as_without_the_helper(self):
        child = Child(self)
        script = child.write("callbacks.py", """
            import gc, json
            seen = []
            gc.callbacks.append(lambda phase, info: seen.append(
                (phase, len(gc.garbage), gc.get_debug())))
            class Node:
                pass
            a = Node(); a.me = a; del a
            gc.collect()
            print(json.dumps(seen[-2:]))
        """)
        plain = json.loads(ok(self, child.run(script, helper=False)))
        helped = json.loads(ok(self, child.run(script)))
        self.assertEqual(helped, plain)

    def test_ctrl_c_in_the_helper_reaches_the_program(self):
        child = Child(self)
        script = child.write("interrupt.py", """
            import gc, json, sys, time
            import memgate_diag
            def interrupted(info):
                raise KeyboardInterrupt
            memgate_diag._diag._on_stop = interrupted
            class Node:
                pass
            a = Node(); a.me = a; del a
            caught = False
            try:
                gc.collect()
                for _ in range(100):
                    time.sleep(0.01)
            except KeyboardInterrupt:
                caught = True
            print(json.dumps({"caught": caught, "debug": gc.get_debug()}))
        """)
        out = json.loads(ok(self, child.run(script)))
        self.assertEqual(out, {"caught": True, "debug": 0})

    def test_the_helper_makes_no_garbage_and_no_thread_in_sight(self):
        # Started by hand with the collector off: whatever cyclic garbage there is after
        # the import, the start and a few polls is the helper's.
        child = Child(self)
        script = child.write("quiet.py", """
            import gc, os, sys, time
            gc.disable()
            gc.collect()
            import memgate_diag
            memgate_diag.start({"MEMGATE_DIAG_DIR": sys.argv[1]})
            time.sleep(0.3)
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            garbage = [type(o).__name__ for o in gc.garbage]
            import json, threading
            print(json.dumps({"garbage": garbage,
                              "threads": [t.name for t in threading.enumerate()]}))
        """)
        env = child.env()
        del env["MEMGATE_DIAG_DIR"]
        proc = subprocess.run([sys.executable, script, child.reports], cwd=child.dir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=TIMEOUT)
        out = json.loads(ok(self, proc))
        self.assertEqual(out["garbage"], [])
        self.assertEqual(out["threads"], ["MainThread"], "not one of the program's threads")
        self.assertEqual(child.only_report(self)["errors"], [])


# ---- sitecustomize ----------------------------------------------------------------------

SHOW = """
import gc, json, os, sys, threading
print(json.dumps({
    "sitecustomize": getattr(sys.modules.get("sitecustomize"), "__file__", None),
    "chained": os.environ.get("CHAINED_RAN"),
    "helper": "memgate_diag" in sys.modules,
    "threads": [t.name for t in threading.enumerate()],
    "callbacks": len(gc.callbacks),
}))
"""


class SiteCustomize(unittest.TestCase):
    def test_an_existing_sitecustomize_still_runs(self):
        child = Child(self)
        theirs = os.path.join(child.dir, child.write("theirs/sitecustomize.py", """
            import os
            os.environ["CHAINED_RAN"] = __name__
        """))
        script = child.write("show.py", SHOW)
        plain = json.loads(ok(self, child.run(script, helper=False, extra_path=["theirs"])))
        helped = json.loads(ok(self, child.run(script, extra_path=["theirs"])))
        self.assertEqual(plain["chained"], "sitecustomize")
        self.assertEqual(helped["chained"], "sitecustomize")
        self.assertEqual(helped["sitecustomize"], theirs)
        self.assertTrue(helped["helper"])
        self.assertEqual(len(child.report_names()), 1)

    def test_a_failing_sitecustomize_fails_as_it_would_without_memgate(self):
        child = Child(self)
        child.write("theirs/sitecustomize.py", "raise ValueError('boom')\n")
        script = child.write("show.py", SHOW)
        plain = child.run(script, helper=False, extra_path=["theirs"])
        helped = child.run(script, extra_path=["theirs"])
        self.assertIn("Error in sitecustomize", plain.stderr)
        self.assertEqual(helped.stderr, plain.stderr)
        self.assertEqual(helped.returncode, plain.returncode)
        self.assertTrue(json.loads(helped.stdout)["helper"])

    def test_without_memgate_diag_dir_nothing_starts(self):
        child = Child(self)
        theirs = os.path.join(child.dir, child.write("theirs/sitecustomize.py", """
            import os
            os.environ["CHAINED_RAN"] = "yes"
        """))
        script = child.write("show.py", SHOW)
        env = child.env(extra_path=["theirs"])
        del env["MEMGATE_DIAG_DIR"]
        proc = subprocess.run([sys.executable, script], cwd=child.dir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=TIMEOUT)
        out = json.loads(ok(self, proc))
        self.assertFalse(out["helper"])
        self.assertEqual(out["threads"], ["MainThread"])
        self.assertEqual(out["callbacks"], 0)
        self.assertEqual(out["chained"], "yes", "the hidden one still runs")
        self.assertEqual(out["sitecustomize"], theirs)
        self.assertEqual(child.report_names(), [])


# ---- process trees ----------------------------------------------------------------------


class ProcessTrees(unittest.TestCase):
    def test_every_python_process_of_the_tree_reports_once(self):
        child = Child(self)
        script = child.write("parent.py", """
            import json, multiprocessing, os, subprocess, sys

            def work(q):
                q.put(os.getpid())

            if __name__ == "__main__":
                pids = [os.getpid()]
                for _ in range(2):
                    out = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                         stdout=subprocess.PIPE, check=True).stdout
                    pids.append(int(out))
                ctx = multiprocessing.get_context("fork")
                q = ctx.Queue()
                procs = [ctx.Process(target=work, args=(q,)) for _ in range(2)]
                for p in procs:
                    p.start()
                pids += [q.get(timeout=60) for _ in procs]
                for p in procs:
                    p.join()
                    assert p.exitcode == 0
                pid = os.fork()  # a bare fork ended by os._exit
                if pid == 0:
                    os._exit(0)
                os.waitpid(pid, 0)
                pids.append(pid)
                print(json.dumps(pids))
        """)
        # Python 3.12+ warns when a process with threads forks: the helper's thread
        # stops around every fork, so even an error filter sees nothing.
        proc = child.run(script, flags=["-W", "error::DeprecationWarning"])
        pids = json.loads(ok(self, proc))
        self.assertEqual(len(set(pids)), 6)
        names = child.report_names()
        self.assertEqual(names, sorted("py-%d.json" % p for p in pids))
        for name in names:
            r = child.report(name)
            self.assertEqual(r["event"], "exit", name)
            self.assertEqual(r["errors"], [], name)
            if r["pid"] != pids[0]:
                self.assertEqual(r["ppid"], pids[0])
        self.assertEqual(child.report("py-%d.json" % pids[0])["argv"], ["parent.py"])


# ---- allocation sites and the limit -------------------------------------------------------


class Sites(unittest.TestCase):
    def test_the_kept_snapshot_names_the_line_that_made_the_peak(self):
        child = Child(self)
        script = child.write("sites.py", """
            import json, time, tracemalloc

            def big():
                before = tracemalloc.get_traced_memory()[0]
                block = [float(i) for i in range(1000000)]  # the 30 MiB line
                size = tracemalloc.get_traced_memory()[0] - before
                # A plateau long enough for a snapshot after the one taken while it grew
                # (each waits on the cost of the last, which a loaded machine stretches).
                time.sleep(2.0)
                return size

            def small():
                other = bytearray(5 << 20)
                time.sleep(0.5)
                return len(other)

            size = big()
            small()
            print(json.dumps({"size": size}))
        """)
        out = json.loads(ok(self, child.run(script, sites=True)))
        self.assertGreater(out["size"], 28 * MIB)
        sites = child.only_report(self)["sites"]
        top = sites["top"][0]
        self.assertEqual((top["file"], top["line"]), ("sites.py", 5), sites["top"][:3])
        for site in sites["top"]:
            for frame in site["traceback"]:
                self.assertNotIn("helper", frame["file"], "nothing of the helper's own")
        self.assertEqual(top["code"],
                         "block = [float(i) for i in range(1000000)]  # the 30 MiB line")
        self.assertLess(abs(top["bytes"] - out["size"]), 0.1 * out["size"], (top, out))
        self.assertGreater(top["count"], 900000)
        self.assertEqual(top["traceback"][-1], {"file": "sites.py", "line": 5})
        self.assertIn({"file": "sites.py", "line": 17}, top["traceback"], "the caller")
        self.assertGreaterEqual(sites["peak_traced"], sites["snapshot_traced"])
        self.assertGreater(sites["snapshot_traced"], 28 * MIB)
        self.assertGreater(sites["at_s"], 0)
        self.assertTrue(all("memgate_diag" not in s["file"] for s in sites["top"]))

    def test_the_limit_file_makes_a_report_at_once(self):
        for sites in (True, False):
            with self.subTest(sites=sites):
                self.limit_report(sites)

    def limit_report(self, sites):
        child = Child(self)
        script = child.write("limit.py", """
            import time
            blocks = []
            def grow():
                blocks.append(bytearray(1 << 20))
            for _ in range(3000):
                if len(blocks) < 40:
                    grow()
                time.sleep(0.01)
        """)
        proc = child.popen(script, sites=sites)
        try:
            name = "py-%d-limit.json" % proc.pid
            deadline = time.time() + 30
            while time.time() < deadline and "py-%d.json" % proc.pid not in child.report_names():
                time.sleep(0.02)
            time.sleep(0.3)
            open(os.path.join(child.reports, "limit"), "w").close()
            while time.time() < deadline and name not in child.report_names():
                time.sleep(0.02)
            self.assertIn(name, child.report_names())
            report = child.report(name)
        finally:
            proc.kill()
            proc.communicate()
        self.assertEqual(report["event"], "limit")
        self.assertEqual(report["pid"], proc.pid)
        if sites:
            top = report["sites"]["top"][0]
            self.assertEqual((top["file"], top["line"]), ("limit.py", 4), report["sites"])
            self.assertEqual(top["code"], "blocks.append(bytearray(1 << 20))")
            self.assertGreater(top["bytes"], 10 * MIB)
        else:
            self.assertIsNone(report["sites"])


# ---- the report's format ------------------------------------------------------------------

INT, FLOAT, STR = "int", "float", "str"
SITE = {"file": STR, "line": INT, "bytes": INT, "count": INT, "code": STR,
        "traceback": [{"file": STR, "line": INT}]}
SCHEMA = {
    "memgate_diag": INT, "pid": INT, "ppid": INT, "argv": [STR], "python": STR,
    "event": STR, "wall_s": FLOAT,
    "gc": {"collections": [INT], "collected": [INT], "uncollectable": INT, "time_s": FLOAT,
           "analysis_s": FLOAT, "analysed": INT, "not_analysed": INT, "released_late": INT},
    "cycles": {"objects": INT, "bytes": INT,
               "types": [{"type": STR, "count": INT, "bytes": INT,
                          "cycle": ("null", [{"type": STR, "edge": STR}]),
                          "cycle_text": ("null", STR)}]},
    "sites": ("null", {"peak_traced": INT, "snapshot_traced": INT, "at_s": FLOAT,
                       "top": [SITE]}),
    "errors": [STR],
}


def check_schema(case, value, schema, where="report"):
    if isinstance(schema, tuple):
        if value is None:
            case.assertIn("null", schema, where)
            return
        schema = schema[1]
    if schema == INT:
        case.assertTrue(isinstance(value, int) and not isinstance(value, bool), where)
    elif schema == FLOAT:
        case.assertIsInstance(value, (int, float), where)
    elif schema == STR:
        case.assertIsInstance(value, str, where)
    elif isinstance(schema, list):
        case.assertIsInstance(value, list, where)
        for i, item in enumerate(value):
            check_schema(case, item, schema[0], "%s[%d]" % (where, i))
    else:
        case.assertIsInstance(value, dict, where)
        case.assertEqual(sorted(value), sorted(schema), where)
        for key, sub in schema.items():
            check_schema(case, value[key], sub, "%s.%s" % (where, key))


class ReportFormat(unittest.TestCase):
    def test_the_report_has_exactly_the_keys_memgate_reads(self):
        child = Child(self)
        script = child.write("schema.py", """
            import gc
            class Node:
                pass
            a = Node(); a.me = a; a.data = list(range(100000))
            del a
            gc.collect()
        """)
        ok(self, child.run(script, "x" * 300, *["arg"] * 30, sites=True))
        report = child.only_report(self)
        check_schema(self, report, SCHEMA)
        self.assertEqual(report["memgate_diag"], 1)
        self.assertEqual(report["event"], "exit")
        self.assertEqual(report["python"], sys.version.split()[0])
        self.assertEqual(len(report["gc"]["collections"]), 3)
        self.assertEqual(len(report["argv"]), 20)
        self.assertEqual(report["argv"][:2], ["schema.py", "x" * 200])
        self.assertLessEqual(len(report["cycles"]["types"]), 20)
        self.assertLessEqual(len(report["sites"]["top"]), 25)
        self.assertEqual(by_type(report, "__main__.Node")["cycle_text"], "Node.me -> Node")
        self.assertEqual([n for n in os.listdir(child.reports) if not n.startswith("py-")], [],
                         "no temporary file left")


# ---- edges, cycles and their text -----------------------------------------------------------


class Slotted(object):
    __slots__ = ("a0", "a1", "a2", "a3", "__weakref__")


class Plain(object):
    pass


class Private(object):
    __slots__ = ("__hidden",)

    def __init__(self, v):
        self.__hidden = v


class StrongWW(object):
    def __init__(self, f):
        self._frame_ref = f


class Frame(object):
    pass


class EdgeLabels(unittest.TestCase):
    def test_each_kind_of_reference_is_named(self):
        target = Plain()
        p = Plain()
        p.name = target
        self.assertEqual(memgate_diag.edge_label(p, target), ".name")
        self.assertEqual(memgate_diag.edge_label(p, vars(p)), ".__dict__")
        s = Slotted()
        s.a2 = target
        self.assertEqual(memgate_diag.edge_label(s, target), ".a2")
        self.assertEqual(memgate_diag.edge_label(Private(target), target), "._Private__hidden")
        self.assertEqual(memgate_diag.edge_label({"k": target}, target), "['k']")
        self.assertEqual(memgate_diag.edge_label({3: target}, target), "[3]")
        self.assertEqual(memgate_diag.edge_label({target: 1}, target), "<key>")
        self.assertEqual(memgate_diag.edge_label({"x" * 100: target}, target),
                         "[%s]" % repr("x" * 100)[:40])
        self.assertEqual(memgate_diag.edge_label([1, target], target), "[1]")
        self.assertEqual(memgate_diag.edge_label((target,), target), "[0]")
        self.assertEqual(memgate_diag.edge_label({target}, target), "{…}")

        def outer():
            x = target

            def inner(d=target):
                return x
            return inner
        f = outer()
        self.assertEqual(memgate_diag.edge_label(f, f.__closure__), ".__closure__")
        self.assertEqual(memgate_diag.edge_label(f, f.__defaults__), ".__defaults__")
        self.assertEqual(memgate_diag.edge_label(f.__closure__[0], target), ".cell_contents")
        self.assertEqual(memgate_diag.edge_label(f, f.__globals__), ".__globals__")

        class Owner(object):
            def m(self):
                pass
        o = Owner()
        self.assertEqual(memgate_diag.edge_label(o.m, o), ".__self__")
        self.assertEqual(memgate_diag.edge_label(Owner, Owner.__mro__), ".__mro__")
        self.assertEqual(memgate_diag.edge_label(object(), target), "?")

    def test_a_hostile_object_gets_a_label_without_running_its_code(self):
        class Hostile(dict):
            def __getattribute__(self, name):
                raise RuntimeError(name)

            def items(self):
                raise RuntimeError("items")
        target = Plain()
        h = Hostile(k=target)
        self.assertEqual(memgate_diag.edge_label(h, target), "['k']")

    def test_the_cycle_text_folds_an_instance_dict_into_its_attribute(self):
        frame = Frame()
        frame.__dict__["ww"] = StrongWW(frame)
        members = [frame, vars(frame), frame.ww, vars(frame.ww)]
        steps = memgate_diag.shortest_cycle(frame, members)
        cycle, text = memgate_diag.render_cycle(steps)
        self.assertEqual(text, "Frame.ww -> StrongWW._frame_ref -> Frame")
        self.assertEqual([c["edge"] for c in cycle], [".ww", "._frame_ref"])
        self.assertEqual(cycle[0]["type"], "test_diag.Frame")

    def test_a_local_class_is_named_without_its_function(self):
        class Local(object):
            pass
        a = Local()
        a.me = a
        _, text = memgate_diag.render_cycle(memgate_diag.shortest_cycle(a, [a, vars(a)]))
        self.assertEqual(text, "Local.me -> Local")

    def test_no_cycle_is_none(self):
        a, b = Plain(), Plain()
        a.b = b
        self.assertIsNone(memgate_diag.shortest_cycle(a, [a, b, vars(a), vars(b)]))


class ShortestCycleProperty(unittest.TestCase):
    """On random graphs of instances, dicts and lists: the chain returned is a real cycle
    (each label, followed from its object, gives the next) and none shorter exists; None
    exactly when the start cannot reach itself."""

    SEEDS = 600

    def graph(self, rng):
        n = rng.randint(2, 30)
        nodes = []
        for _ in range(n):
            kind = rng.choice(("slotted", "plain", "dict", "list"))
            nodes.append({"slotted": Slotted, "plain": Plain, "dict": dict, "list": list}[kind]())
        density = rng.choice((1, 2, 3, 4))
        for node in nodes:
            for _ in range(rng.randint(0, density)):
                target = rng.choice(nodes)
                slot = rng.randrange(4)
                if isinstance(node, (Slotted, Plain)):
                    setattr(node, "a%d" % slot, target)
                elif isinstance(node, dict):
                    node["k%d" % slot] = target
                else:
                    node.append(target)
        # Instance dicts made now, so every version sees the same graph.
        members = nodes + [vars(x) for x in nodes if isinstance(x, Plain)]
        return nodes, members

    def follow(self, obj, label):
        if label.startswith("."):
            return getattr(obj, label[1:])
        self.assertTrue(label.startswith("[") and label.endswith("]"), label)
        return obj[ast.literal_eval(label[1:-1])]

    def shorter_exists(self, adj, start, limit):
        """Whether a cycle through `start` of fewer than `limit` edges exists: every simple
        path of fewer edges, tried."""
        def walk(node, depth, on_path):
            for nxt in adj[node]:
                if nxt == start:
                    return True
                if depth + 1 < limit - 1 and nxt not in on_path:
                    on_path.add(nxt)
                    if walk(nxt, depth + 1, on_path):
                        return True
                    on_path.discard(nxt)
            return False
        return limit > 1 and walk(start, 0, {start})

    def reaches_itself(self, adj, start):
        seen, stack = set(), [start]
        while stack:
            for nxt in adj[stack.pop()]:
                if nxt == start:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def test_cycles_are_real_and_shortest(self):
        found = none = 0
        for seed in range(self.SEEDS):
            rng = random.Random(seed)
            nodes, members = self.graph(rng)
            ids = {id(m) for m in members}
            adj = {id(m): [id(r) for r in gc.get_referents(m) if id(r) in ids] for m in members}
            start = rng.choice(nodes)
            steps = memgate_diag.shortest_cycle(start, members)
            if steps is None:
                none += 1
                self.assertFalse(self.reaches_itself(adj, id(start)), "seed %d" % seed)
                continue
            found += 1
            self.assertIs(steps[0][0], start, "seed %d" % seed)
            for i, (obj, label) in enumerate(steps):
                nxt = steps[i + 1][0] if i + 1 < len(steps) else start
                self.assertIs(self.follow(obj, label), nxt, "seed %d step %d %s" % (seed, i, label))
            self.assertFalse(self.shorter_exists(adj, id(start), len(steps)),
                             "seed %d: a cycle shorter than %d" % (seed, len(steps)))
        self.assertGreater(found, self.SEEDS // 5)
        self.assertGreater(none, self.SEEDS // 5)


def dicts_of(*objects):
    """The instance dicts that carry the attribute edges: before 3.11 they are objects of
    their own in the garbage; from 3.11 an object refers to its values directly."""
    return [vars(o) for o in objects] if sys.version_info < (3, 11) else []


class Pieces(unittest.TestCase):
    def test_reports_are_json_whatever_the_text(self):
        value = {"a": [1, 2.5, None, True, False, "q\"\\\n\t\u00e9\U0001F600 \x01"],
                 "b": {"c": 0.0}, "d": -3, "e": ""}
        self.assertEqual(json.loads(memgate_diag.to_json(value)), value)
        # Undecodable bytes in a file name (surrogate escapes) are not valid JSON text.
        self.assertEqual(json.loads(memgate_diag.to_json("a\udc80b")), "a\ufffdb")
        self.assertEqual(memgate_diag.to_json(float("nan")), "0.0")

    def test_a_deep_python_sizeof_is_not_taken_for_the_object_s_own_size(self):
        # pandas' __sizeof__ is a deep memory_usage: a frame and each Series cached on it
        # would count the same columns again. The walk of referents counts them once.
        class Deep(object):
            def __sizeof__(self):
                return 50 * MIB
        a, b = Deep(), Deep()
        a.other, b.other = b, a
        a.data = bytearray(5 * MIB)
        analysis = memgate_diag.Analysis([a, b] + dicts_of(a, b), [])
        self.assertGreater(analysis.total_bytes, 5 * MIB)
        self.assertLess(analysis.total_bytes, 6 * MIB)

    def test_an_array_view_counts_the_array_it_views_once(self):
        try:
            import numpy
        except ImportError:
            self.skipTest("numpy is not installed")
        block = numpy.zeros((4, 1 << 18))  # 8 MiB
        a, b = Plain(), Plain()
        a.other, b.other = b, a
        a.columns = [block[0], block[1]]  # views: a frame's columns
        b.column = block[2]
        analysis = memgate_diag.Analysis([a, b, a.__dict__, b.__dict__, a.columns], [])
        self.assertGreater(analysis.total_bytes, 8 * MIB)
        self.assertLess(analysis.total_bytes, 9 * MIB)

    def test_types_are_charged_what_their_cycles_held_once(self):
        # A frame in a cycle with its accessor holds columns; a column is in a small
        # cycle of its own. The frame's cycle is charged everything it kept alive; the
        # column's cycle is part of that, and the types' bytes add up to the total.
        class Frame(object):
            pass
        class Accessor(object):
            pass
        class Column(object):
            pass
        frame, accessor = Frame(), Accessor()
        frame.ww, accessor.frame = accessor, frame
        frame.columns = []
        for _ in range(3):
            column = Column()
            column.me = column
            column.data = bytearray(MIB)
            frame.columns.append(column)
        objects = [frame, accessor, frame.columns] + frame.columns
        objects += dicts_of(frame, accessor, *frame.columns)
        analysis = memgate_diag.Analysis(objects, [])
        keys = [t[1] for t in analysis.types]
        self.assertEqual(len(keys), 1, keys)
        self.assertTrue(keys[0].endswith("Frame"), keys)
        self.assertEqual(analysis.types[0][4], analysis.total_bytes)
        self.assertGreater(analysis.total_bytes, 3 * MIB)


class Census(unittest.TestCase):
    def test_the_census_finds_cycles_and_nothing_alive(self):
        gc.collect()
        a, b, alive = Plain(), Plain(), Plain()
        a.b, b.a = b, a
        a.big = [0.5] * 5000
        alive.me = alive
        found = memgate_diag.find_unreachable()
        kinds = {type(o) for o in found}
        self.assertNotIn(Plain, kinds)  # all three still named here
        del a, b
        found = memgate_diag.find_unreachable()
        self.assertEqual(sum(1 for o in found if type(o) is Plain), 2)
        self.assertFalse(any(o is alive for o in found))
        del found
        gc.collect()


if __name__ == "__main__":
    unittest.main()
