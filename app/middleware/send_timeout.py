"""A bound on how long one chunk of a streamed response may wait for the client.

A client that stops reading (a stalled download) fills the socket, and the
handler then waits in ``send()`` for as long as the client stays connected,
holding whatever it holds: for the export, a pooled connection, an export slot
and (until PostgreSQL's own timeout ends it) a transaction's snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Per-request cleanups a handler registers (scope state), run when the
# response ends however it ends: a failed response skips Litestar's
# background tasks, and a suspended async generator is otherwise closed
# only when it is garbage collected.
CLEANUPS = "send_timeout.cleanups"


class SendStalled(TimeoutError):
    pass


def on_end(scope: Scope | Any, cleanup: Callable[[], Awaitable[Any]]) -> None:
    scope.setdefault("state", {}).setdefault(CLEANUPS, []).append(cleanup)


def send_timeout(seconds: Callable[[Scope], float]) -> Callable[[ASGIApp], ASGIApp]:
    """Route middleware: a body chunk not taken by the client within the limit ends the response.

    Raising after the response has started makes the server close the
    connection without the final chunk, so the client sees a broken download.
    """

    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            limit = seconds(scope)

            async def timed_send(message: Message) -> None:
                if message["type"] != "http.response.body":
                    await send(message)
                    return
                try:
                    async with asyncio.timeout(limit):
                        await send(message)
                except TimeoutError:
                    log.warning(
                        "%s ended: the client took no data for %g s", scope.get("path"), limit
                    )
                    raise SendStalled(
                        f"the client took no data for {limit:g} s; response ended"
                    ) from None

            try:
                await app(scope, receive, timed_send)
            finally:
                for cleanup in scope.get("state", {}).pop(CLEANUPS, []):
                    await cleanup()

        return wrapped

    return middleware
