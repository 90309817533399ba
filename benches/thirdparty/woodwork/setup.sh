#!/usr/bin/env bash
# Create the two virtualenvs used by memgate.yml in this folder:
#   $WW_VENV_ROOT/ww030  woodwork 0.3.0 (accessor holds a strong reference to the DataFrame)
#   $WW_VENV_ROOT/ww031  woodwork 0.3.1 (accessor holds a weakref.ref to the DataFrame)
# Everything else is pinned identically in both, so woodwork is the only difference.
#
# Every package is installed with --no-deps and an exact == pin (the full closure
# is listed), from wheels only, so the result does not drift with new releases.
# Idempotent: a venv whose stamp file matches the pin list is left alone.
#
#   bash benches/thirdparty/woodwork/setup.sh          # needs Python 3.11 and PyPI
#   PYTHON=/path/to/python3.11 WW_VENV_ROOT=/elsewhere bash .../setup.sh
set -euo pipefail

PYTHON="${PYTHON:-python3.11}"
ROOT="${WW_VENV_ROOT:-$(cd "$(dirname "$0")" && pwd)/.venvs}"

# Shared pins (cp311 manylinux wheels exist for all of them).
COMMON=(
  numpy==1.24.4
  pandas==1.5.3
  python-dateutil==2.8.2
  pytz==2023.3
  six==1.16.0
  scikit-learn==1.2.2
  scipy==1.10.1
  joblib==1.2.0
  threadpoolctl==3.1.0
  click==8.1.3
)

ver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$ver" != "3.11" ]; then
  echo "setup.sh: $PYTHON is Python $ver; these pins are for Python 3.11 (set PYTHON=...)" >&2
  exit 1
fi

make_venv() {
  local dir="$1" ww="$2"
  local pins=("${COMMON[@]}" "woodwork==$ww")
  local want
  want=$(printf '%s\n' "python $ver" "${pins[@]}")
  if [ -x "$dir/bin/python" ] && [ -f "$dir/.memgate-pins" ] && [ "$(cat "$dir/.memgate-pins")" = "$want" ]; then
    echo "$dir: up to date (woodwork $ww)"
    return
  fi
  echo "$dir: creating (woodwork $ww)"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps --only-binary=:all: "${pins[@]}"
  "$dir/bin/python" -m pip check --disable-pip-version-check
  "$dir/bin/python" -c "import woodwork, pandas; assert woodwork.__version__ == '$ww', woodwork.__version__; print('  woodwork', woodwork.__version__, 'pandas', pandas.__version__)"
  printf '%s\n' "$want" > "$dir/.memgate-pins"
}

mkdir -p "$ROOT"
make_venv "$ROOT/ww030" 0.3.0
make_venv "$ROOT/ww031" 0.3.1
