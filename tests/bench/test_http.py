"""The benchmark's HTTP client (bench/http.py) over real sockets.

The peer is a tiny HTTP/1.1 server that behaves as uvicorn does at the edges
that matter: it closes a keep-alive connection between requests (uvicorn's
idle keep-alive timeout), or cuts a chunked body off mid-way.
"""

import asyncio

import pytest

from bench.http import BodyCutOff, Connection

WAIT_S = 5


class Peer:
    """Answers each request per `script`: one entry per connection, in order of arrival."""

    def __init__(self, script):
        self.script = list(script)
        self.connections = 0
        self.closed = asyncio.Event()
        self.server = None

    async def handle(self, reader, writer):
        self.connections += 1
        answer = self.script.pop(0)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        # Closing without "Connection: close", as a server does when a
        # keep-alive connection has been idle for its timeout.
        writer.close()
        await writer.wait_closed()
        self.closed.set()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()

    @property
    def port(self):
        return self.server.sockets[0].getsockname()[1]


OK = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"
CHUNKED = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
CUT_OFF = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n9\r\nde"


async def test_reads_a_chunked_body():
    async with Peer([CHUNKED]) as peer:
        conn = Connection("127.0.0.1", peer.port, {})
        assert await conn.get("/") == (200, b"abcde")
        await conn.close()


async def test_reconnects_when_the_server_closed_the_idle_keep_alive_connection():
    async with Peer([OK, OK]) as peer:
        conn = Connection("127.0.0.1", peer.port, {})
        assert await conn.get("/") == (200, b"hello")
        await asyncio.wait_for(peer.closed.wait(), WAIT_S)
        assert await conn.get("/") == (200, b"hello")
        assert peer.connections == 2
        assert conn.reconnects == 1
        await conn.close()


async def test_a_body_cut_off_is_reported_as_such_and_the_next_request_starts_afresh():
    async with Peer([CUT_OFF, OK]) as peer:
        conn = Connection("127.0.0.1", peer.port, {})
        with pytest.raises(BodyCutOff):
            await conn.get("/")
        assert await conn.get("/") == (200, b"hello")
        assert peer.connections == 2
        # A new connection after a failure is not a keep-alive retry.
        assert conn.reconnects == 0
        await conn.close()
