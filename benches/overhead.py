#!/usr/bin/env python3
"""Measures memgate's own overhead: per-run cost against the bare command, and the CPU
its sampler thread uses while it watches a run.

Run from the repository root:

    python3 benches/overhead.py           # the full measurement (about 1.5 minutes)
    python3 benches/overhead.py --quick   # fewer repeats: a smoke run (about 20 seconds)

It builds memgate (`cargo build --release`) and the `shapes` test helper, writes its
configs into a temporary directory, prints a markdown report on stdout (progress goes to
stderr), and exits 1 if memgate fails or a target is missed -- after printing every
figure it has. See benches/README.md for what each figure means.

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
OVERHEAD_REL = 0.01  # memgate's extra cost per run: at most 1% of the bare run ...
OVERHEAD_ABS_MS = 2.0  # ... plus 2 ms
SAMPLER_SINGLE_PCT = 1.0  # sampler CPU for a single process: at most 1% of one core

SAMPLE_INTERVAL = "10ms"
SUBPROCESS_TIMEOUT = 600  # seconds; no single step should come near this


class MemgateFailed(Exception):
    """memgate exited non-zero, printed no usable JSON, or a benchmark did not succeed."""


# ---- setup ---------------------------------------------------------------------------


def write_config(path, benchmarks):
    """benchmarks: [(name, argv)]. YAML written by hand (the standard library has none);
    every value is JSON-quoted, which YAML reads as the same string."""
    lines = [
        "version: 1",
        f"defaults: {{repeat: 1, warmup: 0, sample_interval: {SAMPLE_INTERVAL}}}",
        "benchmarks:",
    ]
    for name, argv in benchmarks:
        lines.append(f"  - name: {name}")
        lines.append("    command: [" + ", ".join(json.dumps(a) for a in argv) + "]")
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- running -------------------------------------------------------------------------


def run_memgate(exe, config, repeat):
    """Runs memgate; returns (elapsed seconds, parsed JSON). Raises MemgateFailed."""
    cmd = memgate_cmd(exe, config, repeat)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise MemgateFailed(f"`{shlex.join(cmd)}` still running after {SUBPROCESS_TIMEOUT} s")
    elapsed = time.perf_counter() - t0
    tail = "\n".join(r.stderr.strip().splitlines()[-10:])
    if r.returncode != 0:
        raise MemgateFailed(f"`{shlex.join(cmd)}` exited with {r.returncode}: {tail}")
    try:
        results = json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise MemgateFailed(f"`{shlex.join(cmd)}` printed no valid JSON ({e}): {tail}")
    for b in results.get("benchmarks", []):
        if b.get("status") != "ok":
            why = (b.get("failure") or {}).get("message", "no message")
            raise MemgateFailed(f"benchmark {b.get('benchmark')} has status "
                                f"{b.get('status')}: {why}")
        if len(b.get("runs", [])) != repeat:
            raise MemgateFailed(f"benchmark {b.get('benchmark')} has {len(b.get('runs', []))} "
                                f"runs, expected {repeat}")
    if not results.get("benchmarks"):
        raise MemgateFailed(f"`{shlex.join(cmd)}` reported no benchmarks")
    return elapsed, results


def bare_cmd(argv, k):
    loop = f"i=0; while [ $i -lt {k} ]; do {shlex.join(argv)}; i=$((i+1)); done"
    return ["sh", "-c", loop]


def run_bare(argv, k):
    """Total elapsed seconds of a shell loop running argv k times."""
    cmd = bare_cmd(argv, k)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=SUBPROCESS_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        die(f"the bare loop `{shlex.join(cmd)}` failed ({r.returncode}): {r.stderr.strip()}")
    return elapsed


# ---- measurements --------------------------------------------------------------------


def measure_overhead(exe, tmp, label, argv, k, k0, trials):
    """ABAB: per trial, the bare loop, then memgate with --repeat k and --repeat k0."""
    config = write_config(tmp / f"overhead-{label}.yml", [(label, argv)])
    bare, memgate, wall = [], [], []
    for t in range(trials):
        log(f"  {label}: trial {t + 1}/{trials}")
        bare.append(run_bare(argv, k) / k)
        t_k, res = run_memgate(exe, config, k)
        t_k0, _ = run_memgate(exe, config, k0)
        memgate.append((t_k - t_k0) / (k - k0))
        wall.extend(res["benchmarks"][0]["metrics"]["wall_time"]["samples"])
    bare_ms = statistics.median(bare) * 1e3
    mg_ms = statistics.median(memgate) * 1e3
    wall_ms = statistics.median(wall) * 1e3
    over_ms = mg_ms - bare_ms
    limit_ms = OVERHEAD_REL * bare_ms + OVERHEAD_ABS_MS
    return {
        "label": label, "argv": argv, "k": k, "k0": k0, "trials": trials, "config": config,
        "bare_trials_ms": [x * 1e3 for x in bare],
        "memgate_trials_ms": [x * 1e3 for x in memgate],
        "bare_ms": bare_ms, "memgate_ms": mg_ms, "overhead_ms": over_ms,
        "overhead_pct": 100.0 * over_ms / bare_ms, "limit_ms": limit_ms,
        "ok": over_ms <= limit_ms,
        "wall_ms": wall_ms, "wall_n": len(wall),
    }


def measure_sampler(exe, tmp, shapes, repeat):
    trees = [
        ("single", 1, [str(shapes), "hold", "10", "3000"]),
        ("tree8", 9, [str(shapes), "tree", "8", "10", "3000"]),
        ("tree32", 33, [str(shapes), "tree", "32", "10", "3000"]),
    ]
    config = write_config(tmp / "sampler.yml", [(name, argv) for name, _, argv in trees])
    log(f"  sampler: {len(trees)} trees x {repeat} runs of about 3 s")
    _, res = run_memgate(exe, config, repeat)
    by_name = {b["benchmark"]: b for b in res["benchmarks"]}
    rows = []
    for name, procs, argv in trees:
        runs = by_name[name]["runs"]
        cpu = sum(r["sampler_cpu_time"] for r in runs)
        wall = sum(r["wall_time"] for r in runs)
        samples = sum(len(r["timeline"]["points"]) for r in runs)
        pct = 100.0 * cpu / wall
        rows.append({
            "name": name, "procs": procs, "argv": argv, "runs": len(runs),
            "cpu_s": cpu, "wall_s": wall, "samples": samples, "pct": pct,
            "us_per_sample": (cpu / samples * 1e6) if samples else float("nan"),
            "target": SAMPLER_SINGLE_PCT if procs == 1 else None,
            "ok": pct <= SAMPLER_SINGLE_PCT if procs == 1 else True,
        })
    return config, rows


# ---- report --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repeats: a smoke run, not a measurement")
    args = ap.parse_args()

    if args.quick:
        plan = [("burn1ms", "1", 50, 1, 2), ("burn1s", "1000", 2, 1, 1)]
        sampler_repeat = 1
    else:
        plan = [("burn1ms", "1", 200, 1, 5), ("burn1s", "1000", 5, 1, 3)]
        sampler_repeat = 3

    exe = build_memgate()
    failures = []  # memgate failures
    misses = []  # targets missed

    with tempfile.TemporaryDirectory(prefix="memgate-overhead-") as tmpname:
        tmp = Path(tmpname)
        shapes = build_shapes(tmp)

        # A first short run: the testbed for the header, and warm caches for what follows.
        probe_cfg = write_config(tmp / "probe.yml", [("probe", [str(shapes), "burn", "1"])])
        try:
            _, probe = run_memgate(exe, probe_cfg, 1)
        except MemgateFailed as e:
            die(f"memgate failed: {e}")

        overhead = []
        for label, ms, k, k0, trials in plan:
            log(f"per-run overhead: {label} (K={k}, K0={k0}, {trials} trials)")
            try:
                overhead.append(measure_overhead(exe, tmp, label,
                                                 [str(shapes), "burn", ms], k, k0, trials))
            except MemgateFailed as e:
                failures.append(f"{label}: {e}")
                overhead.append({"label": label, "failed": True,
                                 "argv": [str(shapes), "burn", ms], "k": k, "k0": k0,
                                 "trials": trials})

        log("sampler CPU use")
        sampler_cfg, sampler = None, []
        try:
            sampler_cfg, sampler = measure_sampler(exe, tmp, shapes, sampler_repeat)
        except MemgateFailed as e:
            failures.append(f"sampler: {e}")

        # ---- print -------------------------------------------------------------------
        tb = probe["testbed"]
        p = print
        p("# memgate overhead" + (" (--quick: smoke run, not a measurement)" if args.quick else ""))
        p()
        p(f"- memgate {probe['memgate_version']} ({exe})")
        p(f"- testbed: cpu {tb['cpu']}, {tb['cores']} cores, {tb['os']} {tb['kernel']}, "
          f"{tb['arch']}, memory probe {tb['probe']}")
        p(f"- sample_interval {SAMPLE_INTERVAL}")
        p()

        p("## Per-run overhead against the bare command")
        p()
        p("bare = shell loop elapsed / K; memgate = (elapsed of --repeat K − elapsed of "
          "--repeat K0) / (K − K0); medians over the trials (run ABAB: bare, memgate, ...).")
        p(f"Target: overhead ≤ {OVERHEAD_REL:.0%} of bare + {OVERHEAD_ABS_MS:g} ms.")
        p()
        rows = []
        for o in overhead:
            cmd = "`shapes " + " ".join(o["argv"][1:]) + "`"
            if o.get("failed"):
                rows.append([cmd, o["k"], o["k0"], o["trials"]] + ["memgate failed"] * 5)
                continue
            rows.append([
                cmd, o["k"], o["k0"], o["trials"],
                f"{o['bare_ms']:.3f} ms", f"{o['memgate_ms']:.3f} ms",
                f"{o['overhead_ms']:+.3f} ms", f"{o['overhead_pct']:+.2f}%",
                f"≤ {o['limit_ms']:.3f} ms: " + ("ok" if o["ok"] else "MISSED"),
            ])
            if not o["ok"]:
                misses.append(f"{o['label']}: overhead {o['overhead_ms']:.3f} ms per run "
                              f"> {o['limit_ms']:.3f} ms")
        p(table(["command", "K", "K0", "trials", "bare per run", "memgate per run",
                 "overhead per run", "overhead %", "target"], rows))
        p()

        p("## memgate's reported wall_time against the bare per-run time")
        p()
        p("wall_time median = median of every measured run's wall_time in the --repeat K "
          "invocations (no target).")
        p()
        rows = []
        for o in overhead:
            cmd = "`shapes " + " ".join(o["argv"][1:]) + "`"
            if o.get("failed"):
                rows.append([cmd] + ["memgate failed"] * 5)
                continue
            d = o["wall_ms"] - o["bare_ms"]
            rows.append([cmd, o["wall_n"], f"{o['wall_ms']:.3f} ms", f"{o['bare_ms']:.3f} ms",
                         f"{d:+.3f} ms", f"{100.0 * d / o['bare_ms']:+.2f}%"])
        p(table(["command", "runs", "wall_time median", "bare per run",
                 "wall_time − bare", "as % of bare"], rows))
        p()

        p(f"## Sampler CPU use (sample_interval {SAMPLE_INTERVAL}, repeat {sampler_repeat}, "
          "warmup 0)")
        p()
        p("sampler CPU = Σ sampler_cpu_time / Σ wall_time over the runs, as % of one core. "
          f"Target for a single process: ≤ {SAMPLER_SINGLE_PCT:g}%.")
        p()
        rows = []
        for s in sampler:
            target = (f"≤ {s['target']:g}%: " + ("ok" if s["ok"] else "MISSED")
                      if s["target"] is not None else "—")
            rows.append([
                "`shapes " + " ".join(s["argv"][1:]) + "`", s["procs"], s["runs"],
                f"{s['wall_s']:.3f} s", f"{s['cpu_s'] * 1e3:.2f} ms", s["samples"],
                f"{s['us_per_sample']:.1f} µs", f"{s['pct']:.3f}%", target,
            ])
            if not s["ok"]:
                misses.append(f"sampler, {s['procs']} process(es): {s['pct']:.3f}% of one "
                              f"core > {s['target']:g}%")
        if not sampler:
            rows.append(["sampler benchmarks"] + ["memgate failed"] * 8)
        p(table(["command", "processes", "runs", "Σ wall_time", "Σ sampler_cpu_time",
                 "samples", "CPU per sample", "sampler CPU (% of one core)", "target"], rows))
        p()

        p("## Trials (per-run ms, in order)")
        p()
        for o in overhead:
            if o.get("failed"):
                continue
            p(f"- {o['label']} bare:    " + ", ".join(f"{x:.3f}" for x in o["bare_trials_ms"]))
            p(f"- {o['label']} memgate: " + ", ".join(f"{x:.3f}" for x in o["memgate_trials_ms"]))
        p()

        p("## Commands")
        p()
        p("```sh")
        for o in overhead:
            cfg = tmp / f"overhead-{o['label']}.yml"
            p(shlex.join(bare_cmd(o["argv"], o["k"])))
            p(shlex.join(memgate_cmd(exe, cfg, o["k"])))
            p(shlex.join(memgate_cmd(exe, cfg, o["k0"])))
        p(shlex.join(memgate_cmd(exe, tmp / "sampler.yml", sampler_repeat)))
        p("```")
        p()
        p("Configs (in the temporary directory, removed on exit):")
        p()
        for cfg in [tmp / f"overhead-{o['label']}.yml" for o in overhead] + [tmp / "sampler.yml"]:
            if cfg.exists():
                p(f"`{cfg}`:")
                p("```yaml")
                p(cfg.read_text().rstrip())
                p("```")
        sys.stdout.flush()

    finish(failures, misses)


if __name__ == "__main__":
    main()
