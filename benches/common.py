"""What the Python benchmarks share: building memgate and the shapes helper, progress
lines, markdown tables, memgate's command line. Standard library only."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    print(f"{Path(sys.argv[0]).name}: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def checked(argv, what, cwd=ROOT):
    """Runs `argv`; its stdout, or the end of the script with `what` and its output."""
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        die(f"{what} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def build_memgate():
    """`cargo build --release`, and the path of the binary it made."""
    log("building memgate: cargo build --release")
    checked(["cargo", "build", "--release", "--quiet"], "cargo build --release")
    meta = checked(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                   "cargo metadata")
    exe = Path(json.loads(meta)["target_directory"]) / "release" / "memgate"
    if not os.access(exe, os.X_OK):
        die(f"no memgate binary at {exe} after the build")
    return exe


def build_shapes(tmp):
    """tests/helper/shapes.c, built into `tmp`."""
    out = tmp / "shapes"
    cmd = [os.environ.get("CC", "cc"), "-O2", "-Wall", "-Wextra", "-o", str(out),
           str(ROOT / "tests/helper/shapes.c")]
    log("building shapes: " + shlex.join(cmd))
    checked(cmd, "building shapes")
    return out


def table(header, rows, text_columns=1):
    """A markdown table; the first `text_columns` columns left-aligned, the rest right."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header)))
           + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def memgate_cmd(exe, config, repeat):
    """`memgate run` of `config`, `repeat` runs, no warmup, JSON on stdout."""
    return [str(exe), "run", "--config", str(config), "--repeat", str(repeat),
            "--warmup", "0", "-q", "--format", "json"]


def finish(failures, misses):
    """Says what failed and which targets were missed, on stderr, and exits 1 if any."""
    name = Path(sys.argv[0]).name
    for f in failures:
        print(f"{name}: failed: {f}", file=sys.stderr)
    for m in misses:
        print(f"{name}: target missed: {m}", file=sys.stderr)
    if failures or misses:
        sys.exit(1)
    log(f"{name}: all targets met")
