"""Cash-out events read from the database and their Server-Sent-Events frames.

Shared by the listener (live fan-out) and the stream route (replay), so both
send byte-for-byte the same frame for the same event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.response import ServerSentEventMessage
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from app.db.queries import Queries
from app.schemas import ActivityItem

QUERIES = (
    "stream_last_seq",
    "stream_last_seqs",
    "stream_events_behind",
    "stream_events_after",
    "stream_snapshot",
    "ping",
)

PING_FRAME = ServerSentEventMessage(data=None, comment="ping").encode()


@dataclass(frozen=True, slots=True)
class Event:
    """One event of one agent's stream, encoded once and shared by all its streams."""

    agent_id: int
    seq: int
    # None when the bet is no longer one of the agent's customers' cash-outs:
    # the position still advances, nothing is sent.
    frame: bytes | None


def retry_frame(milliseconds: int) -> bytes:
    return ServerSentEventMessage(data=None, retry=milliseconds).encode()


def comment_frame(text: str) -> bytes:
    return ServerSentEventMessage(data=None, comment=text).encode()


def reset_frame(reason: str) -> bytes:
    return ServerSentEventMessage(data=reason, event="reset").encode()


def _frame(row: Mapping[str, Any]) -> bytes | None:
    if row["bet_id"] is None:
        return None
    item = ActivityItem(**{k: v for k, v in row.items() if k not in ("agent_id", "seq")})
    # msgspec JSON has no raw line breaks, so the item is one data: line.
    data = msgspec.json.encode(item).decode()
    return ServerSentEventMessage(data=data, event="cash_out", id=row["event_id"]).encode()


async def last_seq(conn: AsyncConnection[Any], queries: Queries, agent_id: int) -> int:
    cur = await conn.execute(queries["stream_last_seq"], {"agent_id": agent_id})
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def count_after(
    conn: AsyncConnection[Any], queries: Queries, agent_id: int, after_seq: int, limit: int
) -> int:
    """How many of the agent's events follow ``after_seq`` (at most ``limit``)."""
    cur = await conn.execute(
        queries["stream_events_behind"],
        {"agent_id": agent_id, "after_seq": after_seq, "limit": limit},
    )
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def last_seqs(
    conn: AsyncConnection[Any], queries: Queries, agent_ids: list[int]
) -> dict[int, int]:
    cur = await conn.execute(queries["stream_last_seqs"], {"agent_ids": agent_ids})
    return {int(agent_id): int(seq) for agent_id, seq in await cur.fetchall()}


async def events_after(
    conn: AsyncConnection[Any], queries: Queries, positions: Mapping[int, int], batch: int
) -> list[Event]:
    """At most ``batch`` events per agent after its position, by agent then seq."""
    agent_ids = list(positions)
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        queries["stream_events_after"],
        {
            "agent_ids": agent_ids,
            "after_seqs": [positions[a] for a in agent_ids],
            "batch": batch,
        },
    )
    return [
        Event(agent_id=int(row["agent_id"]), seq=int(row["seq"]), frame=_frame(row))
        for row in await cur.fetchall()
    ]
