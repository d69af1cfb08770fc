"""A subscription's backlog: bounded, taken whole, pings folded into events."""

from __future__ import annotations

from app.live.events import Event
from app.live.subscription import Subscription


def event(seq: int) -> Event:
    return Event(agent_id=1, seq=seq, frame=f"id: {seq}\n\n".encode())


def subscription(maxsize: int = 3) -> tuple[Subscription, list[str]]:
    calls: list[str] = []
    sub = Subscription(1, maxsize, lambda s: calls.append("released"))
    sub.on_wake = lambda: calls.append("wake")
    return sub, calls


async def test_push_wakes_the_writer_and_refuses_beyond_the_bound():
    sub, calls = subscription(maxsize=2)
    assert sub.push(event(1)) and sub.push(event(2))
    assert not sub.push(event(3))
    assert calls == ["wake", "wake"]
    assert sub.qsize() == 2


async def test_take_returns_the_whole_backlog_once():
    sub, _ = subscription()
    assert sub.take() is None
    sub.push(event(1))
    sub.push(event(2))
    assert [e.seq for e in sub.take() or []] == [1, 2]
    assert sub.take() is None and sub.qsize() == 0


async def test_a_ping_is_an_empty_batch_unless_events_go_out_instead():
    sub, calls = subscription()
    sub.ping()
    assert calls == ["wake"]
    assert sub.take() == []
    assert sub.take() is None
    sub.ping()
    sub.push(event(1))
    assert [e.seq for e in sub.take() or []] == [1]
    assert sub.take() is None  # the event kept the connection alive


async def test_end_wakes_the_writer_and_close_releases():
    sub, calls = subscription()
    sub.end("cut off")
    sub.close()
    assert sub.ended == "cut off"
    assert calls == ["wake", "released"]
