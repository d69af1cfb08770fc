"""The shared ping timer: every stream once per interval, a slot at a time."""

from __future__ import annotations

import asyncio
import contextlib

from app.live.pings import PingWheel
from app.live.subscription import Subscription


def pinged_subscriptions(
    count: int, log: list[int], done: asyncio.Event, until: int
) -> list[Subscription]:
    subs = []
    for i in range(count):
        sub = Subscription(1, 10, lambda s: None)

        def wake(i: int = i) -> None:
            log.append(i)
            if len(log) >= until:
                done.set()

        sub.on_wake = wake
        subs.append(sub)
    return subs


async def test_each_stream_is_pinged_in_its_slot_and_the_slots_take_turns():
    log: list[int] = []
    done = asyncio.Event()
    wheel = PingWheel(interval=0.32, slots=16)
    for sub in pinged_subscriptions(32, log, done, until=64):
        wheel.add(sub)
    task = asyncio.create_task(wheel.run())
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # Round-robin slots: slot k holds streams k and k + 16, pinged together,
    # the slots one after the other, and then the wheel comes round again.
    ticks = [set(log[i : i + 2]) for i in range(0, 64, 2)]
    assert ticks == [{k, k + 16} for k in range(16)] * 2


async def test_a_discarded_stream_is_not_pinged_again():
    log: list[int] = []
    done = asyncio.Event()
    wheel = PingWheel(interval=0.08, slots=4)
    subs = pinged_subscriptions(4, log, done, until=9)
    for sub in subs:
        wheel.add(sub)
    wheel.discard(subs[0])
    task = asyncio.create_task(wheel.run())
    try:
        await asyncio.wait_for(done.wait(), 10)  # three rounds of the other three
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert 0 not in log
    assert sorted(log[:9]) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
