"""Settings: each declared once (type, default, bounds, environment variable), read when
the app or a command is built, then passed down explicitly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_type_hints

import msgspec
from msgspec import Meta

ENV_PREFIX = "CASHOUT_FEED_"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Unit:
    """A duration whose variable gives a number of these (``…_HOURS=0.5``: 30 minutes)."""

    size: timedelta
    suffix: str


Count = Annotated[int, Meta(ge=1)]
Seconds = Annotated[float, Meta(gt=0)]
Hours = Annotated[timedelta, Unit(timedelta(hours=1), "_HOURS")]
Minutes = Annotated[timedelta, Unit(timedelta(minutes=1), "_MINUTES")]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# Read from these variables as they are; every other setting from CASHOUT_FEED_<NAME>.
UNPREFIXED = frozenset({"database_url", "database_read_url", "database_listen_url"})


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting: its type and bounds, its default, and (from its name) its variable.

    The README's configuration table says what each one means.
    """

    database_url: str | None = None  # unset: the embedded PostgreSQL in data_dir
    database_read_url: str | None = None  # unset: reads go to database_url
    database_listen_url: str | None = None  # unset: database_url
    # "transaction": database_url (and database_read_url) go through PgBouncer in transaction mode.
    db_pooler: Literal["none", "transaction"] = "none"
    replica_max_lag_seconds: Seconds = 5.0
    data_dir: Path = Path(".data")
    session_ttl: Hours = timedelta(hours=12)
    pool_min_size: Annotated[int, Meta(ge=1, le=1000)] = 1
    pool_max_size: Annotated[int, Meta(ge=1, le=1000)] = 10
    # Seconds a request waits for a connection before its 503: below the SPEC's
    # 2 s, so that the 503 (the wait and the answer) arrives within it.
    db_timeout: Annotated[float, Meta(gt=0, le=60)] = 1.5
    # A request's statement waits this long for a lock (a platform deploy's
    # ALTER TABLE), then answers 503: with db_timeout, still a few seconds.
    db_lock_timeout: Annotated[float, Meta(gt=0, le=60)] = 1.0
    db_statement_timeout: Annotated[float, Meta(gt=0, le=600)] = 5.0
    cookie_secure: Literal["auto", "true", "false"] = "auto"
    log_level: LogLevel = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    login_window: Minutes = timedelta(minutes=15)
    login_username_limit: Count = 10
    login_address_limit: Count = 50
    login_device_limit: Count = 20
    trusted_origins: tuple[str, ...] = ()
    # SPEC: a ping at least every 15 s.
    stream_ping_seconds: Annotated[float, Meta(gt=0, le=15)] = 15.0
    stream_queue_size: Count = 1000
    stream_max_per_agent: Count = 20
    stream_max_total: Count = 10_000
    export_statement_timeout: Seconds = 30.0
    export_idle_timeout: Seconds = 60.0

    def __post_init__(self) -> None:
        for name in ("session_ttl", "login_window"):
            if getattr(self, name) <= timedelta(0):
                raise ConfigError(f"{env_name(name)} must be greater than 0")
        if self.pool_min_size > self.pool_max_size:
            raise ConfigError(
                f"{ENV_PREFIX}POOL_MIN_SIZE must not exceed {ENV_PREFIX}POOL_MAX_SIZE"
            )
        if self.db_pooler == "transaction" and self.database_listen_url is None:
            raise ConfigError(
                f"{ENV_PREFIX}DB_POOLER=transaction needs DATABASE_LISTEN_URL, a direct"
                " connection to the primary: LISTEN and migrations cannot go through a"
                " transaction pooler"
            )
        for origin in self.trusted_origins:
            if not origin.startswith(("http://", "https://")):
                raise ConfigError(
                    f"{ENV_PREFIX}TRUSTED_ORIGINS must list origins like https://feed.example.com,"
                    f" got {origin!r}"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw: dict[str, Any] = {}
        for name in cls.__struct_fields__:
            value = env.get(env_name(name), "").strip()
            if value:
                raw[name] = _parse(name, value)
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_decode)
        except msgspec.ValidationError as exc:
            raise ConfigError(_explain(str(exc))) from None

    def with_database(self, url: str) -> Settings:
        return msgspec.structs.replace(self, database_url=url)

    @property
    def direct_url(self) -> str | None:
        """A session of its own on the primary: for LISTEN and migrations, never pooled."""
        return self.database_listen_url or self.database_url


def _unit(name: str) -> Unit | None:
    hint = get_type_hints(Settings, include_extras=True)[name]
    return next((a for a in get_args(hint) if isinstance(a, Unit)), None)


def env_name(name: str) -> str:
    """The environment variable of the setting ``name``."""
    if name in UNPREFIXED:
        return name.upper()
    unit = _unit(name)
    return ENV_PREFIX + name.upper() + (unit.suffix if unit is not None else "")


def _parse(name: str, value: str) -> Any:
    if name == "log_level":
        return value.upper()
    if name in ("cookie_secure", "db_pooler"):
        return value.lower()
    if name == "trusted_origins":
        return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
    unit = _unit(name)
    if unit is not None:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{env_name(name)} must be a number, got {value!r}") from None
        return number * unit.size.total_seconds()
    return value


def _decode(type_: type, value: Any) -> Any:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


_AT = re.compile(r" - at `\$\.(\w+)`$")


def _explain(message: str) -> str:
    """msgspec's message with the environment variable instead of the field's path."""
    match = _AT.search(message)
    if match is None:
        return message
    return f"{env_name(match.group(1))}: {message[: match.start()]}"
