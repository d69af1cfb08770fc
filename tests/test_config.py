import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.config import ConfigError, Settings, env_name


def test_defaults_without_environment():
    s = Settings.from_env({})
    assert s.database_url is None
    assert s.data_dir == Path(".data")
    assert s.session_ttl == timedelta(hours=12)


def test_values_from_environment():
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://x@h/db",
            "CASHOUT_FEED_SESSION_TTL_HOURS": "0.5",
            "CASHOUT_FEED_DATA_DIR": "/tmp/d",
        }
    )
    assert s.database_url == "postgresql://x@h/db"
    assert s.session_ttl == timedelta(minutes=30)
    assert s.data_dir == Path("/tmp/d")


@pytest.mark.parametrize(
    "name,value",
    [
        ("CASHOUT_FEED_SESSION_TTL_HOURS", "soon"),
        ("CASHOUT_FEED_SESSION_TTL_HOURS", "-1"),
        ("CASHOUT_FEED_POOL_MAX_SIZE", "0"),
        ("CASHOUT_FEED_COOKIE_SECURE", "maybe"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_stream_settings_from_env():
    s = Settings.from_env(
        {
            "CASHOUT_FEED_STREAM_PING_SECONDS": "0.5",
            "CASHOUT_FEED_STREAM_QUEUE_SIZE": "50",
            "CASHOUT_FEED_STREAM_MAX_PER_AGENT": "3",
            "CASHOUT_FEED_STREAM_MAX_TOTAL": "100",
        }
    )
    assert (s.stream_ping_seconds, s.stream_queue_size) == (0.5, 50)
    assert (s.stream_max_per_agent, s.stream_max_total) == (3, 100)
    with pytest.raises(ConfigError, match="CASHOUT_FEED_STREAM_QUEUE_SIZE"):
        Settings.from_env({"CASHOUT_FEED_STREAM_QUEUE_SIZE": "0"})


def test_the_readme_table_has_one_row_per_setting():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M)
    # uvicorn's own, read by uvicorn itself: which proxies X-Forwarded-* is trusted from.
    uvicorn_settings = ["FORWARDED_ALLOW_IPS"]
    expected = [env_name(name) for name in Settings.__struct_fields__] + uvicorn_settings
    assert sorted(rows) == sorted(expected)


def test_scale_out_settings_from_env():
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://app@pgbouncer:6432/platform",
            "DATABASE_READ_URL": "postgresql://app@replica/platform",
            "DATABASE_LISTEN_URL": "postgresql://app@primary/platform",
            "CASHOUT_FEED_DB_POOLER": "Transaction",
            "CASHOUT_FEED_REPLICA_MAX_LAG_SECONDS": "2.5",
        }
    )
    assert s.database_read_url == "postgresql://app@replica/platform"
    assert s.direct_url == "postgresql://app@primary/platform"
    assert (s.db_pooler, s.replica_max_lag_seconds) == ("transaction", 2.5)
    assert Settings.from_env({"DATABASE_URL": "postgresql://x@h/db"}).direct_url == (
        "postgresql://x@h/db"
    )
    with pytest.raises(ConfigError, match="CASHOUT_FEED_REPLICA_MAX_LAG_SECONDS"):
        Settings.from_env({"CASHOUT_FEED_REPLICA_MAX_LAG_SECONDS": "0"})
    with pytest.raises(ConfigError, match="CASHOUT_FEED_DB_POOLER"):
        Settings.from_env({"CASHOUT_FEED_DB_POOLER": "session"})


def test_a_transaction_pooler_needs_a_direct_listen_url():
    with pytest.raises(ConfigError, match="DATABASE_LISTEN_URL"):
        Settings.from_env(
            {"DATABASE_URL": "postgresql://x@h/db", "CASHOUT_FEED_DB_POOLER": "transaction"}
        )
