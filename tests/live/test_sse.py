"""What an open stream costs the server: nothing running but its request's own task."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import httpx

from app.middleware.security_headers import STRICT_CSP
from tests import factories
from tests.conftest import LiveServer, login
from tests.helpers import hub_of
from tests.sse import open_stream

# The listener's own tasks come and go as it works; they are not per stream.
LISTENER_TASKS = ("Hub.", "Listener.", "Event.wait")


async def server_tasks(server: LiveServer) -> Counter[str]:
    """The server loop's tasks by coroutine name, listener internals left out."""
    loop = next(iter(hub_of(server).tasks)).get_loop()

    async def names() -> Counter[str]:
        return Counter(
            name
            for t in asyncio.all_tasks()
            if not (name := t.get_coro().__qualname__).startswith(LISTENER_TASKS)
        )

    future = asyncio.run_coroutine_threadsafe(names(), loop)
    return await asyncio.wait_for(asyncio.wrap_future(future), 10)


async def test_an_idle_stream_keeps_only_its_request_task(server, client, db, agent):
    token = login(client, agent["username"])
    customer = factories.make_customer(db, agent["id"])
    bet = factories.make_bet(db, customer)
    before = await server_tasks(server)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as c,
        contextlib.AsyncExitStack() as stack,
    ):
        streams = [await stack.enter_async_context(open_stream(c, token)) for _ in range(5)]
        factories.cash_out(db, bet)
        for sse in streams:  # each has written an event since it opened
            await sse.events(1)
        during = await server_tasks(server)
    # One task per open stream (the server's own, for its request), nothing else.
    assert sum(during.values()) - sum(before.values()) == 5
    assert len(during - before) == 1


async def test_the_stream_head_carries_the_headers_of_every_response(server, client, agent):
    token = login(client, agent["username"])
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as c,
        open_stream(c, token) as sse,
    ):
        headers = sse.response.headers
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["cache-control"] == "no-cache, no-transform"
    assert headers["x-accel-buffering"] == "no"
    assert headers["content-security-policy"] == STRICT_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-request-id"]
