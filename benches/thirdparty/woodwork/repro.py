#!/usr/bin/env python3
"""EvalML-style pipeline on woodwork DataFrames: reproduces woodwork 0.3.0's accessor cycle.

    /work/venvs/ww030/bin/python repro.py --rows 300000   # woodwork 0.3.0 (bug)
    /work/venvs/ww031/bin/python repro.py --rows 300000   # woodwork 0.3.1 (fix)

woodwork registers a pandas DataFrame accessor, ``df.ww``
(``woodwork.table_accessor.PandasTableAccessor``).  pandas' CachedAccessor
stores the accessor object in the frame's ``__dict__`` the first time
``df.ww`` is used, and in woodwork 0.3.0 the accessor keeps a strong reference
to the frame in its ``_dataframe`` attribute.  So every frame on which
``ww.init()`` was called sits in a reference cycle::

    DataFrame.__dict__['ww'] -> PandasTableAccessor.__dict__['_dataframe'] -> DataFrame (same object)

When a pipeline step drops the previous frame, reference counting cannot free
it; it and its column data stay in memory until the cyclic garbage collector
runs a collection of the generation the frame has been promoted to (here: not
before the script ends).  woodwork 0.3.1 (PR #894) stores
``weakref.ref(dataframe)`` instead, so a dropped frame is freed at once.

The pipeline mimics EvalML's components: every step copies/transforms the
previous frame, calls ``ww.init()`` on the new one, and drops the old one.
It needs no network and no data files: the input is generated from a seeded
NumPy random generator, so the same --rows always gives the same result.
The script never calls gc.collect() and never disables the GC.

If the environment variable MEMGATE_METRICS names a file, one JSON line with
the throughput (rows/s) is appended to it.
"""

import argparse
import gc
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
import woodwork as ww

# GC thresholds are left at CPython's defaults (700, 10, 10); nothing here
# calls gc.collect() or gc.disable().  woodwork and pandas allocate few
# container objects per step, so a run has only 7-8 generation-0 collections and
# at most one generation-1 collection.  Each frame is moved out of generation 0
# while it is still in use, and the next generation-1 collection (one every 10
# generation-0 ones) or full collection does not come before the script ends.
# So with woodwork 0.3.0 every dropped frame stays in memory until the end.

ZONES = np.array([
    "Airport", "Harbour", "Old Town", "University", "Central Station",
    "Riverside", "Market", "Stadium", "Hospital", "Tech Park",
    "North Hills", "South Bay", "West End", "East Gate", "Museum Quarter",
    "Industrial", "Lakeside", "Cathedral", "Financial District", "Zoo",
], dtype=object)
PAYMENTS = np.array(["card", "cash", "app"], dtype=object)
BASE = ["distance_km", "fare", "passengers"]
SENSORS = ["sensor_%02d" % i for i in range(20)]  # so the frames, not the imports, dominate memory
CATEGORICAL = {"zone": "Categorical", "payment": "Categorical"}


def frame(values, names, index_col, others=(), logical_types=None, **init):
    """Wrap a 2-D float array (no copy) as a DataFrame, add a few other columns, ww.init() it.

    This is what an EvalML component does with a scikit-learn transformer's output:
    a new DataFrame around a new array, then ``ww.init()`` on it.
    """
    out = pd.DataFrame(values, columns=names, copy=False)
    out.insert(0, index_col.name, index_col.to_numpy())
    for col in others:
        out[col.name] = col.to_numpy()
    lt = {"y": "Boolean"}
    lt.update(logical_types or {})
    out.ww.init(index=index_col.name, logical_types=lt, **init)
    return out


def stack(df, cols, extra=0):
    """Copy the float columns `cols` of df into a new (rows, len(cols) + extra) array.

    Column by column into a preallocated column-major array (pandas' own layout, so
    the copies are contiguous and pd.DataFrame() wraps it without copying): the only
    big allocation is the new frame's own data, with no df[cols] temporary.
    """
    out = np.empty((len(df), len(cols) + extra), dtype=np.float64, order="F")
    for j, col in enumerate(cols):
        out[:, j] = df[col].to_numpy()
    return out


def float_columns(df):
    return [c for c in df.columns if c != "trip_id" and df[c].dtype == np.float64]


def load(rows, seed):
    """Step 1: the raw input (stands in for reading a file)."""
    rng = np.random.default_rng(seed)
    values = np.empty((rows, len(BASE) + len(SENSORS)), dtype=np.float64, order="F")
    distance = np.round(rng.lognormal(1.2, 0.7, rows), 2)
    values[:, 0] = distance
    values[:, 1] = np.round(3.5 + distance * rng.uniform(1.6, 2.4, rows), 2)
    values[:, 2] = rng.choice([1, 1, 1, 1, 2, 2, 3, 4, 5, 6], rows)
    for j in range(len(BASE), values.shape[1]):
        values[:, j] = rng.normal(0.0, 1.0, rows)
    # ~2% missing values in a few columns, for the imputer to fill
    for j in (0, 2, 3, 4):
        values[rng.random(rows) < 0.02, j] = np.nan
    start = np.datetime64("2024-01-01T00:00:00")
    others = [
        pd.Series(start + rng.integers(0, 90 * 86400, rows).astype("timedelta64[s]"), name="pickup_ts"),
        pd.Series(ZONES[rng.integers(0, len(ZONES), rows)], name="zone"),
        pd.Series(PAYMENTS[rng.integers(0, len(PAYMENTS), rows)], name="payment"),
        pd.Series((distance > 4.0) ^ (rng.random(rows) < 0.1), name="y"),
    ]
    trip_id = pd.Series(np.arange(rows, dtype=np.int64), name="trip_id")
    return frame(values, BASE + SENSORS, trip_id, others, CATEGORICAL, time_index="pickup_ts")


def impute(df):
    """Step 2: fill missing float values with the column median."""
    cols = float_columns(df)
    values = stack(df, cols)
    for j in range(values.shape[1]):
        missing = np.isnan(values[:, j])
        if missing.any():
            values[missing, j] = np.median(values[~missing, j])
    others = [df["pickup_ts"], df["zone"], df["payment"], df["y"]]
    return frame(values, cols, df["trip_id"], others, CATEGORICAL, time_index="pickup_ts")


def datetime_features(df):
    """Step 3: replace the timestamp by hour / weekday / month features."""
    cols = float_columns(df)
    values = stack(df, cols, extra=3)
    ts = df["pickup_ts"].dt
    values[:, -3] = ts.hour
    values[:, -2] = ts.dayofweek
    values[:, -1] = ts.month
    others = [df["zone"], df["payment"], df["y"]]
    return frame(values, cols + ["hour", "weekday", "month"], df["trip_id"], others, CATEGORICAL)


def one_hot(df):
    """Step 4: one-hot encode the categorical columns."""
    cols = float_columns(df)
    levels = [("zone", z) for z in ZONES] + [("payment", p) for p in PAYMENTS]
    values = stack(df, cols, extra=len(levels))
    codes = {c: df[c].astype(object).to_numpy() for c in ("zone", "payment")}
    for j, (col, level) in enumerate(levels, start=len(cols)):
        values[:, j] = codes[col] == level
    names = cols + ["%s_%s" % (c, l.lower().replace(" ", "_")) for c, l in levels]
    return frame(values, names, df["trip_id"], [df["y"]])


def scale(df):
    """Step 5: standardise every float feature column."""
    cols = float_columns(df)
    values = stack(df, cols)
    for j in range(values.shape[1]):
        x = values[:, j]
        x -= x.mean()
        x /= x.std() + 1e-12
    return frame(values, cols, df["trip_id"], [df["y"]])


def select(df, k=20):
    """Step 6: keep the k features most correlated with the target."""
    cols = float_columns(df)
    y = df["y"].to_numpy(dtype=np.float64)
    corr = {c: abs(np.corrcoef(df[c].to_numpy(), y)[0, 1]) for c in cols}
    keep = sorted(cols, key=lambda c: (-np.nan_to_num(corr[c]), c))[:k]
    return frame(stack(df, keep), keep, df["trip_id"], [df["y"]])


def run(rows, seed):
    df = load(rows, seed)
    df = impute(df)             # the raw frame is dropped here ...
    df = datetime_features(df)  # ... the imputed one here, and so on
    df = one_hot(df)
    df = scale(df)
    df = select(df)
    return df


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000, help="number of rows (default 300000)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = ap.parse_args(argv)
    if args.rows < 1:
        ap.error("--rows must be >= 1")

    gc_before = [s["collections"] for s in gc.get_stats()]
    start = time.perf_counter()
    result = run(args.rows, args.seed)
    elapsed = time.perf_counter() - start
    rate = args.rows / elapsed if elapsed > 0 else 0.0
    gen = [s["collections"] - b for s, b in zip(gc.get_stats(), gc_before)]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    print("woodwork:       %s (pandas %s, numpy %s)" % (ww.__version__, pd.__version__, np.__version__))
    print("rows:           %d" % args.rows)
    first = result.columns[1]
    print("result:         %d rows x %d columns; top feature %s (checksum %.6f)"
          % (result.shape[0], result.shape[1], first, float(np.abs(result[first].to_numpy()).sum())))
    print("elapsed:        %.2f s (%.0f rows/s)" % (elapsed, rate))
    print("peak RSS:       %.1f MiB (self-reported)" % peak_mib)
    print("gc thresholds:  %s" % (gc.get_threshold(),))
    print("gc during run:  gen0=%d gen1=%d gen2=%d collections" % tuple(gen))

    metrics = os.environ.get("MEMGATE_METRICS")
    if metrics:
        line = {"metric": "rows_per_second", "value": float(rate),
                "unit": "rows/s", "better": "higher"}
        with open(metrics, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
