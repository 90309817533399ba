#!/usr/bin/env python3
"""Measures how close memgate's peak_memory is to the truth, from 1 to 512 processes,
while another process keeps a core busy (issue 9, "exact at scale").

Run from the repository root:

    python3 benches/exact.py                  # every case, 20 runs each (about 10 minutes)
    python3 benches/exact.py --quick          # 3 runs a case: a smoke run (about 2 minutes)
    python3 benches/exact.py --cases tree128  # some cases only
    python3 benches/exact.py --probe both     # everything under MEMGATE_PROBE=proc, then =auto

The truth is taken by `shapes watch` (tests/helper/shapes.c), which runs each measured
command as its child and samples the tree's PSS as densely as it can, on the same runs
memgate measures. The script builds memgate (`cargo build --release`) and the helper,
makes a venv with numpy for the forkserver case, writes its configs into a temporary
directory, prints a markdown report on stdout (progress goes to stderr), and exits 1 if
memgate fails or a target is missed -- after printing every figure it has. See
benches/README.md for what each figure means.

Python 3 standard library only.
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, build_memgate, build_shapes, die, finish, log, memgate_cmd, table


# Targets.
WITHIN = 0.03  # every run within 3% of the truth, or marked not exact ...
MARKED_MAX_PER_20 = 1  # ... with at most 1 run in 20 marked, up to ...
MARKED_UP_TO_PROCS = 128  # ... 128 processes
FORKSERVER_WITHIN = 0.01  # the forkserver pool: every run within 1%
SAMPLER_PCT = {"tree1": 1.0, "tree128": 5.0}  # sampler CPU, % of one core

RUNS = 20
QUICK_RUNS = 3
HOLD_MS = 3000
SUBPROCESS_TIMEOUT = 1800  # seconds; one case of 20 runs takes about 100 s


class MemgateFailed(Exception):
    """memgate exited non-zero, printed no usable JSON, or a benchmark did not succeed."""


# ---- the cases -----------------------------------------------------------------------

# name, processes in the tree (the watcher not counted), what it is.
CASES = [
    ("tree1", 1, f"`shapes hold 10 {HOLD_MS}`: one process holding 10 MiB"),
    ("tree8", 8, f"`shapes tree 7 10 {HOLD_MS}`: a parent and 7 children of 10 MiB"),
    ("tree32", 32, f"`shapes tree 31 10 {HOLD_MS}`: a parent and 31 children of 10 MiB"),
    ("tree128", 128, f"`shapes tree 127 10 {HOLD_MS}`: a parent and 127 children of 10 MiB"),
    ("tree512", 512, f"`shapes tree 511 2 {HOLD_MS}`: a parent and 511 children of 2 MiB"),
    ("sleep500", 501, "a shell with 500 `sleep 3` children"),
    ("forkserver", 7, "Python `multiprocessing` forkserver `Pool(4)`, each worker "
                      "holding 50 MiB (main, forkserver, resource tracker, 4 workers)"),
]
CASE_NAMES = [c[0] for c in CASES]

FORKSERVER_SCRIPT = '''\
"""A forkserver Pool(4) whose workers each hold 50 MiB at once (benches/exact.py)."""
import multiprocessing
import time
{import_line}

MIB = 1 << 20


def hold(seconds):
    block = {allocation}  # every page written
    time.sleep(seconds)
    return len(block)


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver")
    with multiprocessing.Pool(4) as pool:
        pool.map(hold, [{seconds}] * 4, chunksize=1)
'''


def case_argv(name, shapes, python, script):
    s = str(shapes)
    secs = str(HOLD_MS)
    return {
        "tree1": [s, "hold", "10", secs],
        "tree8": [s, "tree", "7", "10", secs],
        "tree32": [s, "tree", "31", "10", secs],
        "tree128": [s, "tree", "127", "10", secs],
        "tree512": [s, "tree", "511", "2", secs],
        "sleep500": ["sh", "-c", f"for i in $(seq 500); do sleep {HOLD_MS // 1000} & done; wait"],
        "forkserver": [str(python), str(script)],
    }[name]


# ---- setup ---------------------------------------------------------------------------


def setup_python(tmp, given):
    """An interpreter with numpy for the forkserver case: `given`, or a fresh venv with
    numpy installed by pip. Returns (python, numpy version or None, commands, note);
    without numpy the workers hold a bytearray instead, and the note says why."""
    check = "import numpy; print(numpy.__version__)"
    if given:
        r = subprocess.run([given, "-c", check], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode == 0:
            return Path(given), r.stdout.strip(), [], None
        return (Path(given), None, [],
                f"`{given}` cannot import numpy ({r.stderr.strip().splitlines()[-1:]})")
    venv = tmp / "venv"
    python = venv / "bin" / "python"
    cmds = [[sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "numpy"]]
    for cmd in cmds:
        log("python for the forkserver case: " + shlex.join(cmd))
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return Path(sys.executable), None, cmds, f"`{shlex.join(cmd)}` took over 900 s"
        if r.returncode != 0:
            tail = " ".join(r.stdout.strip().splitlines()[-2:])
            return (Path(sys.executable), None, cmds,
                    f"`{shlex.join(cmd)}` failed ({r.returncode}): {tail}")
    r = subprocess.run([str(python), "-c", check], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return Path(sys.executable), None, cmds, "numpy installed but cannot be imported"
    return python, r.stdout.strip(), cmds, None


def write_forkserver_script(tmp, numpy_version):
    if numpy_version:
        text = FORKSERVER_SCRIPT.format(import_line="import numpy",
                                        allocation="numpy.ones(50 * MIB // 8)",
                                        seconds=HOLD_MS / 1000)
    else:
        text = FORKSERVER_SCRIPT.format(import_line="",
                                        allocation='bytearray(b"\\x01") * (50 * MIB)',
                                        seconds=HOLD_MS / 1000)
    path = tmp / "forkserver_pool.py"
    path.write_text(text)
    return path


def write_config(path, name, argv):
    """One benchmark; YAML written by hand (the standard library has none); every value
    is JSON-quoted, which YAML reads as the same string. sample_interval is memgate's
    default (10ms): it is what is being judged."""
    lines = [
        "version: 1",
        "defaults: {repeat: 1, warmup: 0}",
        "benchmarks:",
        f"  - name: {name}",
        "    command: [" + ", ".join(json.dumps(a) for a in argv) + "]",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- running -------------------------------------------------------------------------


def shown_cmd(probe, cmd):
    return f"MEMGATE_PROBE={probe} " + shlex.join(cmd)


def run_memgate(exe, config, repeat, probe):
    """Runs memgate under MEMGATE_PROBE=probe; returns the parsed JSON."""
    cmd = memgate_cmd(exe, config, repeat)
    env = dict(os.environ, MEMGATE_PROBE=probe)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise MemgateFailed(f"`{shown_cmd(probe, cmd)}` still running after "
                            f"{SUBPROCESS_TIMEOUT} s")
    tail = "\n".join(r.stderr.strip().splitlines()[-10:])
    if r.returncode != 0:
        raise MemgateFailed(f"`{shown_cmd(probe, cmd)}` exited with {r.returncode}: {tail}")
    try:
        results = json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise MemgateFailed(f"`{shown_cmd(probe, cmd)}` printed no valid JSON ({e}): {tail}")
    benchmarks = results.get("benchmarks") or []
    if len(benchmarks) != 1:
        raise MemgateFailed(f"`{shown_cmd(probe, cmd)}` reported {len(benchmarks)} "
                            "benchmarks, expected 1")
    b = benchmarks[0]
    if b.get("status") != "ok":
        why = (b.get("failure") or {}).get("message", "no message")
        raise MemgateFailed(f"benchmark {b.get('benchmark')} has status {b.get('status')}: "
                            f"{why}")
    if len(b.get("runs", [])) != repeat:
        raise MemgateFailed(f"benchmark {b.get('benchmark')} has {len(b.get('runs', []))} "
                            f"runs, expected {repeat}")
    return results


def read_truths(path):
    """The watcher's report groups, one a run, in the order the runs ended."""
    if not path.exists():
        return []
    groups = []
    for block in path.read_text().split("\n\n"):
        if not block.strip():
            continue
        group = {}
        for line in block.strip().splitlines():
            key, value = line.split()
            group[key] = int(value)
        groups.append(group)
    return groups


def watch_argv(shapes, outfile, argv):
    return [str(shapes), "watch", str(outfile), "--"] + argv


def measure_case(exe, tmp, shapes, probe, name, argv, repeat):
    """memgate runs the watched command `repeat` times; each run's figures beside the
    truth the watcher appended for that same run."""
    outfile = tmp / f"truth-{probe}-{name}.txt"
    if outfile.exists():
        outfile.unlink()
    config = write_config(tmp / f"exact-{probe}-{name}.yml", name,
                          watch_argv(shapes, outfile, argv))
    t0 = time.perf_counter()
    res = run_memgate(exe, config, repeat, probe)
    elapsed = time.perf_counter() - t0
    runs = res["benchmarks"][0]["runs"]
    truths = read_truths(outfile)
    # memgate runs a benchmark's runs one after another and lists them in that order;
    # each watcher appends its group as its run ends: the i-th group is the i-th run.
    if len(truths) != len(runs):
        raise MemgateFailed(f"{name}: the watcher wrote {len(truths)} reports for "
                            f"{len(runs)} runs ({outfile})")
    rows = []
    for i, (run, truth) in enumerate(zip(runs, truths)):
        if truth.get("exit") != 0 or run.get("exit_code") != 0:
            raise MemgateFailed(f"{name} run {i + 1}: the command exited with "
                                f"{truth.get('exit')} (memgate says {run.get('exit_code')})")
        # memgate's contract: peak_memory is the tree's PSS at its largest, and never less
        # than the largest single process's high-water mark (the kernel's, which counts
        # that process's shared pages whole). The truth is the larger of the two.
        pss_b = truth["truth_kib"] * 1024
        hwm_b = truth.get("max_rss_kib", 0) * 1024
        truth_b = max(pss_b, hwm_b)
        # memgate's tree includes the watcher: take the watcher's own PSS off, as it was
        # when the watcher took its truth sample (the plateau memgate's peak comes from).
        # (Not off a high-water mark: that is one process's, not the watcher's.)
        self_b = truth["self_pss_at_truth_kib"] * 1024 if pss_b >= hwm_b else 0
        peak = run["peak_memory"]
        samples = run.get("samples") or {}
        rows.append({
            "truth": truth_b, "truth_pss": pss_b, "truth_hwm": hwm_b, "self": self_b, "self_end": truth["self_pss_kib"] * 1024,
            "peak": peak, "memgate": peak - self_b,
            "error": (peak - self_b - truth_b) / truth_b if truth_b else float("nan"),
            "max_rss": run.get("max_rss"),
            "quality": run.get("peak_quality"),
            "kept": samples.get("kept"), "due": samples.get("due"),
            "points": len((run.get("timeline") or {}).get("points") or []),
            "lower": run.get("peak_lower_bound"), "upper": run.get("peak_upper_bound"),
            "sampler_cpu": run["sampler_cpu_time"], "wall": run["wall_time"],
            "w_samples": truth["samples"], "w_dropped": truth["dropped"],
            "w_procs": truth["procs"], "w_wall_ms": truth["wall_ms"],
            "w_cpu_ms": truth["cpu_ms"],
        })
    return {"name": name, "probe": probe, "probe_used": res["testbed"].get("probe"),
            "config": config, "outfile": outfile, "runs": rows, "elapsed": elapsed,
            "result": res}


def sanity_check(tmp, shapes):
    """The watcher outside memgate on two shapes whose memory is known: it must find at
    least what they hold, and no more than their RSS (which counts shared pages whole)."""
    checks = [
        ("hold", [str(shapes), "hold", "100", "2000"], 100 * 1024),
        ("tree", [str(shapes), "tree", "7", "10", "2000"], 7 * 10 * 1024),
    ]
    out = []
    for label, argv, held_kib in checks:
        outfile = tmp / f"sanity-{label}.txt"
        rss_file = tmp / f"sanity-{label}-rss.txt"
        cmd = watch_argv(shapes, outfile, argv)
        log("watcher sanity check: " + shlex.join(cmd))
        r = subprocess.run(cmd, env=dict(os.environ, SHAPES_TRUTH=str(rss_file)),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=SUBPROCESS_TIMEOUT)
        groups = read_truths(outfile)
        rss = read_truths(rss_file)
        if r.returncode != 0 or len(groups) != 1 or len(rss) != 1:
            out.append({"label": label, "cmd": cmd, "failed":
                        f"exit {r.returncode}, {len(groups)} reports: {r.stderr.strip()}"})
            continue
        g = groups[0]
        rss_kib = rss[0]["truth_kib"]
        out.append({"label": label, "cmd": cmd, "held": held_kib, "rss": rss_kib,
                    "group": g, "ok": held_kib <= g["truth_kib"] <= rss_kib})
    return out


# ---- figures -------------------------------------------------------------------------


def summarize(case):
    runs = case["runs"]
    n = len(runs)
    errors = [r["error"] for r in runs]
    marked = sum(r["quality"] == "lower_bound" for r in runs)
    within = sum(abs(e) <= WITHIN for e in errors)
    qualities = {}
    for r in runs:
        qualities[r["quality"]] = qualities.get(r["quality"], 0) + 1
    has_samples = all(r["kept"] is not None for r in runs)
    kept = sum(r["kept"] for r in runs) if has_samples else None
    due = (sum(r["due"] for r in runs)
           if has_samples and all(r["due"] is not None for r in runs) else None)
    points = sum(r["points"] for r in runs)
    cpu = sum(r["sampler_cpu"] for r in runs)
    wall = sum(r["wall"] for r in runs)
    per_sample_n = kept if has_samples else points
    bounded = [r for r in runs if r["lower"] is not None and r["upper"] is not None]
    in_bounds = sum(r["lower"] - r["self"] <= r["truth"] <= r["upper"] - r["self"]
                    for r in bounded)
    return {
        "n": n,
        "truth_med": statistics.median(r["truth"] for r in runs),
        "memgate_med": statistics.median(r["memgate"] for r in runs),
        "err_med": statistics.median(errors), "err_min": min(errors), "err_max": max(errors),
        "within": within, "marked": marked,
        "ok_runs": sum(abs(r["error"]) <= WITHIN or r["quality"] == "lower_bound"
                       for r in runs),
        "within_1pct": sum(abs(e) <= FORKSERVER_WITHIN for e in errors),
        "qualities": qualities,
        "kept": kept, "due": due, "points": points,
        "cpu": cpu, "wall": wall, "pct": 100.0 * cpu / wall if wall else float("nan"),
        "us_per_sample": cpu / per_sample_n * 1e6 if per_sample_n else float("nan"),
        "from_max_rss": sum(r["max_rss"] is not None and r["peak"] == r["max_rss"]
                            for r in runs),
        "bounded": len(bounded), "in_bounds": in_bounds,
        "lower_err": (statistics.median((r["lower"] - r["self"] - r["truth"]) / r["truth"]
                                        for r in bounded) if bounded else None),
        "upper_err": (statistics.median((r["upper"] - r["self"] - r["truth"]) / r["truth"]
                                        for r in bounded) if bounded else None),
        "w_procs": statistics.median(r["w_procs"] for r in runs),
        "w_samples_med": statistics.median(r["w_samples"] for r in runs),
        "w_dropped": sum(r["w_dropped"] for r in runs),
        "w_samples": sum(r["w_samples"] for r in runs),
        "w_rate": statistics.median(r["w_samples"] / (r["w_wall_ms"] / 1e3)
                                    for r in runs if r["w_wall_ms"] > 0),
        "w_cpu_pct": 100.0 * sum(r["w_cpu_ms"] for r in runs)
                     / max(1, sum(r["w_wall_ms"] for r in runs)),
        "wall_delta_ms": max(abs(r["w_wall_ms"] - r["wall"] * 1e3) for r in runs),
        "self_med": statistics.median(r["self"] for r in runs),
        "self_end_med": statistics.median(r["self_end"] for r in runs),
    }


def check_targets(case, s):
    """The targets this case is held to: [(what, met)]."""
    name, n = case["name"], s["n"]
    procs = dict((c[0], c[1]) for c in CASES)[name]
    out = []
    out.append((f"every run within {WITHIN:.0%} of the truth or marked not exact: "
                f"{s['ok_runs']}/{n}", s["ok_runs"] == n))
    if procs <= MARKED_UP_TO_PROCS:
        allowed = n * MARKED_MAX_PER_20 // 20
        out.append((f"marked not exact ≤ {MARKED_MAX_PER_20} in 20 "
                    f"(≤ {allowed} of {n}): {s['marked']}", s["marked"] <= allowed))
    if name == "forkserver":
        out.append((f"within {FORKSERVER_WITHIN:.0%} in every run: {s['within_1pct']}/{n}",
                    s["within_1pct"] == n))
    if name in SAMPLER_PCT:
        out.append((f"sampler CPU ≤ {SAMPLER_PCT[name]:g}% of one core: {s['pct']:.2f}%",
                    s["pct"] <= SAMPLER_PCT[name]))
    return out


# ---- report --------------------------------------------------------------------------


def mib(b):
    return f"{b / 1048576:.2f} MiB"


def pct(x):
    return f"{x * 100:+.2f}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_RUNS} runs a case: a smoke run, not a measurement")
    ap.add_argument("--runs", type=int, default=None,
                    help=f"runs a case (default {RUNS}, {QUICK_RUNS} with --quick)")
    ap.add_argument("--cases", default=",".join(CASE_NAMES),
                    help="comma-separated cases to run, of: " + ", ".join(CASE_NAMES))
    ap.add_argument("--probe", choices=["auto", "proc", "both"], default="auto",
                    help="MEMGATE_PROBE for memgate: auto (its default: a cgroup where it "
                         "may make one), proc (the /proc sampler), or both, one after the "
                         "other")
    ap.add_argument("--keep", default=None, metavar="DIR",
                    help="save memgate's JSON and the watcher's reports of each case in DIR")
    ap.add_argument("--python", default=None,
                    help="an interpreter with numpy for the forkserver case, instead of "
                         "a fresh venv")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASE_NAMES]
    if unknown or not cases:
        die(f"unknown case(s) {', '.join(unknown) or '(none given)'}: pick from "
            + ", ".join(CASE_NAMES))
    cases = [c for c in CASE_NAMES if c in cases]
    repeat = args.runs or (QUICK_RUNS if args.quick else RUNS)
    probes = ["proc", "auto"] if args.probe == "both" else [args.probe]

    exe = build_memgate()
    failures = []  # memgate or the watcher failed
    misses = []  # targets missed

    with tempfile.TemporaryDirectory(prefix="memgate-exact-") as tmpname:
        tmp = Path(tmpname)
        shapes = build_shapes(tmp)
        python, numpy_version, python_cmds, python_note = Path(sys.executable), None, [], None
        script = None
        if "forkserver" in cases:
            python, numpy_version, python_cmds, python_note = setup_python(tmp, args.python)
            if python_note:
                log(f"no numpy ({python_note}): the forkserver workers hold a bytearray")
            script = write_forkserver_script(tmp, numpy_version)

        load_cmd = [sys.executable, "-c", "while True: pass"]
        log("CPU load: " + shlex.join(load_cmd))
        load = subprocess.Popen(load_cmd)
        results = []
        started = time.perf_counter()
        try:
            sanity = sanity_check(tmp, shapes)
            for s in sanity:
                if s.get("failed"):
                    failures.append(f"watcher sanity check {s['label']}: {s['failed']}")
                elif not s["ok"]:
                    failures.append(
                        f"watcher sanity check {s['label']}: truth {s['group']['truth_kib']} "
                        f"kB is outside [{s['held']} kB held, {s['rss']} kB RSS]")
            for probe in probes:
                for name in cases:
                    argv = case_argv(name, shapes, python, script)
                    log(f"MEMGATE_PROBE={probe} {name}: {repeat} runs")
                    try:
                        case = measure_case(exe, tmp, shapes, probe, name, argv, repeat)
                    except MemgateFailed as e:
                        failures.append(f"MEMGATE_PROBE={probe} {name}: {e}")
                        results.append({"name": name, "probe": probe, "failed": str(e),
                                        "config": tmp / f"exact-{probe}-{name}.yml"})
                        continue
                    if args.keep:
                        keep = Path(args.keep)
                        keep.mkdir(parents=True, exist_ok=True)
                        (keep / f"{probe}-{name}.json").write_text(
                            json.dumps(case["result"], indent=1) + "\n")
                        (keep / f"{probe}-{name}.truth.txt").write_text(
                            case["outfile"].read_text())
                    case["summary"] = summarize(case)
                    s = case["summary"]
                    log(f"  {case['elapsed']:.0f} s; error median {pct(s['err_med'])}, "
                        f"min {pct(s['err_min'])}, max {pct(s['err_max'])}")
                    results.append(case)
        finally:
            load.kill()
            load.wait()
        total = time.perf_counter() - started

        # ---- print -------------------------------------------------------------------
        ok_cases = [c for c in results if not c.get("failed")]
        tb = ok_cases[0]["result"]["testbed"] if ok_cases else {}
        version = ok_cases[0]["result"].get("memgate_version", "?") if ok_cases else "?"
        p = print
        p("# memgate's peak against the truth" +
          (" (--quick: smoke run, not a measurement)" if args.quick else ""))
        p()
        p(f"- memgate {version} ({exe})")
        if tb:
            p(f"- testbed: cpu {tb.get('cpu')}, {tb.get('cores')} cores, {tb.get('os')} "
              f"{tb.get('kernel')}, {tb.get('arch')}")
        p(f"- {repeat} runs a case (`--repeat {repeat} --warmup 0`), sample_interval "
          f"memgate's default (10ms); MEMGATE_PROBE: {', '.join(probes)}; "
          f"{total:.0f} s in all")
        p(f"- CPU load: `{shlex.join(load_cmd)}` kept one core busy throughout")
        p("- truth: `shapes watch` runs each command as its child and samples the tree's PSS "
          "as fast as it can (it also keeps a core busy doing so); the truth is the larger of "
          "its largest sample and the largest high-water mark of a process it reaped "
          "(memgate's contract: peak_memory is never less than max_rss); memgate's figure is "
          "`peak_memory` minus the watcher's own PSS where the truth is a PSS sample")
        if "forkserver" in cases:
            if numpy_version:
                p(f"- forkserver: workers hold `numpy.ones` of 50 MiB, numpy {numpy_version} "
                  f"({python})")
            else:
                p(f"- forkserver: **no numpy** ({python_note}); workers hold a 50 MiB "
                  f"bytearray instead ({python})")
        p()
        p("Cases:")
        p()
        for name, procs, what in CASES:
            if name in cases:
                p(f"- {name} ({procs} process{'es' if procs > 1 else ''}): {what}")
        p()

        p("## The watcher on known shapes (outside memgate, under the same load)")
        p()
        p("held ≤ truth ≤ RSS: the truth must count at least what the shape holds, and at "
          "most the shape's own RSS-based figure (`SHAPES_TRUTH`: VmHWM, or the sum of the "
          "processes' VmRSS, which counts each shared page in every process).")
        p()
        rows = []
        for s in sanity:
            cmd = "`shapes watch OUT " + " ".join(s["cmd"][4:]).replace(str(shapes), "shapes") + "`"
            if s.get("failed"):
                rows.append([cmd] + ["failed"] * 6)
                continue
            g = s["group"]
            rows.append([cmd, f"{s['held']} kB", f"{g['truth_kib']} kB", f"{s['rss']} kB",
                         f"{g['samples']} / {g['dropped']}", g["procs"],
                         "ok" if s["ok"] else "OUT OF RANGE"])
        p(table(["command", "held", "truth", "RSS", "samples kept / dropped",
                 "processes", "held ≤ truth ≤ RSS"], rows, text_columns=2))
        p()

        p("## memgate against the truth, run by run")
        p()
        p("error = (peak_memory − watcher's own PSS − truth) / truth, per run; "
          f"within = |error| ≤ {WITHIN:.0%}; not exact = peak_quality `lower_bound`. "
          "Sampler CPU = Σ sampler_cpu_time / Σ wall_time, % of one core; CPU per sample = "
          "Σ sampler_cpu_time / Σ samples kept (timeline points where memgate does not "
          "report `samples`).")
        p()
        rows = []
        for c in results:
            if c.get("failed"):
                rows.append([c["probe"], c["name"]] + ["memgate failed"] + [""] * 12)
                continue
            s = c["summary"]
            q = ", ".join(f"{k} {v}" for k, v in sorted(
                (k, v) for k, v in s["qualities"].items() if k is not None))
            samples = (f"{s['kept']} / {s['due'] if s['due'] is not None else '—'}"
                       if s["kept"] is not None else f"— ({s['points']} points)")
            rows.append([
                c["probe"] + (f" ({c['probe_used']})" if c["probe_used"] else ""),
                c["name"], f"{s['w_procs']:g}", s["n"],
                mib(s["truth_med"]), mib(s["memgate_med"]),
                pct(s["err_med"]), pct(s["err_min"]), pct(s["err_max"]),
                f"{s['within']}/{s['n']}", f"{s['marked']}/{s['n']}", q or "—",
                samples, f"{s['pct']:.2f}%", f"{s['us_per_sample']:.0f} µs",
            ])
        p(table(["MEMGATE_PROBE (probe)", "case", "processes", "runs", "truth median",
                 "memgate median", "error median", "error min", "error max",
                 f"within {WITHIN:.0%}", "not exact", "peak_quality", "samples kept / due",
                 "sampler CPU", "CPU per sample"], rows, text_columns=2))
        p()

        p("## Why memgate says what it says")
        p()
        p("from max_rss = runs whose peak_memory equals max_rss (the largest single "
          "process's high-water mark, which counts shared pages whole) rather than a "
          "sample; truth in bounds = runs with peak_lower_bound ≤ truth ≤ peak_upper_bound "
          "(both less the watcher's PSS), where memgate reports bounds, and the medians of "
          "(bound − watcher's PSS − truth) / truth for each bound.")
        p()
        rows = []
        for c in ok_cases:
            s = c["summary"]
            if s["bounded"]:
                bounds = [f"{s['in_bounds']}/{s['bounded']}",
                          f"{pct(s['lower_err'])} / {pct(s['upper_err'])}"]
            else:
                bounds = ["— (no bounds)", "—"]
            rows.append([c["probe"], c["name"], f"{s['from_max_rss']}/{s['n']}"] + bounds)
        p(table(["MEMGATE_PROBE", "case", "from max_rss", "truth in bounds",
                 "bounds against the truth (medians)"], rows, text_columns=2))
        p()

        p("## The truth")
        p()
        p("Watcher samples kept per run (median) and per second (median); dropped = samples "
          "whose tree changed during the reads, summed over the runs; the watcher's own "
          "PSS when it took its truth sample (what is subtracted) and at its end; its CPU "
          "as % of one core; max wall Δ = the largest |watcher's wall_ms − memgate's "
          "wall_time| of a run, which checks that runs and reports are paired right.")
        p()
        rows = []
        for c in ok_cases:
            s = c["summary"]
            dropped_pct = 100.0 * s["w_dropped"] / max(1, s["w_dropped"] + s["w_samples"])
            rows.append([c["probe"], c["name"], f"{s['w_samples_med']:g}",
                         f"{s['w_rate']:.0f}/s", f"{s['w_dropped']} ({dropped_pct:.1f}%)",
                         f"{s['self_med'] / 1024:.0f} kB", f"{s['self_end_med'] / 1024:.0f} kB",
                         f"{s['w_cpu_pct']:.0f}%", f"{s['wall_delta_ms']:.0f} ms"])
        p(table(["MEMGATE_PROBE", "case", "kept per run", "kept per second", "dropped",
                 "own PSS at truth", "own PSS at end", "watcher CPU",
                 "max wall Δ"], rows, text_columns=2))
        p()

        p("## Targets")
        p()
        for c in ok_cases:
            for what, met in check_targets(c, c["summary"]):
                p(f"- MEMGATE_PROBE={c['probe']} {c['name']}: {what}: "
                  + ("met" if met else "**missed**"))
                if not met:
                    misses.append(f"MEMGATE_PROBE={c['probe']} {c['name']}: {what}")
        for c in results:
            if c.get("failed"):
                p(f"- MEMGATE_PROBE={c['probe']} {c['name']}: memgate failed, not measured")
        p()

        p("## Runs (error per run, in order; * marks peak_quality lower_bound)")
        p()
        for c in ok_cases:
            p(f"- {c['probe']} {c['name']}: " + ", ".join(
                f"{r['error'] * 100:+.2f}" + ("*" if r["quality"] == "lower_bound" else "")
                for r in c["runs"]))
        p()

        p("## Commands")
        p()
        p("```sh")
        for cmd in python_cmds:
            p(shlex.join(cmd))
        p(shlex.join(load_cmd) + " &")
        for s in sanity:
            p(f"SHAPES_TRUTH={shlex.quote(str(tmp / ('sanity-' + s['label'] + '-rss.txt')))} "
              + shlex.join(s["cmd"]))
        for c in results:
            p(shown_cmd(c["probe"], memgate_cmd(exe, c["config"], repeat)))
        p("```")
        p()
        p("Configs and the forkserver script (in the temporary directory, removed on exit):")
        p()
        shown = [c["config"] for c in results] + ([script] if script else [])
        for path in shown:
            if path.exists():
                p(f"`{path}`:")
                p("```yaml" if path.suffix == ".yml" else "```python")
                p(path.read_text().rstrip())
                p("```")
        sys.stdout.flush()

    finish(failures, misses)


if __name__ == "__main__":
    main()
