"""Liveness and readiness."""

from __future__ import annotations

import anyio
from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec

from app.schemas import Health, Readiness
from app.services import AppServices

QUERIES = ("ping",)


class HealthController(Controller):
    path = "/"
    tags = ["operations"]
    include_in_schema = True

    @get("/healthz", summary="The process is alive")
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        summary="The database is reachable and the listener connected",
        description="`checks` has one entry per connection: `database` (the primary's pool), "
        "`replica` (only with a read replica) and `listener`. A replica that is down or too "
        'far behind makes the status "degraded", still 200: reads then go to the primary.',
        responses={503: ResponseSpec(data_container=Readiness, description="Not ready, and why")},
    )
    async def readyz(self, services: AppServices) -> Response[Readiness]:
        pool, queries, settings = services.pool, services.queries, services.settings
        checks: dict[str, str] = {}
        try:
            with anyio.fail_after(settings.db_timeout):
                async with pool.connection(timeout=settings.db_timeout) as conn:
                    await conn.execute(queries["ping"])
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready", with the reason
            checks["database"] = f"unavailable: {type(exc).__name__}"
        reads, replica_problem = services.reads, None
        if reads.configured:
            replica_problem = reads.readiness()
            checks["replica"] = replica_problem or "ok"
        for name, check in services.readiness.items():
            problem = check()
            checks[name] = "ok" if problem is None else problem
        ready = all(value == "ok" for name, value in checks.items() if name != "replica")
        status = "unavailable" if not ready else "degraded" if replica_problem else "ok"
        return Response(
            Readiness(
                status=status,
                checks=checks,
                replica=reads.status if reads.configured else None,
            ),
            status_code=200 if ready else 503,
        )
