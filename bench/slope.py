"""Is a series flat? Its least-squares slope per hour, that slope's 95 % confidence
interval, and a tolerance below which a drift is too small to be a leak."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Student's t, two-sided 95 %, for 1..30 degrees of freedom (no SciPy in the
# benchmark's dependencies); beyond 30, 1.96 + 2.4/df is within 0.003 of it.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t975(df: int) -> float:
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.4 / df


@dataclass(frozen=True)
class Trend:
    n: int
    mean: float
    slope_per_h: float
    # Half the width of the slope's 95 % confidence interval.
    ci95_per_h: float


def fit(times_s: Sequence[float], values: Sequence[float]) -> Trend | None:
    """Ordinary least squares of value on time; None below three points (no interval)."""
    n = len(values)
    if n != len(times_s) or n < 3:
        return None
    t_mean = sum(times_s) / n
    y_mean = sum(values) / n
    sxx = sum((t - t_mean) ** 2 for t in times_s)
    if sxx == 0:
        return None
    slope = sum((t - t_mean) * (y - y_mean) for t, y in zip(times_s, values, strict=True)) / sxx
    residuals = sum(
        (y - y_mean - slope * (t - t_mean)) ** 2 for t, y in zip(times_s, values, strict=True)
    )
    se = math.sqrt(residuals / (n - 2) / sxx)
    return Trend(n, y_mean, slope * 3600, t975(n - 2) * se * 3600)


def judge(name: str, trend: Trend | None, tolerance_per_h: float) -> dict[str, Any]:
    """Flat when the slope's 95 % interval holds 0 (no drift the noise cannot explain), or
    when the slope is within the tolerance (a drift, but smaller than any leak counted)."""
    if trend is None:
        return {"series": name, "n": 0, "flat": None}
    includes_0 = abs(trend.slope_per_h) <= trend.ci95_per_h
    return {
        "series": name,
        "n": trend.n,
        "mean": round(trend.mean, 2),
        "slope_per_h": round(trend.slope_per_h, 2),
        "ci95_per_h": round(trend.ci95_per_h, 2),
        "tolerance_per_h": round(tolerance_per_h, 2),
        "ci_includes_0": includes_0,
        "flat": includes_0 or abs(trend.slope_per_h) <= tolerance_per_h,
    }
