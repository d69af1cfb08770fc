"""The ``cashout-feed`` command, run as a user would run it."""

import os
import signal
import subprocess

import httpx
import pytest

from app import demo
from app.db.queries import Queries
from tests.conftest import login
from tests.helpers import CLI, ServeProcess, free_port, postgres_processes


def run_cli(args, database_url=None, stdin="", env_extra=None, timeout=60):
    env = {**os.environ, **(env_extra or {})}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        CLI + args, input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )


def test_agent_create_prints_the_new_id(database_url, client, db):
    r = run_cli(
        ["agent", "create", "newagent", "--display-name", "New Agent", "--password-stdin"],
        database_url,
        stdin="s3cret-password\n",
    )
    assert r.returncode == 0, r.stderr
    new_id = int(r.stdout.strip())
    row = db.execute(
        "select username, display_name from agents where id = %s", (new_id,)
    ).fetchone()
    assert row == ("newagent", "New Agent")
    login(client, "newagent", "s3cret-password")


def test_agent_create_refuses_a_duplicate(database_url):
    first = run_cli(
        ["agent", "create", "dup", "--password-stdin"], database_url, stdin="s3cret-password\n"
    )
    assert first.returncode == 0
    again = run_cli(
        ["agent", "create", "dup", "--password-stdin"], database_url, stdin="other-password\n"
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_agent_create_refuses_a_short_password(database_url):
    r = run_cli(["agent", "create", "shorty", "--password-stdin"], database_url, stdin="abc\n")
    assert r.returncode == 1
    assert "at least 8" in r.stderr


def test_migrate_is_idempotent_from_the_cli(database_url):
    r = run_cli(["migrate"], database_url)
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout


def test_migrate_and_agent_commands_use_the_direct_listen_url(database_url, db):
    # DATABASE_URL may be a transaction pooler (here: nothing at all listens
    # there); sessions of their own go to DATABASE_LISTEN_URL.
    pooled = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    env = {"DATABASE_LISTEN_URL": database_url}
    r = run_cli(["migrate"], pooled, env_extra=env)
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout
    r = run_cli(
        ["agent", "create", "direct-agent", "--password-stdin"],
        pooled,
        stdin="s3cret-password\n",
        env_extra=env,
    )
    assert r.returncode == 0, r.stderr
    assert db.execute("select 1 from agents where username = 'direct-agent'").fetchone()


def test_demo_seed_creates_then_reuses_data(database_url, db):
    queries = Queries.load(required=demo.QUERIES)
    first = demo.seed(database_url, queries)
    assert first.seeded_bets > 3000
    customers = db.execute(
        "select count(*) from users where agent_id = %s", (first.agent_id,)
    ).fetchone()
    assert customers == (demo.DEMO_CUSTOMERS,)
    mix = dict(db.execute("select status, count(*) from bets group by status").fetchall())
    total = sum(mix.values())
    assert 0.2 < mix["cashed_out"] / total < 0.4
    assert mix["won"] + mix["lost"] > total / 2
    auto = db.execute(
        "select avg(is_auto_cash_out::int) from bets where status = 'cashed_out'"
    ).fetchone()[0]
    assert 0.25 < auto < 0.45
    reasons = {
        r[0]
        for r in db.execute(
            "select distinct cash_out_trigger_reason from bets where status = 'cashed_out'"
        )
    }
    assert reasons == {"manual", "auto_threshold", "auto_profit_target", "auto_stop_loss"}
    second = demo.seed(database_url, queries)
    assert second.agent_id == first.agent_id
    assert second.seeded_bets == 0
    assert second.password != first.password
    assert db.execute("select count(*) from bets").fetchone() == (total,)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_on_embedded_database_stops_it_cleanly(tmp_path, sig):
    data_dir = tmp_path / "data"
    for attempt in range(2):  # the second start proves no stale lock was left
        with ServeProcess(data_dir=data_dir, stderr=subprocess.STDOUT, stdout=subprocess.PIPE) as s:
            s.wait_ready()
            assert postgres_processes(data_dir), "embedded postgres is not running"
            s.stop(sig)
        assert not postgres_processes(data_dir), f"postgres left running (attempt {attempt})"


def test_demo_prints_credentials_that_sign_in(tmp_path):
    data_dir = tmp_path / "data"
    demo_cmd = (*CLI, "demo")
    with ServeProcess(
        "--rate", "2", data_dir=data_dir, command=demo_cmd, stdout=subprocess.PIPE, stderr=None
    ) as served:
        lines: dict[str, str] = {}
        assert served.proc.stdout is not None
        for line in served.proc.stdout:  # ends if the process dies
            key, _, value = line.strip().partition(": ")
            if key in {"open", "username", "password"}:
                lines[key] = value.strip()
            if len(lines) == 3:
                break
        assert set(lines) == {"open", "username", "password"}, lines
        url = lines["open"].rstrip("/")
        assert url == served.url
        served.wait_ready()
        with httpx.Client(base_url=url) as c:
            assert c.get("/").status_code == 200
            token = login(c, lines["username"], lines["password"])
            me = c.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
        served.stop(signal.SIGINT)
    assert not postgres_processes(data_dir)
