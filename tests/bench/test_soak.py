"""A 2-minute ``bench --soak``: streams held while cash-outs commit and clients reconnect.

Smaller than the documented soak (500 streams over 50 agents, 10 cash-outs/s, 2
reconnects/s, a sample every 20 s) so that it fits a test run on two busy cores.
"""

import json
import os
import subprocess
import sys

import pytest

MINUTES = 2
CHURN = 2.0
SOAK = [
    "--scale", "0.025", "--soak", str(MINUTES), "--soak-streams", "500", "--soak-agents", "50",
    "--soak-rate", "10", "--soak-churn", str(CHURN), "--soak-sample", "20",
    "--soak-warmup", "20", "--soak-leak-bound", "0.1",
]  # fmt: skip


@pytest.mark.timeout(240)
def test_two_minute_soak_loses_nothing_duplicates_nothing_and_leaks_nothing(
    pg_server, bench_db, tmp_path
):
    env = {**os.environ, "DATABASE_URL": pg_server}
    cmd = [sys.executable, "-m", "app.cli", "bench", "--bench-db", bench_db, "--out", str(tmp_path)]
    done = subprocess.run(cmd + SOAK, env=env, capture_output=True, text=True, timeout=230)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "latest.json").read_text())
    assert set(result) >= {"soak", "dataset"} and "read" not in result  # --soak runs it alone
    soak = result["soak"]
    assert "| rss_mib |" in (tmp_path / "latest.md").read_text()

    assert soak["opened"] == 500 and soak["agents"] == 50
    # The churn ran: at least 80 % of the reconnects asked for (only clients that
    # have an id to resume from are dropped, so the first seconds have fewer).
    assert soak["reconnects"] >= 0.8 * CHURN * MINUTES * 60
    assert soak["cash_outs"] >= 0.95 * 10 * MINUTES * 60
    assert soak["open_failures"] is None and soak["resets"] == 0
    # Exactly once, per client, across its reconnects.
    assert soak["lost"] == 0
    assert soak["duplicated"] == 0
    assert soak["unexpected"] == 0
    assert soak["delivered"] == soak["deliveries_expected"] > 0
    assert all(s["lost"] == 0 and s["duplicated"] == 0 for s in soak["samples"])

    # A sample at 0, 20, ..., 120 s; the slopes use the six after the warm-up.
    assert len(soak["samples"]) == 7
    assert soak["samples"][0]["asyncio_tasks"] >= 500  # one request task per stream
    assert soak["samples"][0]["open_fds"] >= 500  # one socket per stream
    trends = {t["series"]: t for t in soak["trends"]}
    assert set(trends) == {"rss_mib", "asyncio_tasks", "open_fds", "db_connections", "open_streams"}
    # Flat: the slope's 95 % interval holds 0, or the slope is below 0.1 of a stream
    # per reconnect (720/h for counts here). A leak of one task or descriptor per
    # reconnect is 7,200/h, and a straight line, so its interval does not hold 0.
    not_flat = {name: t for name, t in trends.items() if not t["flat"]}
    assert not not_flat, not_flat
    assert all(t["n"] == 6 for t in trends.values())
    assert soak["all_flat"] is True
