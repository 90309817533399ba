#!/usr/bin/env python3
"""The gate on real runs on this machine, and the speed of `memgate compare`.

1. A/A: the same program as base and head (head differs by a README only), checked 20
   times with `memgate check --rerun-base` (base and head interleaved) while another
   process keeps one core busy. Target: no false alarm.
2. A/B: head allocates 10% more memory; 20 checks. Target: every one caught.
   From the A/A samples it also says what a plain percentage rule and the rank test
   alone would have called, to show why memgate needs both together.
3. `memgate compare` of two stored records of 250 benchmarks x 4 metrics (1,000 pairs),
   end to end. Target: under 100 ms.

Usage: python3 benches/gate.py [--trials N]   (from the repository root)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
           GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")

PROGRAM = """\
import sys
mib = int(open("size.txt").read())
buf = bytearray(mib * 1048576)
for i in range(0, len(buf), 4096):
    buf[i] = 1
total = 0
for i in range(1_500_000):
    total += i * i
"""

CONFIG = """\
version: 1
defaults: {repeat: 5, warmup: 1}
benchmarks:
  - name: workload
    command: [python3, work.py]
"""


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, head_size: int, base_size: int = 100):
    root.mkdir()
    (root / "work.py").write_text(PROGRAM)
    (root / "memgate.yml").write_text(CONFIG)
    (root / ".gitignore").write_text(".memgate/\n")
    (root / "size.txt").write_text(f"{base_size}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "head")
    (root / "size.txt").write_text(f"{head_size}\n")
    (root / "README.md").write_text("head\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "head")
    return base


def check(memgate, repo, base):
    out = subprocess.run([str(memgate), "check", "--base", base, "--rerun-base", "--format", "json", "-q"],
                         cwd=repo, env=ENV, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"memgate check failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def by_metric(report):
    return {c["metric"]: c for c in report["comparisons"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    trials = parser.parse_args().trials
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    memgate = ROOT / "target" / "release" / "memgate"
    failures = []
    with tempfile.TemporaryDirectory(prefix="memgate-gate-") as tmp:
        tmp = Path(tmp)
        aa_base = make_repo(tmp / "aa", head_size=100)
        ab_base = make_repo(tmp / "ab", head_size=110)
        load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            aa, ab = [], []
            for i in range(trials):
                print(f"trial {i + 1}/{trials}", file=sys.stderr)
                aa.append(check(memgate, tmp / "aa", aa_base))
                ab.append(check(memgate, tmp / "ab", ab_base))
        finally:
            load.kill()
            load.wait()

        print("# memgate gate on real runs\n")
        print(f"- program: Python touching 100 MiB (110 MiB in A/B) then a fixed CPU loop; repeat 5, warmup 1")
        print(f"- `memgate check --base BASE --rerun-base --format json -q`, {trials} times each, "
              "while `python3 -c 'while True: pass'` keeps one of the 2 cores busy; default thresholds\n")
        aa_alarms = sum(r["verdict"] != "pass" for r in aa)
        ab_caught = sum(by_metric(r)["peak_memory"]["verdict"] == "regression" for r in ab)
        print("| trials | verdict not pass | peak_memory regressions | wall_time regressions | target |")
        print("|---|---:|---:|---:|---|")
        print(f"| A/A | {aa_alarms}/{trials} | {sum(by_metric(r)['peak_memory']['verdict'] == 'regression' for r in aa)} "
              f"| {sum(by_metric(r)['wall_time']['verdict'] == 'regression' for r in aa)} | no false alarm |")
        print(f"| A/B +10% memory | {sum(r['verdict'] != 'pass' for r in ab)}/{trials} | {ab_caught}/{trials} "
              f"| {sum(by_metric(r)['wall_time']['verdict'] == 'regression' for r in ab)} | every one caught |")
        wall_changes = [by_metric(r)["wall_time"]["change"] for r in aa]
        mem_changes = [by_metric(r)["peak_memory"]["change"] for r in ab]
        plain = sum(c > 0.10 for c in wall_changes)
        test_alone = sum(by_metric(r)["wall_time"]["p_value"] < 0.05 and by_metric(r)["wall_time"]["change"] > 0 for r in aa)
        print(f"\nA/A wall_time under load: median change {statistics.median(wall_changes) * 100:+.1f}%, "
              f"range {min(wall_changes) * 100:+.1f}% to {max(wall_changes) * 100:+.1f}%; "
              f"a plain 10% rule would have alarmed {plain}/{trials} times, the rank test alone (p < 0.05) "
              f"{test_alone}/{trials} times.")
        print(f"A/B peak_memory change: {min(mem_changes) * 100:+.2f}% to {max(mem_changes) * 100:+.2f}%.")
        if aa_alarms:
            failures.append(f"{aa_alarms} false alarms in A/A")
        if ab_caught < trials:
            failures.append(f"only {ab_caught}/{trials} +10% memory changes caught")

        # 3. compare on 1,000 pairs, end to end.
        repo = tmp / "ab"
        record = json.loads(git(repo, "notes", "--ref=memgate", "show", ab_base).splitlines()[0])
        template = record["benchmarks"][0]
        record["benchmarks"] = [dict(template, benchmark=f"b{i}") for i in range(250)]
        head = git(repo, "rev-parse", "HEAD").strip()
        for rev in (ab_base, head):
            record["revision"] = rev
            note = tmp / "note.json"
            note.write_text(json.dumps(record) + "\n")
            git(repo, "notes", "--ref=memgate", "add", "-f", "-F", str(note), rev)
        times = []
        for _ in range(7):
            start = time.perf_counter()
            out = subprocess.run([str(memgate), "compare", ab_base, head, "--format", "json"],
                                 cwd=repo, env=ENV, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
        pairs = len(json.loads(out.stdout)["comparisons"])
        print(f"\n`memgate compare BASE HEAD --format json` on {pairs} benchmark x metric pairs, end to end "
              f"(reading both records, judging, writing JSON): median {statistics.median(times) * 1000:.0f} ms "
              f"over 7 runs (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); target under 100 ms")
        if statistics.median(times) >= 0.1:
            failures.append("compare took 100 ms or more")
    if failures:
        sys.exit("gate.py: target missed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
