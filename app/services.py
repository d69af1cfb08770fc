"""Everything a handler or an ASGI layer needs, in one typed container, and the
runtime that builds it when the app starts.

Litestar resolves the dependencies of one level of its graph concurrently,
each in a task of an anyio task group (litestar#4563): separate dependencies
for the pool, the queries and the settings cost ~0.15 ms of every request
here, a tenth of the list's whole time. One ``services`` dependency keeps
every level a single call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db.maintenance import merging_totals
from app.db.queries import Queries
from app.db.replica import Reads, reading
from app.device_cookie import DeviceCookies
from app.export.slots import ExportSlots
from app.lifespan import database
from app.live.hub import Hub
from app.live.lifespan import running_hub
from app.metrics import Metrics
from app.schemas import Agent

# A readiness check returns None when healthy, else why not.
ReadinessCheck = Callable[[], str | None]


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    # The primary's: sign-in, sessions, the rate limit, the stream's replay.
    pool: AsyncConnectionPool
    # Where the list, totals, summary, series, export and customers read:
    # the replica while it is usable, else ``pool``.
    reads: Reads
    queries: Queries
    metrics: Metrics
    hub: Hub
    export_slots: ExportSlots
    device_cookies: DeviceCookies
    # Besides the database itself, which /readyz always checks, and the read
    # replica, which it reports without failing (reads fall back).
    readiness: Mapping[str, ReadinessCheck]


AppServices = NamedDependency[Services]
CurrentAgent = NamedDependency[Agent]


class Runtime:
    """Built by ``create_app``; its lifespan opens what ``Services`` holds."""

    def __init__(self, settings: Settings, queries: Queries, metrics: Metrics) -> None:
        self.settings = settings
        self.queries = queries
        self.metrics = metrics
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the app has not started (its lifespan has not run)")
        return self._services

    def dependencies(self) -> dict[str, Provide]:
        return {"services": Provide(lambda: self.services, sync_to_thread=False)}

    def state(self) -> State:
        """The app's state: this runtime, for ``runtime_of`` (tests, tools)."""
        return State({"runtime": self})

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            settings, pool = await stack.enter_async_context(database(self.settings, self.queries))
            assert settings.direct_url is not None
            await stack.enter_async_context(merging_totals(pool, self.queries))
            reads = await stack.enter_async_context(reading(settings, pool, self.queries))
            hub = await stack.enter_async_context(
                running_hub(settings.direct_url, self.queries, settings, self.metrics)
            )
            self._services = Services(
                settings=settings,
                pool=pool,
                reads=reads,
                queries=self.queries,
                metrics=self.metrics,
                hub=hub,
                export_slots=ExportSlots.for_pool(settings.pool_max_size),
                device_cookies=DeviceCookies(pool, self.queries),
                readiness={"listener": hub.readiness},
            )
            try:
                yield
            finally:
                self._services = None


def runtime_of(app: Litestar) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime
