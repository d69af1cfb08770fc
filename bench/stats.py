"""Latency samples to figures: percentiles (nearest rank), throughput."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _ms(value: float) -> float:
    return round(value * 1000, 3)


def summarize(latencies_s: Sequence[float], elapsed_s: float, errors: int = 0) -> dict[str, Any]:
    """p50/p99/max in milliseconds and requests per second."""
    ordered = sorted(latencies_s)
    return {
        "n": len(ordered),
        "errors": errors,
        "p50_ms": _ms(percentile(ordered, 50)) if ordered else None,
        "p99_ms": _ms(percentile(ordered, 99)) if ordered else None,
        "max_ms": _ms(ordered[-1]) if ordered else None,
        "rps": round(len(ordered) / elapsed_s, 1) if ordered and elapsed_s > 0 else None,
    }


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return round(a / b, 2)
