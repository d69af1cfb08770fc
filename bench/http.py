"""A minimal keep-alive HTTP/1.1 GET client on asyncio streams.

The load generator shares two cores with the server it measures, so it must
cost as little CPU per request as possible: no client library's machinery.
"""

from __future__ import annotations

import asyncio
import contextlib


class HttpError(RuntimeError):
    pass


class ConnectionClosed(HttpError):
    """The server closed the connection before sending a response."""


class BodyCutOff(HttpError):
    """The response started but its body ended early: the server cut it off."""


# Failures that mean the server had closed an idle keep-alive connection
# before our request reached it (a FIN: EOF before the head; an RST: reset or
# broken pipe on write).
_CLOSED_WHILE_IDLE = (ConnectionClosed, ConnectionResetError, BrokenPipeError)


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._head = f"Host: {host}:{port}\r\n{extra}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        # Whether the open connection has already carried a response (is being reused).
        self._reused = False
        self.reconnects = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 20
            )
            self._reused = False
        return self._reader, self._writer

    async def get(self, path: str) -> tuple[int, bytes]:
        reused = self._reader is not None and self._reused
        try:
            return await self._exchange(path)
        except _CLOSED_WHILE_IDLE:
            if not reused:
                raise
        # The server may close a keep-alive connection once it has been idle
        # for its timeout (uvicorn: 5 s), and we only find out when we use it.
        # Retrying a GET on a new connection is what any HTTP client does here
        # (RFC 9112 section 9.3.1): the server never saw the request.
        self.reconnects += 1
        return await self._exchange(path)

    async def _exchange(self, path: str) -> tuple[int, bytes]:
        try:
            return await self._exchange_once(path)
        except BaseException:
            # Whatever is left of a failed exchange must not be read as the
            # next response: the next request starts on a new connection.
            await self.close()
            raise

    async def _exchange_once(self, path: str) -> tuple[int, bytes]:
        reader, writer = await self._open()
        writer.write(f"GET {path} HTTP/1.1\r\n{self._head}".encode("latin-1"))
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise ConnectionClosed("connection closed before the response") from exc
            raise HttpError("response head cut off") from exc
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        try:
            if "content-length" in fields:
                body = await reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                body = await _chunked(reader)
            else:
                raise HttpError("response without a length")
        except asyncio.IncompleteReadError as exc:
            raise BodyCutOff(f"HTTP {status} body cut off by the server") from exc
        self._reused = True
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        line = await reader.readline()
        if not line.endswith(b"\n"):
            # readline() returns what it has at EOF instead of raising.
            raise asyncio.IncompleteReadError(line, None)
        size = int(line.split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return b"".join(parts)
        parts.append(chunk[:-2])
