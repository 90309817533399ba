#!/usr/bin/env python3
"""A miniature data pipeline that reproduces an accessor reference-cycle bug.

    python3 pipeline.py --data trips.csv --variant cycle
    python3 pipeline.py --data trips.csv --variant weakref

`Frame` is a tiny column store (one Python list per column).  Like pandas
accessors (`df.str`, `df.dt`, or woodwork's `df.ww`), the `frame.ww` accessor
is created on first use and cached on the frame itself.  The accessor needs
its frame, so it keeps a reference back to it:

  * variant `cycle`:   a strong reference.  frame -> accessor -> frame is a
    reference cycle, so when a pipeline step drops the previous frame its
    reference count never reaches zero.  The frame (and all of its column
    data) stays alive until the cyclic garbage collector happens to run a
    collection of the generation the frame has been promoted to.
  * variant `weakref`: a `weakref.ref`.  No cycle, so every frame is freed the
    moment the pipeline drops it.

The output of both variants is identical; only the peak memory differs.

If the environment variable MEMGATE_METRICS names a file, one JSON line with
the throughput (rows/s) is appended to it.
"""

import argparse
import csv
import gc
import json
import os
import resource
import sys
import time
import weakref

# A large application keeps hundreds of thousands of long-lived container
# objects around, which makes full (generation 2) collections rare and far
# apart.  This small script has no such baseline, so we stand in for it by
# raising the thresholds.  Collection stays enabled and automatic; nothing
# here calls gc.collect() or gc.disable().
gc.set_threshold(50_000, 50, 50)


# --------------------------------------------------------------------------
# The "library": a frame, and an accessor cached on it
# --------------------------------------------------------------------------


class CachedAccessor:
    """Descriptor that builds the accessor on first access and caches it on
    the instance (the same pattern pandas uses for registered accessors)."""

    def __init__(self, name, accessor_cls):
        self._name = name
        self._cls = accessor_cls

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self._cls
        accessor = self._cls(obj)
        # Cache it: from now on frame.__dict__ holds the accessor.
        obj.__dict__[self._name] = accessor
        return accessor


class _WWBase:
    """Schema accessor: logical types and simple column selection."""

    def __init__(self, frame):
        self._schema = {}
        self._set_frame(frame)

    # subclasses decide how the frame is held
    def _set_frame(self, frame):
        raise NotImplementedError

    def _frame(self):
        raise NotImplementedError

    def init(self, logical_types):
        frame = self._frame()
        missing = set(logical_types) - set(frame.columns)
        if missing:
            raise KeyError("unknown columns: %s" % ", ".join(sorted(missing)))
        self._schema = dict(logical_types)
        return frame

    @property
    def schema(self):
        return dict(self._schema)

    def select(self, logical_type):
        frame = self._frame()
        return [c for c in frame.columns if self._schema.get(c) == logical_type]


class StrongWW(_WWBase):
    """The bug: a strong reference back to the frame -> reference cycle."""

    def _set_frame(self, frame):
        self._frame_ref = frame

    def _frame(self):
        return self._frame_ref


class WeakWW(_WWBase):
    """The fix: a weak reference back to the frame -> no cycle."""

    def _set_frame(self, frame):
        self._frame_ref = weakref.ref(frame)

    def _frame(self):
        frame = self._frame_ref()
        if frame is None:
            raise ReferenceError("the frame behind this accessor is gone")
        return frame


class Frame:
    """A column store: an ordered dict of equally long Python lists."""

    def __init__(self, columns):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError("columns differ in length: %s" % sorted(lengths))
        self._cols = dict(columns)
        self.nrows = lengths.pop() if lengths else 0

    @property
    def columns(self):
        return list(self._cols)

    def __getitem__(self, name):
        return self._cols[name]

    def __len__(self):
        return self.nrows

    @classmethod
    def read_csv(cls, path):
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            cols = [[] for _ in header]
            appends = [c.append for c in cols]
            for row in reader:
                for append, value in zip(appends, row):
                    append(value)
        frame = cls(dict(zip(header, cols)))
        return frame.ww.init({name: "String" for name in header})


def use_variant(variant):
    Frame.ww = CachedAccessor("ww", StrongWW if variant == "cycle" else WeakWW)


# --------------------------------------------------------------------------
# The pipeline: each step builds a new frame and the old one is dropped
# --------------------------------------------------------------------------


def parse_types(raw):
    """Strings -> typed values (every value is a new object)."""
    ts = raw["pickup_ts"]
    out = Frame({
        "trip_id": [int(v) for v in raw["trip_id"]],
        "day": [int(v[8:10]) + 31 * (int(v[5:7]) - 1) for v in ts],
        "hour": [int(v[11:13]) for v in ts],
        "minute_of_day": [int(v[11:13]) * 60 + int(v[14:16]) for v in ts],
        "distance_km": [float(v) for v in raw["distance_km"]],
        "fare": [float(v) for v in raw["fare"]],
        "passengers": [int(v) for v in raw["passengers"]],
        "zone": [sys.intern(v) for v in raw["zone"]],
    })
    return out.ww.init({
        "trip_id": "Integer", "day": "Integer", "hour": "Integer",
        "minute_of_day": "Integer", "distance_km": "Double", "fare": "Double",
        "passengers": "Integer", "zone": "Categorical",
    })


def clean(df):
    """Drop dirty rows and normalise units (new values, as a copy would)."""
    dist, fare, pax = df["distance_km"], df["fare"], df["passengers"]
    keep = [i for i in range(len(df))
            if dist[i] > 0 and pax[i] > 0 and fare[i] < 50 * dist[i] + 20]
    cols = {}
    for name in df.columns:
        col = df[name]
        if df.ww.schema[name] == "Double":
            cols[name] = [round(col[i], 2) + 0.0 for i in keep]
        elif name == "trip_id":
            cols[name] = [col[i] + 0 for i in keep]  # a fresh int, like a copy
        else:
            cols[name] = [col[i] for i in keep]
    out = Frame(cols)
    return out.ww.init(df.ww.schema)


def add_features(df):
    """Feature engineering: derived columns on a copy of the input."""
    dist, fare, pax = df["distance_km"], df["fare"], df["passengers"]
    hour, day, zone = df["hour"], df["day"], df["zone"]
    n = len(df)
    cols = {name: list(df[name]) for name in df.columns}
    cols["fare_per_km"] = [fare[i] / dist[i] for i in range(n)]
    cols["fare_per_passenger"] = [fare[i] / pax[i] for i in range(n)]
    cols["sqrt_distance"] = [(dist[i] + 1.0) ** 0.5 for i in range(n)]
    cols["is_night"] = [h < 6 or h >= 22 for h in hour]
    cols["weekday"] = [d % 7 for d in day]
    cols["zone_hour"] = ["%s@%02d" % (zone[i], hour[i]) for i in range(n)]
    out = Frame(cols)
    schema = df.ww.schema
    schema.update({"fare_per_km": "Double", "fare_per_passenger": "Double",
                   "sqrt_distance": "Double", "is_night": "Boolean",
                   "weekday": "Integer", "zone_hour": "Categorical"})
    return out.ww.init(schema)


def normalise(df):
    """Scale the numeric features to z-scores (a new frame again)."""
    cols = {}
    for name in df.columns:
        col = df[name]
        if df.ww.schema[name] == "Double":
            mean = sum(col) / len(col)
            var = sum((v - mean) ** 2 for v in col) / len(col)
            std = var ** 0.5 or 1.0
            cols[name] = [(v - mean) / std for v in col]
        else:
            cols[name] = col[:]
    out = Frame(cols)
    return out.ww.init(df.ww.schema)


def aggregate(df):
    """Group by zone and hour: count and mean of every Double column."""
    keys = df["zone_hour"]
    doubles = df.ww.select("Double")
    sums = {}
    counts = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    for name in doubles:
        col = df[name]
        acc = sums.setdefault(name, {})
        for key, v in zip(keys, col):
            acc[key] = acc.get(key, 0.0) + v
    groups = sorted(counts)
    cols = {"zone_hour": groups, "trips": [counts[g] for g in groups]}
    for name in doubles:
        cols["mean_" + name] = [sums[name][g] / counts[g] for g in groups]
    out = Frame(cols)
    schema = {"zone_hour": "Categorical", "trips": "Integer"}
    schema.update({"mean_" + name: "Double" for name in doubles})
    return out.ww.init(schema)


def run(path):
    df = Frame.read_csv(path)
    rows = len(df)
    df = parse_types(df)   # the raw frame is dropped here ...
    df = clean(df)         # ... and the typed one here, and so on
    df = add_features(df)
    df = normalise(df)
    df = aggregate(df)
    return rows, df


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="CSV written by make_data.py")
    ap.add_argument("--variant", required=True, choices=("cycle", "weakref"),
                    help="how the accessor refers to its frame")
    args = ap.parse_args(argv)

    use_variant(args.variant)
    gc_before = [s["collections"] for s in gc.get_stats()]
    start = time.perf_counter()
    try:
        rows, result = run(args.data)
    except OSError as e:
        print("pipeline.py: cannot read %s: %s" % (args.data, e.strerror or e), file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    rate = rows / elapsed if elapsed > 0 else 0.0

    busiest = max(range(len(result)), key=lambda i: result["trips"][i])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    gen = [s["collections"] - b for s, b in zip(gc.get_stats(), gc_before)]
    print("variant:        %s" % args.variant)
    print("rows read:      %d" % rows)
    print("groups:         %d (busiest %s with %d trips)"
          % (len(result), result["zone_hour"][busiest], result["trips"][busiest]))
    print("elapsed:        %.2f s (%.0f rows/s)" % (elapsed, rate))
    print("peak RSS:       %.1f MiB (self-reported)" % peak_mib)
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
