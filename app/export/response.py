"""The export's response: CSV chunks written to ASGI ``send()``, each within a time limit.

A client that stops reading (a stalled download) fills the socket, and a plain
streamed response then waits in ``send()`` for as long as the client stays
connected, holding a pooled connection and an export slot. Here each chunk
must be taken within the idle timeout, a client that goes away ends the
download at once, and the rows' generator is closed however the response ends
(Litestar's own ``Stream`` leaves that to garbage collection when the response
fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from litestar.types import Receive, Scope, Send

log = logging.getLogger(__name__)


class SendStalled(TimeoutError):
    pass


class CsvDownload:
    __slots__ = ("_first", "_idle_timeout", "_rows")

    def __init__(
        self, first: bytes, rows: AsyncGenerator[bytes, None], idle_timeout: float
    ) -> None:
        self._first = first
        self._rows = rows
        self._idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writer = asyncio.create_task(self._write(scope, send))
        watcher = asyncio.create_task(_disconnect(receive))
        try:
            await asyncio.wait({writer, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if writer.done():
                # A failure after the 200 went out: re-raised, the server
                # aborts the connection, and the client sees a broken download
                # instead of a short CSV.
                writer.result()
        finally:
            for task in (writer, watcher):
                task.cancel()
            await asyncio.gather(writer, watcher, return_exceptions=True)
            await self._rows.aclose()

    async def _write(self, scope: Scope, send: Send) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/csv; charset=utf-8"),
                    (
                        b"content-disposition",
                        f'attachment; filename="cash-out-activity-{stamp}.csv"'.encode(),
                    ),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await self._send_chunk(scope, send, self._first)
        async for chunk in self._rows:
            await self._send_chunk(scope, send, chunk)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_chunk(self, scope: Scope, send: Send, body: bytes) -> None:
        try:
            async with asyncio.timeout(self._idle_timeout):
                await send({"type": "http.response.body", "body": body, "more_body": True})
        except TimeoutError:
            log.warning(
                "%s ended: the client took no data for %g s", scope.get("path"), self._idle_timeout
            )
            raise SendStalled(
                f"the client took no data for {self._idle_timeout:g} s; response ended"
            ) from None


async def _disconnect(receive: Receive) -> None:
    with contextlib.suppress(Exception):
        while (await receive())["type"] != "http.disconnect":
            pass
