#!/usr/bin/env python3
"""Measures what memgate's Python helper (`memgate explain`) costs a Python program: wall
time and peak RSS with the helper injected, against the same command run plain in the
same session.

Run from the repository root:

    python3 benches/python_overhead.py            # the example pipeline, 5 runs per mode
    python3 benches/python_overhead.py --quick    # 1 run, 20,000 rows: a smoke run
    python3 benches/python_overhead.py --runs 3 -- python3 my_script.py --flag

Three modes per command, run interleaved (plain, cycles, cycles+sites, plain, ...) so a
burst of load from elsewhere hits all alike:

- plain: the command as it is;
- cycles: the helper injected as memgate injects it (its two files in a folder of their
  own, first on PYTHONPATH; MEMGATE_DIAG_DIR set; MEMGATE_DIAG_SITES=0): the cyclic
  garbage report;
- sites: the same with MEMGATE_DIAG_SITES=1 (tracemalloc, 5 frames).

By default the commands are the refcycle example's two variants over data made by its
make_data.py (200,000 rows), and the cycle variant's reports must still name the bug:
`Frame.ww -> StrongWW._frame_ref -> Frame`.

Prints a markdown report on stdout (progress on stderr): per command and mode the median
wall time and peak RSS (each run's own, from wait4) and their ratios to plain, and the
exact commands. Targets: cycles <= 1.3x plain, sites <= 3x plain, wall time. Exits 1 when
a run fails, the example's answer is missing, or a target is missed, after printing every
figure.

Python 3 standard library only.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, die, finish, log, table

HELPER = ROOT / "src" / "diagnose" / "python"
EXAMPLE = ROOT / "examples" / "refcycle"
TARGETS = {"cycles": 1.3, "sites": 3.0}  # wall time, as a multiple of plain
MODES = ("plain", "cycles", "sites")
ANSWER = "Frame.ww -> StrongWW._frame_ref -> Frame"
TIMEOUT = 3600  # seconds per run


class RunFailed(Exception):
    pass


def run_once(argv, env, cwd):
    """(wall seconds, peak RSS bytes) of one run; its own rusage, not the session's."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # wait4 gives this child's high-water mark; RUSAGE_CHILDREN would give the largest
    # child so far.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise RunFailed(f"`{shlex.join(argv)}` exited with {proc.returncode}: {err.strip()[-500:]}")
    if err.strip():
        log(f"stderr of `{shlex.join(argv)}`: {err.strip()[-300:]}")
    return wall, usage.ru_maxrss * 1024


def env_for(mode, helper_dir, reports):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMGATE_DIAG")}
    if mode == "plain":
        return env
    previous = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(helper_dir) + (os.pathsep + previous if previous else "")
    env["MEMGATE_DIAG_DIR"] = str(reports)
    env["MEMGATE_DIAG_SITES"] = "1" if mode == "sites" else "0"
    return env


def read_reports(folder):
    out = []
    for path in sorted(folder.glob("py-*.json")):
        out.append(json.loads(path.read_text()))
    return out


def summary_of(reports):
    """The figures of the helper's own worth quoting: its answer and its costs."""
    frame = None
    analysis = 0.0
    sites_top = None
    for r in reports:
        analysis += r["gc"]["analysis_s"]
        for t in r["cycles"]["types"]:
            if t["type"] == "__main__.Frame":
                frame = t
        if r.get("sites") and r["sites"]["top"]:
            top = r["sites"]["top"][0]
            sites_top = f"{top['file']}:{top['line']} {top['bytes'] / 2**20:.1f} MiB"
    return {"frame": frame, "analysis_s": analysis, "sites_top": sites_top}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per mode (default 5)")
    ap.add_argument("--rows", type=int, default=200000,
                    help="rows of the example's data (default 200,000)")
    ap.add_argument("--quick", action="store_true",
                    help="1 run per mode over 20,000 rows: a smoke run, not a measurement")
    ap.add_argument("command", nargs="*",
                    help="a Python command to measure instead of the example (after --)")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.rows = 1, 20000
    if args.runs < 1:
        die("--runs must be at least 1")

    failures, misses = [], []
    with tempfile.TemporaryDirectory(prefix="memgate-python-overhead-") as tmpname:
        tmp = Path(tmpname)
        # The helper's two files in a folder of their own, as memgate installs them.
        helper_dir = tmp / "helper"
        helper_dir.mkdir()
        for name in ("sitecustomize.py", "memgate_diag.py"):
            shutil.copy(HELPER / name, helper_dir / name)

        if args.command:
            commands = [("command", args.command)]
            cwd = Path.cwd()
        else:
            data = tmp / "trips.csv"
            make = [sys.executable, str(EXAMPLE / "make_data.py"), "--rows", str(args.rows),
                    "--out", str(data)]
            log("data: " + shlex.join(make))
            subprocess.run(make, check=True, stdout=subprocess.DEVNULL)
            commands = [(f"pipeline {v}", [sys.executable, str(EXAMPLE / "pipeline.py"),
                                           "--data", str(data), "--variant", v])
                        for v in ("cycle", "weakref")]
            cwd = EXAMPLE

        results = {}  # (label, mode) -> [(wall, rss)]
        helped = {}  # (label, mode) -> summary of the last run's reports
        for i in range(args.runs):
            for label, argv in commands:
                for mode in MODES:
                    reports = tmp / f"reports-{len(results)}-{i}-{mode}"
                    reports.mkdir()
                    log(f"run {i + 1}/{args.runs}: {label}, {mode}")
                    try:
                        wall, rss = run_once(argv, env_for(mode, helper_dir, reports), cwd)
                    except RunFailed as e:
                        failures.append(f"{label} ({mode}): {e}")
                        continue
                    results.setdefault((label, mode), []).append((wall, rss))
                    if mode != "plain":
                        found = read_reports(reports)
                        if not found:
                            failures.append(f"{label} ({mode}): no report in {reports}")
                        helped[(label, mode)] = summary_of(found)
                    shutil.rmtree(reports)

        # ---- print -------------------------------------------------------------------
        p = print
        p("# memgate's Python helper: overhead" + (" (--quick: smoke run)" if args.quick else ""))
        p()
        p(f"- {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} cpus, "
          f"{args.runs} runs per mode, interleaved; medians")
        if not args.command:
            p(f"- data: the refcycle example's make_data.py, {args.rows} rows")
        p()
        for label, argv in commands:
            p(f"## {label}")
            p()
            p(f"`{shlex.join(argv)}` (in {cwd})")
            p()
            rows = []
            base = results.get((label, "plain"))
            base_wall = statistics.median(w for w, _ in base) if base else None
            base_rss = statistics.median(r for _, r in base) if base else None
            for mode in MODES:
                runs = results.get((label, mode))
                if not runs:
                    rows.append([mode, "failed", "", "", ""])
                    continue
                wall = statistics.median(w for w, _ in runs)
                rss = statistics.median(r for _, r in runs)
                ratio = wall / base_wall if base_wall else float("nan")
                rss_ratio = rss / base_rss if base_rss else float("nan")
                rows.append([mode, f"{wall:.2f}", f"{ratio:.2f}x", f"{rss / 2**20:.0f}",
                             f"{rss_ratio:.2f}x"])
                target = TARGETS.get(mode)
                if target and base_wall and ratio > target:
                    misses.append(f"{label}: {mode} took {ratio:.2f}x plain (target {target}x)")
            p(table(["mode", "wall s", "wall / plain", "peak RSS MiB", "RSS / plain"], rows))
            p()
            for mode in ("cycles", "sites"):
                s = helped.get((label, mode))
                if not s:
                    continue
                frame = s["frame"]
                answer = (f"`{frame['cycle_text']}` ({frame['count']} frames, "
                          f"{frame['bytes'] / 2**20:.0f} MiB)" if frame else "no Frame")
                extra = f"; top site {s['sites_top']}" if s["sites_top"] else ""
                p(f"- {mode}: {answer}; helper's analysis {s['analysis_s']:.3f} s{extra}")
                if not args.command and label.endswith("cycle"):
                    if not frame or frame["cycle_text"] != ANSWER:
                        failures.append(f"{label} ({mode}): the report does not name {ANSWER}")
                if not args.command and label.endswith("weakref") and frame:
                    failures.append(f"{label} ({mode}): a Frame among the cyclic garbage")
            p()
        p("Environment of the helped runs: PYTHONPATH=<helper folder>[:$PYTHONPATH], "
          "MEMGATE_DIAG_DIR=<fresh folder>, MEMGATE_DIAG_SITES=0 (cycles) or 1 (sites).")
    finish(failures, misses)


if __name__ == "__main__":
    main()
