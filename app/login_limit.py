"""The login rate limit: attempts per username and per client address, kept in PostgreSQL."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from psycopg import AsyncConnection

from app.config import Settings
from app.db.queries import Queries

QUERIES = (
    "login_attempt_count",
    "login_attempt_succeeded",
    "login_device_succeeded",
    "login_attempts_prune",
)


def client_address(request: Request[Any, Any, Any]) -> str:
    """The client's address; IPv6 clients by /64, the block one subscriber usually holds.

    Behind a trusted proxy uvicorn has already put the X-Forwarded-For address here.
    """
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def username_key(username: str) -> str:
    """The username as stored in ``login_attempts``: hashed, because people
    sometimes type their password into the username field."""
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


async def count_attempt(
    conn: AsyncConnection,
    queries: Queries,
    settings: Settings,
    username: str,
    address: str,
    device: str | None = None,
) -> None:
    """Count one sign-in attempt; 429 with Retry-After if a limit is exceeded.

    ``device``: the id of a valid device cookie for this username. Such an
    attempt counts against that device alone (app/device_cookie.py); any other
    counts against the username and the client address, as a stranger's.
    """
    if device is None:
        scopes, keys = ["username", "address"], [username_key(username), address]
    else:
        scopes, keys = ["device"], [device]
    params = {"scopes": scopes, "keys": keys, "window": settings.login_window}
    cur = await conn.execute(queries["login_attempt_count"], params)
    rows = await cur.fetchall()
    # Cheap when nothing is stale (an index probe): rows live one window at most.
    await conn.execute(queries["login_attempts_prune"], {"window": settings.login_window})
    limits = {
        "username": settings.login_username_limit,
        "address": settings.login_address_limit,
        "device": settings.login_device_limit,
    }
    retry_after = max(
        (retry for scope, attempts, retry in rows if attempts > limits[scope]), default=None
    )
    if retry_after is not None:
        raise TooManyRequestsException(
            detail=f"Too many sign-in attempts; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


async def attempt_succeeded(
    conn: AsyncConnection, queries: Queries, username: str, address: str, device: str | None
) -> None:
    if device is not None:
        await conn.execute(queries["login_device_succeeded"], {"device": device})
        return
    await conn.execute(
        queries["login_attempt_succeeded"],
        {"username": username_key(username), "address": address},
    )
