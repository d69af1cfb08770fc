"""Settings, read from the environment once when the app or a command is built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

ENV_PREFIX = "CASHOUT_FEED_"


class ConfigError(ValueError):
    pass


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(ENV_PREFIX + name, default).strip()


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{ENV_PREFIX}{name} must be greater than 0, got {raw!r}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{ENV_PREFIX}{name} must be greater than 0, got {raw!r}")
    return value


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in _get(env, "TRUSTED_ORIGINS", "").split(","))
    for origin in filter(None, origins):
        if not origin.startswith(("http://", "https://")):
            raise ConfigError(
                f"{ENV_PREFIX}TRUSTED_ORIGINS must list origins like https://feed.example.com,"
                f" got {origin!r}"
            )
    return tuple(filter(None, origins))


@dataclass(frozen=True, slots=True)
class Settings:
    # None means: start the embedded PostgreSQL in data_dir.
    database_url: str | None = None
    data_dir: Path = Path(".data")
    session_ttl: timedelta = timedelta(hours=12)
    pool_min_size: int = 1
    pool_max_size: int = 10
    # How long a request waits for a database connection before answering 503.
    # Below the SPEC's 2 s so the 503 (wait + the answer itself) arrives within it.
    db_timeout: float = 1.5
    # "auto": Secure cookie when the request came over https (directly or per
    # X-Forwarded-Proto from a trusted proxy); "true"/"false" force it.
    cookie_secure: str = "auto"
    log_level: str = "INFO"
    # Login rate limit: attempts per username / per client address within the
    # window (a success clears the username's count).
    login_username_limit: int = 10
    login_address_limit: int = 50
    login_window: timedelta = timedelta(minutes=15)
    # Origins besides the app's own from which a cookie-signed-in page may POST
    # (e.g. when the page is served under another name than the API).
    trusted_origins: tuple[str, ...] = ()
    # Live stream: idle streams get a ": ping" comment this often (SPEC: at most 15 s).
    stream_ping_seconds: float = 15.0
    # Events a stream may have waiting; a stream that falls further behind is cut off.
    stream_queue_size: int = 1000
    stream_max_per_agent: int = 20
    stream_max_total: int = 10_000
    # CSV export, per transaction: the longest one fetch may run, and the longest
    # a download may stall (the client not reading) while its transaction holds
    # a snapshot open; past either the export is ended and logged.
    export_statement_timeout: float = 30.0
    export_idle_timeout: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        cookie_secure = _get(env, "COOKIE_SECURE", "auto").lower()
        if cookie_secure not in {"auto", "true", "false"}:
            raise ConfigError(f"{ENV_PREFIX}COOKIE_SECURE must be auto, true or false")
        pool_min = _positive_int(env, "POOL_MIN_SIZE", 1)
        pool_max = _positive_int(env, "POOL_MAX_SIZE", 10)
        if pool_min > pool_max:
            raise ConfigError(f"{ENV_PREFIX}POOL_MIN_SIZE must not exceed POOL_MAX_SIZE")
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or None,
            data_dir=Path(_get(env, "DATA_DIR", ".data")),
            session_ttl=timedelta(hours=_positive_float(env, "SESSION_TTL_HOURS", 12)),
            pool_min_size=pool_min,
            pool_max_size=pool_max,
            db_timeout=_positive_float(env, "DB_TIMEOUT", 1.5),
            cookie_secure=cookie_secure,
            log_level=_get(env, "LOG_LEVEL", "INFO").upper(),
            login_username_limit=_positive_int(env, "LOGIN_USERNAME_LIMIT", 10),
            login_address_limit=_positive_int(env, "LOGIN_ADDRESS_LIMIT", 50),
            login_window=timedelta(minutes=_positive_float(env, "LOGIN_WINDOW_MINUTES", 15)),
            trusted_origins=_origins(env),
            stream_ping_seconds=_positive_float(env, "STREAM_PING_SECONDS", 15.0),
            stream_queue_size=_positive_int(env, "STREAM_QUEUE_SIZE", 1000),
            stream_max_per_agent=_positive_int(env, "STREAM_MAX_PER_AGENT", 20),
            stream_max_total=_positive_int(env, "STREAM_MAX_TOTAL", 10_000),
            export_statement_timeout=_positive_float(env, "EXPORT_STATEMENT_TIMEOUT", 30.0),
            export_idle_timeout=_positive_float(env, "EXPORT_IDLE_TIMEOUT", 60.0),
        )

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)
