#!/usr/bin/env python3
"""How long `memgate log` takes over a repository of 1,000 commits, each with a note.

The record in every note is a real one: memgate runs a small project once (3 benchmarks,
5 runs each, timelines of about 200 points a run, as stored), and that record is copied
into a note on each of 1,000 commits (written with git fast-import), its revision set to
the commit. Then `memgate log -n 1000` and `memgate log` (20 commits) are timed, five
times each, interleaved; the medians are printed. Target: under 1 s for 1,000 commits.

Usage: python3 benches/log.py [--commits N]   (from the repository root)
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


def run(args, **kw):
    return subprocess.run(args, check=True, env=ENV, **kw)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=1000)
    commits = parser.parse_args().commits

    run(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    memgate = ROOT / "target" / "release" / "memgate"
    with tempfile.TemporaryDirectory(prefix="memgate-log-") as tmp:
        tmp = Path(tmp)
        shapes = tmp / "shapes"
        run(["cc", "-O2", "-o", str(shapes), str(ROOT / "tests/helper/shapes.c")])
        repo = tmp / "repo"
        repo.mkdir()
        (repo / "memgate.yml").write_text(
            "version: 1\ndefaults: {repeat: 5, warmup: 0, sample_interval: 5ms}\nbenchmarks:\n"
            + "".join(f"  - name: b{i}\n    command: [{shapes}, grow, \"{20 * (i + 1)}\", \"1000\"]\n"
                      for i in range(3)))
        run(["git", "init", "-q", "-b", "main"], cwd=repo)
        run(["git", "add", "-A"], cwd=repo)
        run(["git", "commit", "-q", "-m", "config"], cwd=repo)
        print("making one real record (3 benchmarks x 5 runs of 1 s) ...", file=sys.stderr)
        run([str(memgate), "run", "-q"], cwd=repo, stdout=subprocess.DEVNULL)
        record = json.loads(subprocess.run(["git", "notes", "--ref=memgate", "show", "HEAD"], cwd=repo,
                                           env=ENV, check=True, capture_output=True, text=True).stdout)

        # Pass 1: the commits, on top of the one with the config.
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=ENV, check=True,
                              capture_output=True, text=True).stdout.strip()
        lines = []
        for i in range(commits):
            body = f"change {i}\n"
            lines += [f"commit refs/heads/main", f"mark :{i + 1}",
                      f"committer bench <bench@example.com> {1_700_000_000 + i * 60} +0000",
                      f"data {len(f'commit {i}')}", f"commit {i}"]
            if i == 0:
                lines.append(f"from {head}")
            lines += [f"M 644 inline file.txt", f"data {len(body)}", body]
        marks = tmp / "marks"
        run(["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=repo,
            input="\n".join(lines).encode())
        ids = dict(line.split() for line in marks.read_text().splitlines())

        # Pass 2: a note on each, holding the real record with its revision set.
        notes_head = subprocess.run(["git", "rev-parse", "refs/notes/memgate"], cwd=repo, env=ENV, check=True,
                                    capture_output=True, text=True).stdout.strip()
        lines = ["commit refs/notes/memgate", "committer bench <bench@example.com> 1700000000 +0000",
                 "data 5", "notes", f"from {notes_head}"]
        sizes = []
        for i in range(commits):
            sha = ids[f":{i + 1}"]
            record["revision"] = sha
            text = json.dumps(record, separators=(",", ":")) + "\n"
            sizes.append(len(text.encode()))
            lines += [f"N inline {sha}", f"data {len(text.encode())}", text]
        run(["git", "fast-import", "--quiet", "--force"], cwd=repo, input="\n".join(lines).encode())
        run(["git", "reset", "-q", "--hard", "main"], cwd=repo)

        timings = {"log -n %d" % commits: [], "log (20 commits)": []}
        for _ in range(5):
            for label, args in (("log -n %d" % commits, ["log", "-n", str(commits)]),
                                ("log (20 commits)", ["log"])):
                start = time.perf_counter()
                out = subprocess.run([str(memgate), *args], cwd=repo, env=ENV, capture_output=True, text=True)
                timings[label].append(time.perf_counter() - start)
                if out.returncode != 0:
                    sys.exit(f"memgate {' '.join(args)} failed: {out.stderr}")
        rows = out.stdout.count("\n")
        print(f"# memgate log over {commits} commits with notes\n")
        print(f"- record size: {statistics.median(sizes) / 1024:.1f} KiB a note (3 benchmarks x 5 runs, stored timelines)")
        print(f"- command: `cd REPO && {memgate} log -n {commits}` (and `memgate log`), 5 times each, interleaved\n")
        print("| command | median | min | max |\n|---|---:|---:|---:|")
        for label, values in timings.items():
            print(f"| `memgate {label}` | {statistics.median(values) * 1000:.0f} ms | "
                  f"{min(values) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |")
        worst = statistics.median(timings["log -n %d" % commits])
        if worst >= 1.0:
            sys.exit(f"log.py: target missed: {worst:.2f} s >= 1 s for {commits} commits")
        print(f"\ntarget (< 1 s for {commits} commits): met")


if __name__ == "__main__":
    main()
