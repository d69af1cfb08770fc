"""The operator's agent commands: create an agent (demos, tests) or give agents that
already exist on the platform a password (the password lives in the app's schema)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.db.queries import Queries
from app.security import hash_password

QUERIES = ("agent_create", "agent_ids_by_username", "agent_set_password")
MIN_PASSWORD_LENGTH = 8


class AgentAdminError(Exception):
    pass


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AgentAdminError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")


def create(
    url: str, queries: Queries, username: str, display_name: str | None, password: str
) -> int:
    check_password(password)
    params = {
        "username": username,
        "display_name": display_name or username,
        "password_hash": hash_password(password),
    }
    with psycopg.connect(url) as conn:
        try:
            row = conn.execute(queries["agent_create"], params).fetchone()
        except psycopg.errors.UniqueViolation:
            raise AgentAdminError(f"an agent named {username!r} already exists") from None
        except psycopg.errors.UndefinedTable:
            raise AgentAdminError(
                "the database has no schema yet: run 'cashout-feed migrate'"
            ) from None
    assert row is not None
    return int(row[0])


def set_password(url: str, queries: Queries, usernames: Sequence[str], password: str) -> list[int]:
    """Give every named agent this password; all or none (an unknown name changes nothing)."""
    check_password(password)
    with psycopg.connect(url) as conn, conn.transaction():
        try:
            found: dict[str, int] = dict(
                conn.execute(
                    queries["agent_ids_by_username"], {"usernames": list(usernames)}
                ).fetchall()
            )
        except psycopg.errors.UndefinedTable:
            raise AgentAdminError(
                "the database has no schema yet: run 'cashout-feed migrate'"
            ) from None
        unknown = [name for name in usernames if name not in found]
        if unknown:
            raise AgentAdminError(
                "no agent named " + ", ".join(repr(n) for n in unknown) + "; nothing changed"
            )
        agent_ids = [int(found[name]) for name in usernames]
        conn.execute(
            queries["agent_set_password"],
            {"agent_ids": agent_ids, "password_hash": hash_password(password)},
        )
    return agent_ids
