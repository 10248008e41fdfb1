"""Layout drift: share of facts parsed field-exact on composed variants of the demo tracker.

    python -m benchmarks.intake [-v]

Goal (issue 11): >= 97% of facts over the set, >= 95% on every variant. The variants and
their expected facts live in tests/data/layout_variants.py.
"""

from __future__ import annotations

import argparse

from tests.data.layout_variants import score, variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    right_all = total_all = 0
    worst = 1.0
    for variant in variants():
        right, total, misses = score(variant)
        right_all, total_all = right_all + right, total_all + total
        worst = min(worst, right / total)
        print(f"{variant.name:<42} {right:>4}/{total:<4} {100 * right / total:6.1f}%")
        for miss in misses if args.verbose else misses[:2]:
            print(f"    {miss}")
    print(f"{'overall':<42} {right_all:>4}/{total_all:<4} {100 * right_all / total_all:6.1f}%")
    print(f"worst variant {100 * worst:.1f}% (goal >= 95%), overall goal >= 97%")


if __name__ == "__main__":
    main()
