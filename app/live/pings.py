"""One timer for the keep-alive pings of every open stream.

A timer (or a ``wait_for`` task) per stream costs memory and CPU for each of
10,000 streams. Instead the streams are spread over a wheel of slots, one slot
ticks at a time, so that every stream is asked for a ping once per interval
and the work is spread evenly over it rather than arriving in one burst.
"""

from __future__ import annotations

import asyncio
import itertools

from app.live.subscription import Subscription

# One slot's pings every this many seconds: at 10,000 streams and the default
# 15 s interval, 150 slots of ~70 streams, a few milliseconds of work per tick.
TICK_SECONDS = 0.1


class PingWheel:
    def __init__(self, interval: float, slots: int | None = None) -> None:
        if slots is None:
            slots = max(1, round(interval / TICK_SECONDS))
        self._tick = interval / slots
        self._slots: list[set[Subscription]] = [set() for _ in range(slots)]
        self._next = itertools.cycle(range(slots))
        self._slot_of: dict[Subscription, int] = {}

    def add(self, sub: Subscription) -> None:
        slot = next(self._next)
        self._slots[slot].add(sub)
        self._slot_of[sub] = slot

    def discard(self, sub: Subscription) -> None:
        slot = self._slot_of.pop(sub, None)
        if slot is not None:
            self._slots[slot].discard(sub)

    async def run(self) -> None:
        """Ping one slot per tick, for ever (cancel to stop)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        for slot in itertools.cycle(self._slots):
            # Ticks keep to the schedule even when one of them runs late.
            deadline = max(deadline + self._tick, loop.time())
            await asyncio.sleep(deadline - loop.time())
            for sub in slot:
                sub.ping()
