#!/usr/bin/env python3
"""How long `memgate log` takes, and how much memory, over a repository of 1,000 commits
each with a note of 100 benchmarks.

The record in every note is a real one, as memgate writes it: memgate runs a small
project once (3 benchmarks, 5 runs of 1 s each, sampled every 5 ms, so each run's stored
timeline is full: 200 points). Its benchmarks are repeated, renamed b0, b1, ..., to make
a record of N benchmarks (100 unless --benchmarks says), and that record is copied into a
note on each of 1,000 commits (written with git fast-import), its revision set to the
commit. Where memgate keeps the timelines apart (refs/notes/memgate-timelines), that
note is copied alike; where it keeps them inline (memgate before issue 9), they come
along in the record.

Then `memgate log -n 1000` and `memgate log` (20 commits) are run, five times each,
interleaved; the medians of their elapsed times and peak memory (maximum resident set
size, from /usr/bin/time, else from wait4) are printed. Targets for `log -n 1000`: under
1 s and under 200 MiB.

Usage (from the repository root):
  python3 benches/log.py [--commits N] [--benchmarks N] [--memgate PATH] [--inline] [--keep DIR]
--memgate measures another build (say, an older one) instead of building this one;
--inline writes the notes as memgate 0.1.0 did, timelines inline in the record (a
history stored before issue 9), whatever the build writes; --keep makes the repository
in DIR (a new directory) and leaves it there, to profile.
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
MAIN_REF = "refs/notes/memgate"
TIMELINES_REF = "refs/notes/memgate-timelines"
TIME = Path("/usr/bin/time")


def run(args, **kw):
    return subprocess.run(args, check=True, env=ENV, **kw)


def out(args, cwd):
    return subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def timed(args, cwd, scratch):
    """Elapsed seconds, CPU seconds (user + system), peak memory in bytes, and the
    completed process."""
    if TIME.exists():
        report = scratch / "time.txt"
        start = time.perf_counter()
        proc = subprocess.run([str(TIME), "-f", "%M %U %S", "-o", str(report), *args], cwd=cwd, env=ENV,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        peak, user, system = report.read_text().split()[-3:]
        return elapsed, float(user) + float(system), int(peak) * 1024, proc
    # Without /usr/bin/time: wait4's figure, which may include this script's own size at
    # the spawn (the child shares its memory until exec).
    stdout, stderr = scratch / "stdout.txt", scratch / "stderr.txt"
    actions = [(os.POSIX_SPAWN_OPEN, 1, str(stdout), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
               (os.POSIX_SPAWN_OPEN, 2, str(stderr), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    start = time.perf_counter()
    cwd_before = os.getcwd()
    os.chdir(cwd)
    try:
        pid = os.posix_spawn(args[0], args, ENV, file_actions=actions)
    finally:
        os.chdir(cwd_before)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    proc = subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), stdout.read_text(), stderr.read_text())
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, proc


def widened(record, benchmarks):
    """The record with its benchmarks repeated and renamed to make `benchmarks` of them."""
    real = record["benchmarks"]
    record = dict(record)
    record["benchmarks"] = [dict(real[i % len(real)], benchmark=f"b{i}") for i in range(benchmarks)]
    return record


def add_notes(repo, ref, template, ids):
    """Adds a note to `ref` on each commit of `ids`: `template` with its revision set to
    the commit, streamed to git fast-import. Returns a note's size in bytes."""
    placeholder = "@" * 40
    text = json.dumps(dict(template, revision=placeholder), separators=(",", ":")) + "\n"
    parent = out(["git", "rev-parse", ref], repo).strip()
    importer = subprocess.Popen(["git", "fast-import", "--quiet", "--force"], cwd=repo, env=ENV,
                                stdin=subprocess.PIPE)
    header = [f"commit {ref}", "committer bench <bench@example.com> 1700000000 +0000", "data 5", "notes",
              f"from {parent}", ""]
    importer.stdin.write("\n".join(header).encode())
    for sha in ids:
        data = text.replace(placeholder, sha).encode()
        importer.stdin.write(f"N inline {sha}\ndata {len(data)}\n".encode() + data + b"\n")
    importer.stdin.close()
    if importer.wait() != 0:
        sys.exit(f"git fast-import failed for {ref}")
    return len(text.encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument("--memgate", type=Path, help="the memgate binary to measure (default: build this one)")
    parser.add_argument("--inline", action="store_true", help="store the timelines inline, as memgate 0.1.0 did")
    parser.add_argument("--keep", type=Path, help="make the repository in this new directory and keep it")
    args = parser.parse_args()
    commits, benchmarks = args.commits, args.benchmarks

    if args.memgate:
        memgate = args.memgate.resolve()
    else:
        run(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
        memgate = ROOT / "target" / "release" / "memgate"
    with tempfile.TemporaryDirectory(prefix="memgate-log-") as tmp:
        tmp = Path(tmp)
        shapes = tmp / "shapes"
        run(["cc", "-O2", "-o", str(shapes), str(ROOT / "tests/helper/shapes.c")])
        repo = args.keep.resolve() if args.keep else tmp / "repo"
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
        record = widened(json.loads(out(["git", "notes", f"--ref={MAIN_REF}", "show", "HEAD"], repo)), benchmarks)
        apart = subprocess.run(["git", "notes", f"--ref={TIMELINES_REF}", "show", "HEAD"], cwd=repo, env=ENV,
                               capture_output=True, text=True)
        timelines = widened(json.loads(apart.stdout), benchmarks) if apart.returncode == 0 else None
        if args.inline and timelines is not None:
            # Each run's timeline back in its run, as memgate 0.1.0 stored it.
            del record["timelines_key"]
            record["benchmarks"] = [
                dict(b, runs=[dict(run, timeline=timeline) for run, timeline in zip(b["runs"], t["runs"])])
                for b, t in zip(record["benchmarks"], timelines["benchmarks"])]
            timelines = None

        # Pass 1: the commits, on top of the one with the config.
        head = out(["git", "rev-parse", "HEAD"], repo).strip()
        lines = []
        for i in range(commits):
            body = f"change {i}\n"
            lines += ["commit refs/heads/main", f"mark :{i + 1}",
                      f"committer bench <bench@example.com> {1_700_000_000 + i * 60} +0000",
                      f"data {len(f'commit {i}')}", f"commit {i}"]
            if i == 0:
                lines.append(f"from {head}")
            lines += ["M 644 inline file.txt", f"data {len(body)}", body]
        marks = tmp / "marks"
        run(["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=repo,
            input="\n".join(lines).encode())
        ids = [dict(line.split() for line in marks.read_text().splitlines())[f":{i + 1}"] for i in range(commits)]

        # Pass 2: a note on each, holding the record with its revision set, and its
        # timelines where memgate keeps them apart.
        sizes = {ref: add_notes(repo, ref, template, ids)
                 for ref, template in ((MAIN_REF, record), (TIMELINES_REF, timelines)) if template is not None}
        run(["git", "reset", "-q", "--hard", "main"], cwd=repo)

        long, short = f"log -n {commits}", "log (20 commits)"
        results = {long: [], short: []}
        for _ in range(5):
            for label, extra in ((long, ["log", "-n", str(commits)]), (short, ["log"])):
                elapsed, cpu, peak, proc = timed([str(memgate), *extra], repo, tmp)
                if proc.returncode != 0:
                    sys.exit(f"memgate {' '.join(extra)} failed: {proc.stderr}")
                if proc.stderr:
                    sys.exit(f"memgate {' '.join(extra)} warned: {proc.stderr}")
                results[label].append((elapsed, cpu, peak))
        version = out([str(memgate), "--version"], repo).strip()
        print(f"# memgate log over {commits} commits with notes of {benchmarks} benchmarks\n")
        print(f"- {version} ({memgate})")
        for ref, size in sizes.items():
            print(f"- {ref}: {size / 1024:.1f} KiB a note")
        if TIMELINES_REF not in sizes:
            print(f"- {TIMELINES_REF}: none (the timelines are inline in the record)")
        print(f"- record: {benchmarks} benchmarks x 5 runs, stored timelines of 200 points a run")
        print(f"- command: `cd REPO && memgate log -n {commits}` (and `memgate log`), 5 times each, interleaved; "
              f"CPU time (user + system) and peak memory from {'/usr/bin/time' if TIME.exists() else 'wait4'}")
        print(f"- load average when done: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores (elapsed times grow with it; CPU times much less)\n")
        print("| command | median | min | max | CPU (median) | peak memory (median) | max |\n"
              "|---|---:|---:|---:|---:|---:|---:|")
        for label, values in results.items():
            times = [t for t, _, _ in values]
            cpus = [c for _, c, _ in values]
            peaks = [p / 2**20 for _, _, p in values]
            print(f"| `memgate {label}` | {statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms | "
                  f"{max(times) * 1000:.0f} ms | {statistics.median(cpus) * 1000:.0f} ms | "
                  f"{statistics.median(peaks):.0f} MiB | {max(peaks):.0f} MiB |")
        seconds = statistics.median(t for t, _, _ in results[long])
        mib = statistics.median(p for _, _, p in results[long]) / 2**20
        missed = []
        if seconds >= 1.0:
            missed.append(f"{seconds:.2f} s >= 1 s")
        if mib >= 200:
            missed.append(f"{mib:.0f} MiB >= 200 MiB")
        if missed:
            sys.exit(f"log.py: target missed for {commits} commits: {'; '.join(missed)}")
        print(f"\ntargets (< 1 s and < 200 MiB for {commits} commits): met")


if __name__ == "__main__":
    main()
