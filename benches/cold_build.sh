#!/usr/bin/env bash
# The cold build a new user waits for: for each revision given (default HEAD), a fresh
# clone, an empty CARGO_HOME (so the crates are downloaded too) and an empty target
# folder, then the command (default `cargo build --release --locked`). Prints wall time,
# CPU time (user + system: steadier than wall on a busy machine) and the number of crates
# compiled. Revisions run one after another, so that their figures share the machine.
#
#   bash benches/cold_build.sh [REV...] [-- COMMAND...]
#   bash benches/cold_build.sh 9ae4c76 HEAD
#   bash benches/cold_build.sh HEAD -- cargo install --locked --path .
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
revs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do revs+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#revs[@]} -gt 0 ] || revs=(HEAD)
[ $# -gt 0 ] || set -- cargo build --release --locked

printf '%-12s %8s %8s %7s  %s\n' revision wall_s cpu_s crates command
for rev in "${revs[@]}"; do
  work=$(mktemp -d)
  git clone --quiet "$repo" "$work/src"
  git -C "$work/src" checkout --quiet "$(git -C "$repo" rev-parse "$rev")"
  (
    cd "$work/src"
    export CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target"
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > "$work/log" 2>&1 || {
      tail -n 20 "$work/log" >&2
      exit 1
    }
  )
  read -r wall user sys < "$work/time"
  crates=$(grep -c '^ *Compiling ' "$work/log" || true)
  printf '%-12s %8.0f %8.0f %7d  %s\n' "$rev" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$crates" "$*"
  rm -rf "$work"
done
