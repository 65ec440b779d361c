"""The bench's one percentile: nearest rank.

Every latency figure the bench prints (p50, p95, p99, max) comes from `percentile`, so figures
of different scenarios are computed the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float:
    """The smallest value with at least `pct` % of all values at or below it; nan if none.

    With fewer than 100 values, p99 is the largest; `pct=100` is the maximum, `pct=0` the minimum.
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = math.ceil(pct / 100.0 * len(ordered))
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]


def percentile_ms(seconds: Sequence[float], pct: float) -> float:
    """`percentile` of durations in seconds, in milliseconds."""
    return 1000.0 * percentile(seconds, pct)
