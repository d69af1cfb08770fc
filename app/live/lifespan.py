"""Starts the hub and its listener with the app, and ends every stream when the app stops."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from app.config import Settings
from app.db.queries import Queries
from app.live.hub import Hub
from app.metrics import Metrics


@asynccontextmanager
async def running_hub(
    url: str, queries: Queries, settings: Settings, metrics: Metrics
) -> AsyncIterator[Hub]:
    """The hub with its listener started; every stream ended when the block exits."""
    hub = Hub(url, queries, settings, metrics)
    await hub.start()
    # Ready as soon as the app is, when the database is up; when it is not,
    # start anyway and let /readyz say so until the listener gets through.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(hub.wait_connected(), settings.db_timeout)
    restore = _end_streams_on_exit_signal(hub)
    try:
        yield hub
    finally:
        restore()
        await hub.stop()


def _end_streams_on_exit_signal(hub: Hub) -> Callable[[], None]:
    """End the streams as soon as the server is asked to stop.

    uvicorn waits for open responses before it runs the lifespan shutdown, and
    a stream never finishes by itself: without this, every stop would wait for
    the graceful-shutdown timeout and then cancel the streams mid-write. Chains
    to uvicorn's own handler; only possible in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(hub.end_streams, "the server is shutting down")
        chained = previous.get(signal.Signals(signum))
        if callable(chained):
            chained(signum, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, old)

    return restore
