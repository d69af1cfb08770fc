"""Garbage-collector thresholds for a process that holds thousands of open streams.

Every open stream keeps about a hundred container objects alive (the
connection, its request and task, its backlog). With 10,000 streams that is
a million tracked objects, and each full (generation 2) collection walks all
of them: measured 1-2 s pauses in which no event is delivered (commit→receive
p99 2.3 s at 1,000 cash-outs/s; see BENCHMARKS.md). Collecting the young
generation less often and the old one very rarely keeps the pauses out of the
stream: the same run measured p99 67 ms. Reference cycles are still
collected; long-lived ones only later.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

# (young, middle, old): CPython's defaults are (700, 10, 10).
THRESHOLDS = (50_000, 20, 1_000)


@asynccontextmanager
async def gc_lifespan(app: Litestar) -> AsyncIterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    # What start-up allocated (modules, app, pool) never needs scanning again.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*previous)
