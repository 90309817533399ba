#!/usr/bin/env python3
"""Write a deterministic CSV of synthetic taxi trips for the refcycle example.

    python3 make_data.py --rows 200000 --out .memgate/data/trips.csv

The same --rows always produces byte-identical output (seeded `random`).
About 1% of the rows are deliberately dirty (negative distance, zero
passengers, absurd fares) so that the pipeline's cleaning step has work to do.
"""

import argparse
import csv
import os
import random
import sys

ZONES = [
    "Airport", "Harbour", "Old Town", "University", "Central Station",
    "Riverside", "Market", "Stadium", "Hospital", "Tech Park",
    "North Hills", "South Bay", "West End", "East Gate", "Museum Quarter",
    "Industrial", "Lakeside", "Cathedral", "Financial District", "Zoo",
]

START_EPOCH = 1_704_067_200  # 2024-01-01 00:00:00 UTC
SECONDS_IN_90_DAYS = 90 * 24 * 3600


def fmt_ts(epoch):
    # Plain arithmetic instead of datetime keeps this fast and timezone-free.
    days, rem = divmod(epoch - START_EPOCH, 86400)
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    month_lengths = [31, 29, 31, 30]  # 2024: Jan, Feb (leap), Mar, Apr
    month = 0
    while days >= month_lengths[month]:
        days -= month_lengths[month]
        month += 1
    return "2024-%02d-%02d %02d:%02d:%02d" % (month + 1, days + 1, hour, minute, second)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True, help="number of data rows")
    ap.add_argument("--out", required=True, help="output CSV path (parent dirs are created)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = ap.parse_args(argv)
    if args.rows < 0:
        ap.error("--rows must be >= 0")

    rng = random.Random(args.seed)
    parent = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(parent, exist_ok=True)

    tmp = args.out + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["trip_id", "pickup_ts", "distance_km", "fare", "passengers", "zone"])
        for trip_id in range(1, args.rows + 1):
            ts = START_EPOCH + rng.randrange(SECONDS_IN_90_DAYS)
            distance = round(rng.lognormvariate(1.2, 0.7), 2)
            fare = round(3.5 + distance * rng.uniform(1.6, 2.4) + rng.choice((0, 0, 0, 2.5)), 2)
            passengers = rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 5, 6))
            zone = rng.choice(ZONES)
            dirt = rng.random()
            if dirt < 0.004:
                distance = -distance
            elif dirt < 0.007:
                passengers = 0
            elif dirt < 0.010:
                fare = fare * 100
            w.writerow([trip_id, fmt_ts(ts), "%.2f" % distance, "%.2f" % fare, passengers, zone])
    os.replace(tmp, args.out)
    print("wrote %d rows to %s" % (args.rows, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
