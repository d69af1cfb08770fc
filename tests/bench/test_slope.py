"""The soak's flatness bound (bench/slope.py, bench/soak_probe.py) on made-up series."""

import random

import pytest

from bench import slope, soak_probe

# The test soak's shape: a sample every 20 s from 20 s to 120 s, 2 reconnects a second.
TIMES = [20.0, 40.0, 60.0, 80.0, 100.0, 120.0]
RECONNECTS_PER_H = 2 * 3600


def test_t_quantiles():
    assert slope.t975(1) == 12.706
    assert slope.t975(4) == 2.776
    assert slope.t975(30) == 2.042
    assert slope.t975(60) == pytest.approx(2.000, abs=0.003)
    assert slope.t975(1000) == pytest.approx(1.962, abs=0.003)
    with pytest.raises(ValueError):
        slope.t975(0)


def test_fit_of_a_straight_line_is_exact():
    trend = slope.fit(TIMES, [100 + 0.5 * t for t in TIMES])
    assert trend is not None
    assert trend.slope_per_h == pytest.approx(1800)
    assert trend.ci95_per_h == pytest.approx(0, abs=1e-6)
    assert trend.mean == pytest.approx(135)
    assert slope.fit(TIMES[:2], [1, 2]) is None  # no interval from two points
    assert slope.judge("x", None, 1.0)["flat"] is None


def series(per_second: float, noise: float, seed: int) -> list[dict[str, float]]:
    """Samples of counts around 500 that grow by `per_second`, with ± noise; memory
    steady at 70 MiB give or take a few pages."""
    rng = random.Random(seed)
    rows = []
    for t in [0.0, *TIMES]:
        value = 500 + per_second * t + rng.uniform(-noise, noise)
        rss = 70 + rng.uniform(-0.02, 0.02)
        rows.append({"t_s": t, **dict.fromkeys(soak_probe.SERIES, value), "rss_mib": rss})
    return rows


def flat(samples: list[dict[str, float]]) -> dict[str, bool]:
    trends = soak_probe.trends(
        samples, warmup_s=20, leak_bound=0.1, reconnects_per_h=RECONNECTS_PER_H, kib_per_stream=12
    )
    return {t["series"]: t["flat"] for t in trends}


@pytest.mark.parametrize("seed", range(20))
def test_noise_alone_is_flat(seed):
    # Streams between a drop and the reconnect come and go: ± a few per sample.
    assert all(flat(series(0.0, 8.0, seed)).values())


@pytest.mark.parametrize("seed", range(20))
def test_a_leak_of_one_per_reconnect_is_not_flat(seed):
    found = flat(series(2.0, 8.0, seed))  # 2 reconnects/s, one object leaked each
    assert found["asyncio_tasks"] is False
    assert found["open_fds"] is False


def test_a_steady_drift_under_the_tolerance_is_flat():
    # A tenth of the tolerance (720/h): significant, as it has no noise, yet no leak.
    found = soak_probe.trends(
        series(0.02, 0.0, 0), warmup_s=20, leak_bound=0.1,
        reconnects_per_h=RECONNECTS_PER_H, kib_per_stream=12,
    )  # fmt: skip
    tasks = next(t for t in found if t["series"] == "asyncio_tasks")
    assert tasks["ci_includes_0"] is False
    assert tasks["flat"] is True
    assert tasks["tolerance_per_h"] == pytest.approx(720)
    rss = next(t for t in found if t["series"] == "rss_mib")
    assert rss["tolerance_per_h"] == pytest.approx(720 * 12 / 1024, abs=0.01)
