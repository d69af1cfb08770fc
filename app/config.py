"""Settings: each declared once (type, default, bounds, environment variable), read when
the app or a command is built, then passed down explicitly."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
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
class Env:
    """Where a setting comes from: the variable's name, and for a duration the unit
    its number is in (``CASHOUT_FEED_SESSION_TTL_HOURS=0.5`` is 30 minutes)."""

    name: str
    unit: timedelta | None = None


SECONDS = timedelta(seconds=1)
MINUTES = timedelta(minutes=1)
HOURS = timedelta(hours=1)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: Annotated[
        str | None,
        Meta(description="PostgreSQL 15+ to use; unset: the embedded server in data_dir"),
        Env("DATABASE_URL"),
    ] = None
    data_dir: Annotated[
        Path,
        Meta(description="where the embedded PostgreSQL keeps its data (<dir>/pg)"),
        Env(ENV_PREFIX + "DATA_DIR"),
    ] = Path(".data")
    session_ttl: Annotated[
        timedelta,
        Meta(description="how long a sign-in lasts"),
        Env(ENV_PREFIX + "SESSION_TTL_HOURS", HOURS),
    ] = timedelta(hours=12)
    pool_min_size: Annotated[
        int,
        Meta(ge=1, le=1000, description="connections the pool keeps open"),
        Env(ENV_PREFIX + "POOL_MIN_SIZE"),
    ] = 1
    pool_max_size: Annotated[
        int,
        Meta(ge=1, le=1000, description="connections the pool may open"),
        Env(ENV_PREFIX + "POOL_MAX_SIZE"),
    ] = 10
    # Below the SPEC's 2 s, so that the 503 (the wait and the answer) arrives within it.
    db_timeout: Annotated[
        float,
        Meta(
            gt=0, le=60, description="seconds a request waits for a database connection before 503"
        ),
        Env(ENV_PREFIX + "DB_TIMEOUT"),
    ] = 1.5
    cookie_secure: Annotated[
        Literal["auto", "true", "false"],
        Meta(
            description="auto: Secure cookie when the request came over https (also per a"
            " trusted proxy's X-Forwarded-Proto); true/false force it"
        ),
        Env(ENV_PREFIX + "COOKIE_SECURE"),
    ] = "auto"
    log_level: Annotated[LogLevel, Meta(description="log level"), Env(ENV_PREFIX + "LOG_LEVEL")] = (
        "INFO"
    )
    log_format: Annotated[
        Literal["auto", "json", "text"],
        Meta(description="auto: short lines on a terminal, JSON lines otherwise"),
        Env(ENV_PREFIX + "LOG_FORMAT"),
    ] = "auto"
    # A success clears the username's count.
    login_username_limit: Annotated[
        int,
        Meta(ge=1, description="sign-in attempts per username per window"),
        Env(ENV_PREFIX + "LOGIN_USERNAME_LIMIT"),
    ] = 10
    login_address_limit: Annotated[
        int,
        Meta(ge=1, description="sign-in attempts per client address per window"),
        Env(ENV_PREFIX + "LOGIN_ADDRESS_LIMIT"),
    ] = 50
    login_window: Annotated[
        timedelta,
        Meta(description="the sign-in limits' window"),
        Env(ENV_PREFIX + "LOGIN_WINDOW_MINUTES", MINUTES),
    ] = timedelta(minutes=15)
    # E.g. when the page is served under another name than the API.
    trusted_origins: Annotated[
        tuple[str, ...],
        Meta(
            description="comma-separated origins besides the app's own from which a"
            " cookie-signed-in page may POST"
        ),
        Env(ENV_PREFIX + "TRUSTED_ORIGINS"),
    ] = ()
    stream_ping_seconds: Annotated[
        float,
        Meta(gt=0, le=15, description="idle streams get a ': ping' this often (SPEC: ≤ 15 s)"),
        Env(ENV_PREFIX + "STREAM_PING_SECONDS"),
    ] = 15.0
    # A stream that falls further behind is cut off (it resumes with Last-Event-ID).
    stream_queue_size: Annotated[
        int,
        Meta(ge=1, description="events a stream may have waiting"),
        Env(ENV_PREFIX + "STREAM_QUEUE_SIZE"),
    ] = 1000
    stream_max_per_agent: Annotated[
        int,
        Meta(ge=1, description="open streams per agent per process"),
        Env(ENV_PREFIX + "STREAM_MAX_PER_AGENT"),
    ] = 20
    stream_max_total: Annotated[
        int,
        Meta(ge=1, description="open streams per process"),
        Env(ENV_PREFIX + "STREAM_MAX_TOTAL"),
    ] = 10_000
    # Past either, the export is ended and logged.
    export_statement_timeout: Annotated[
        float,
        Meta(gt=0, description="seconds one fetch of the CSV export may run"),
        Env(ENV_PREFIX + "EXPORT_STATEMENT_TIMEOUT"),
    ] = 30.0
    export_idle_timeout: Annotated[
        float,
        Meta(gt=0, description="seconds a download may stall (the client not reading)"),
        Env(ENV_PREFIX + "EXPORT_IDLE_TIMEOUT"),
    ] = 60.0

    def __post_init__(self) -> None:
        for name in ("session_ttl", "login_window"):
            if getattr(self, name) <= timedelta(0):
                raise ConfigError(f"{_env(name).name} must be greater than 0")
        if self.pool_min_size > self.pool_max_size:
            raise ConfigError(
                f"{ENV_PREFIX}POOL_MIN_SIZE must not exceed {ENV_PREFIX}POOL_MAX_SIZE"
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
        for name, source in _sources():
            value = env.get(source.name, "").strip()
            if value:
                raw[name] = _parse(name, source, value)
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_decode)
        except msgspec.ValidationError as exc:
            raise ConfigError(_explain(str(exc))) from None

    def with_database(self, url: str) -> Settings:
        return msgspec.structs.replace(self, database_url=url)


def _sources() -> Iterator[tuple[str, Env]]:
    for name in Settings.__struct_fields__:
        yield name, _env(name)


def _env(name: str) -> Env:
    hint = get_type_hints(Settings, include_extras=True)[name]
    return next(a for a in get_args(hint) if isinstance(a, Env))


def _parse(name: str, source: Env, value: str) -> Any:
    if name == "log_level":
        return value.upper()
    if name == "cookie_secure":
        return value.lower()
    if name == "trusted_origins":
        return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
    if source.unit is not None:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{source.name} must be a number, got {value!r}") from None
        return number * source.unit.total_seconds()
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
    return f"{_env(match.group(1)).name}: {message[: match.start()]}"
