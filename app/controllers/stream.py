"""The live stream of an agent's cash-outs (Server-Sent Events), resumable."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, get
from litestar.exceptions import HTTPException, TooManyRequestsException
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter
from litestar.types import ASGIApp

from app.errors import RETRY_AFTER_SECONDS
from app.live import events
from app.live.events import Event
from app.live.sse import EventStream
from app.live.subscription import ListenerUnavailable, StreamLimitError
from app.services import AppServices, CurrentAgent

QUERIES = events.QUERIES

# A resume further behind than this is answered with `event: reset`.
MAX_REPLAY = 1000
# How far the reset's message counts the events missed.
COUNT_BEHIND_CAP = 100_000
# Route option telling any compression middleware to leave the stream alone
# (CompressionConfig(exclude_opt_key="skip_compression")): compressors buffer,
# which would hold events back.
SKIP_COMPRESSION = "skip_compression"
_POSITION = re.compile(r"[0-9]{1,18}")


class StreamController(Controller):
    path = "/cash-out"
    tags = ["cash-out"]

    @get(
        "/stream",
        summary="Live cash-outs as Server-Sent Events",
        description=(
            "Each cash-out after it commits: `id: <event_id>`, `event: cash_out`, `data:` the"
            " activity item. Resume from `Last-Event-ID` (header, wins) or `last_event_id`"
            " (query); more than 1,000 events behind or an unknown position ends with"
            " `event: reset`."
        ),
        opt={SKIP_COMPRESSION: True},
        responses={
            200: ResponseSpec(
                str,
                media_type="text/event-stream",
                description="`retry:`, then `cash_out` events, pings, or one `reset`",
            ),
            429: ResponseSpec(None, description="Too many open streams (per agent or server)"),
            503: ResponseSpec(None, description="The database or its listener is unavailable"),
        },
    )
    async def stream(
        self,
        agent: CurrentAgent,
        services: AppServices,
        last_event_id: Annotated[
            str | None,
            QueryParameter(
                name="last_event_id",
                description="Resume after this event id (first connect).",
            ),
        ] = None,
        last_event_id_header: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                description="Resume after this event id (EventSource reconnect; wins).",
            ),
        ] = None,
    ) -> ASGIApp:
        hub, metrics = services.hub, services.metrics
        # An empty id means "no position" (as EventSource treats `id:` with no value).
        raw = (last_event_id_header or "").strip() or (last_event_id or "").strip() or None
        try:
            sub = await hub.subscribe(agent.id)
        except StreamLimitError as exc:
            raise TooManyRequestsException(
                str(exc), headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            ) from None
        except ListenerUnavailable:
            raise HTTPException(
                status_code=503,
                detail="The live stream is reconnecting to the database; try again shortly.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from None
        try:
            # Subscribed first, read second: anything committed from here on is
            # in the queue, anything before in the replay; the overlap is skipped.
            queries = services.queries
            async with services.pool.connection() as conn, conn.transaction():
                await conn.execute(queries["stream_snapshot"])
                newest = await events.last_seq(conn, queries, agent.id)
                start, problem = _position(raw, newest)
                replay: list[Event] = []
                if problem is None and start < newest:
                    replay = await events.events_after(
                        conn, queries, {agent.id: start}, MAX_REPLAY + 1
                    )
                    if len(replay) > MAX_REPLAY:
                        behind = await events.count_after(
                            conn, queries, agent.id, start, COUNT_BEHIND_CAP
                        )
                        start, problem, replay = 0, _too_far_behind(start, behind), []
        except BaseException:
            sub.close()
            raise
        if problem is not None:
            sub.close()
        return EventStream(sub, replay, start, problem, metrics)


def _position(raw: str | None, newest: int) -> tuple[int, str | None]:
    """Where the stream starts, or why it cannot (sent as ``event: reset``)."""
    if raw is None:
        return newest, None
    value = raw.strip()
    if not _POSITION.fullmatch(value):
        return 0, f"unknown event id {value[:40]!r}: reload the list and reconnect"
    position = int(value)
    if position > newest:
        return 0, f"unknown event id {position}: reload the list and reconnect"
    return position, None


def _too_far_behind(position: int, behind: int) -> str:
    count = f"more than {behind - 1}" if behind >= COUNT_BEHIND_CAP else str(behind)
    return (
        f"event id {position} is {count} events behind (more than {MAX_REPLAY}):"
        " reload the list and reconnect from its last_event_id"
    )
