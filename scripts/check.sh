#!/usr/bin/env bash
# Runs `memgate check` for the action. Inputs arrive as environment variables only (never
# written into this script by the workflow), so their text cannot become shell code. The
# pull-request comment is posted by the action's next step, which holds the token; this
# one runs the benchmarks and holds none.
set -uo pipefail

args=(check)
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_BASE:-}" ] && args+=(--base "$INPUT_BASE")
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<< "$INPUT_ARGS"
fi

env -u GITHUB_TOKEN memgate "${args[@]}" "${extra[@]}"
status=$?
case $status in
  0) echo "memgate: no regression" ;;
  1) echo "memgate: regression (exit 1)" ;;
  3) echo "memgate: a benchmark failed (exit 3)" ;;
  *) echo "memgate: could not do its job (exit $status)" ;;
esac
exit $status
