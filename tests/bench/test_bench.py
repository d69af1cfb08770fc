"""A small-scale run of ``cashout-feed bench`` end to end, so that the benchmark keeps working."""

import json
import os
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql

from bench.database import BenchDatabaseError, bench_database

SMOKE = [
    "--scale", "0.001", "--concurrency", "1,4", "--requests", "10", "--budget", "3",
    "--streams", "30", "--rate", "40", "--stream-duration", "1",
    "--writers", "2", "--write-duration", "1", "--write-rounds", "1",
    "--install-rate", "50", "--install-window", "1",
]  # fmt: skip


@pytest.mark.timeout(180)
def test_bench_smoke_run_writes_every_part(pg_server, bench_db, tmp_path):
    env = {**os.environ, "DATABASE_URL": pg_server}
    cmd = [sys.executable, "-m", "app.cli", "bench", "--bench-db", bench_db, "--out", str(tmp_path)]
    done = subprocess.run(cmd + SMOKE, env=env, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "latest.json").read_text())
    assert "| scenario |" in (tmp_path / "latest.md").read_text()

    assert result["dataset"]["bets"] == 10_000
    assert 0.25 < result["dataset"]["cash_outs"] / result["dataset"]["bets"] < 0.35
    reads = result["read"]
    assert {r["agent"] for r in reads} == {"large", "typical"}
    assert {r["concurrency"] for r in reads} == {1, 4}
    failed = [
        (r["scenario"], r["concurrency"], r["api_error_kinds"])
        for r in reads
        if r["api_errors"] or r["sql_errors"]
    ]
    assert not failed
    assert [r for r in reads if not (r["api_n"] > 0 and r["sql_n"] > 0)] == []

    (stream,) = result["stream"]
    assert stream["opened"] == 30
    assert stream["cash_outs"] > 0
    assert stream["deliveries_received"] == stream["deliveries_expected"]
    assert stream["listen_floor_received"] == stream["cash_outs"]
    assert stream["app_db_connections"] >= 1

    install = result["install"]
    assert install["install_s"] > 0
    assert install["backfilled_cash_outs"] > 0
    assert install["platform_during"]["n"] > 0 and install["platform_errors"] == []

    writes = {w["workload"]: w for w in result["write"]}
    assert set(writes) == {"place", "settle", "edit", "cash_out"}
    for w in writes.values():
        assert w["app_tps"] > 0 and w["none_tps"] > 0
        assert w["app_wal_bytes_per_tx"] > 0 and w["none_wal_bytes_per_tx"] > 0
    assert writes["cash_out"]["bare_tps"] > 0


def test_dataset_is_repeatable_from_the_seed(pg_server, bench_db):
    from bench import dataset
    from bench import queries as bench_queries

    queries = bench_queries.load(dataset.QUERIES)
    url, _ = bench_database(pg_server, bench_db)
    sizes = dataset.Sizes.of(0.0005, 0.5)
    digest = (
        "select md5(string_agg(concat_ws(',', id, user_id, stake, status, cash_out_amount,"
        " is_auto_cash_out, selection), ';' order by id)) from bets"
    )
    digests = []
    for _ in range(2):
        dataset.generate(url, queries, sizes)
        dataset.install(url, queries)
        with psycopg.connect(url) as conn:
            digests.append(conn.execute(digest).fetchone())
            same = conn.execute(
                "select count(*) from cashout_feed.cash_outs f join bets b on b.id = f.bet_id"
                " where b.status = 'cashed_out'"
            ).fetchone()
            cashed = conn.execute(
                "select count(*) from bets where status = 'cashed_out'"
            ).fetchone()
    assert digests[0] == digests[1]
    assert same == cashed


def test_refuses_a_database_it_did_not_create(pg_server, bench_db):
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(bench_db)))
    with pytest.raises(BenchDatabaseError):
        bench_database(pg_server, bench_db)


@pytest.mark.timeout(180)
def test_bench_fleet_runs_through_nginx_beside_direct(pg_server, bench_db, tmp_path):
    env = {**os.environ, "DATABASE_URL": pg_server}
    cmd = [sys.executable, "-m", "app.cli", "bench", "--bench-db", bench_db, "--out", str(tmp_path)]
    args = ["--scale", "0.001", "--parts", "fleet", "--streams", "30", "--rate", "40"]
    done = subprocess.run(
        [*cmd, *args, "--stream-duration", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    direct, proxied = json.loads((tmp_path / "latest.json").read_text())["fleet"]
    assert direct["path"].startswith("direct") and proxied["path"].startswith("nginx")
    for row in (direct, proxied):
        assert row["opened"] == 30 and row["cash_outs"] > 0
        assert row["deliveries_received"] == row["deliveries_expected"]
    # nginx spread the streams over both instances (round robin in each nginx worker).
    spread = [int(n) for n in proxied["instance_streams"].split(" + ")]
    assert sum(spread) == 30 and min(spread) >= 5
    assert proxied["proxy_cores"] >= 0


@pytest.mark.timeout(120)
def test_bench_notify_counts_notifying_commits(pg_server, bench_db, tmp_path):
    from bench import notify
    from bench import queries as bench_queries
    from bench.database import pgserver_bin

    url, _ = bench_database(pg_server, bench_db)
    queries = bench_queries.load(notify.QUERIES)
    result = notify.run(url, queries, pgserver_bin(), [2], 1, tmp_path, (1, 50), rounds=1)
    assert result["fdatasync_per_s"] > 0
    assert [(r["listen_channels"], r["clients"]) for r in result["runs"]] == [(1, 2), (50, 2)]
    for row in result["runs"]:
        for variant in ("write_notify", "write", "notify", "select"):
            assert row[f"{variant}_tps"] > 0
        assert row["listener_backend_cores"] >= 0
