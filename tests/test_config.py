from datetime import timedelta
from pathlib import Path

import pytest

from app.config import ConfigError, Settings


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
