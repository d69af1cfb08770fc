"""Device cookies: a browser where an agent signed in before is not locked out with strangers.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": after a
successful sign-in the browser gets a cookie bound to that username and signed
with a key of the app's. A later attempt for the same username that carries a
valid one is counted against that device alone, so that an attacker who fails
again and again for the username, or from the same office address, cannot
lock the agent out; without one (or with a forged one, or another user's) the
attempt is a stranger's and limited as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from psycopg_pool import AsyncConnectionPool

from app.db.queries import Queries

DEVICE_COOKIE = "cashout_device"
# Only sign-in reads it.
DEVICE_COOKIE_PATH = "/api/v1/auth/login"
LIFETIME = timedelta(days=180)
QUERIES = ("device_cookie_key",)
# Cookies longer than this are not ours: refused before any hashing.
MAX_LENGTH = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DeviceCookies:
    def __init__(self, pool: AsyncConnectionPool, queries: Queries) -> None:
        self._pool = pool
        self._queries = queries
        self._key: bytes | None = None

    async def _signing_key(self) -> bytes:
        if self._key is None:
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    self._queries["device_cookie_key"], {"candidate": secrets.token_bytes(32)}
                )
                row = await cur.fetchone()
            assert row is not None
            self._key = bytes(row[0])
        return self._key

    def _signature(self, key: bytes, payload: str) -> str:
        return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())

    async def issue(self, username: str) -> str:
        """A new cookie for this username: <username, base64>.<nonce>.<signature>."""
        payload = f"{_b64(username.encode('utf-8', 'surrogatepass'))}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._signature(await self._signing_key(), payload)}"

    async def device(self, cookie: str | None, username: str) -> str | None:
        """The device's id if ``cookie`` is a valid device cookie for ``username``, else None."""
        if not cookie or len(cookie) > MAX_LENGTH or cookie.count(".") != 2:
            return None
        encoded_user, nonce, signature = cookie.split(".")
        payload = f"{encoded_user}.{nonce}"
        expected = self._signature(await self._signing_key(), payload)
        if not hmac.compare_digest(expected, signature):
            return None
        if encoded_user != _b64(username.encode("utf-8", "surrogatepass")):
            return None
        # Stored hashed: the table never holds a usable cookie.
        return hashlib.sha256(payload.encode("ascii")).hexdigest()
