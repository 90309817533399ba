"""leak.py - a test helper for the leak check: a Python program whose peak memory grows
(or does not) with a count it is given, the way a leak grows with iterations.

Usage: python3 leak.py MODE MIB N
  grow MIB N      holds N buffers of MIB each (every page written, so resident) at once,
                  then exits: the peak grows MIB per unit of N.
  flat MIB N      holds one buffer of MIB whatever N, and works N rounds over it: no
                  growth with N.
  fail MIB N      as grow, but exits with code 3 when N is 4 (after holding its memory).
"""

import sys

MIB = 1024 * 1024


def buffer(mib):
    # Filled, not zeroed: a zeroed allocation may stay unbacked until touched.
    return b"\x01" * (mib * MIB)


def main():
    mode, mib, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode in ("grow", "fail"):
        held = [buffer(mib) for _ in range(n)]
        if mode == "fail" and n == 4:
            print(f"failing on purpose at {n}", file=sys.stderr)
            sys.exit(3)
    elif mode == "flat":
        held = [buffer(mib)]
        for _ in range(n):
            sum(held[0][::65536])
    else:
        sys.exit(f"unknown mode {mode!r}")
    return len(held)


if __name__ == "__main__":
    main()
