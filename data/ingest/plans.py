"""China's Five-Year Plans: which years the n-th one covers."""

from __future__ import annotations


def plan_years(n: int) -> tuple[int, int] | None:
    """First and last year of the n-th Five-Year Plan."""
    if not 1 <= n <= 30:
        return None
    # Not simply 1953 + 5(n-1): the 1963-65 readjustment pushed the 3rd plan to 1966-70,
    # so the 14th runs 2021-2025 and the 15th 2026-2030.
    first = 1953 + 5 * (n - 1) if n <= 2 else 1966 + 5 * (n - 3)
    return first, first + 4
