"""Liveness and readiness."""

from __future__ import annotations

import anyio
from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec

from app.schemas import Health
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
        responses={503: ResponseSpec(data_container=Health, description="Not ready, and why")},
    )
    async def readyz(self, services: AppServices) -> Response[Health]:
        pool, queries, settings = services.pool, services.queries, services.settings
        checks: dict[str, str] = {}
        try:
            with anyio.fail_after(settings.db_timeout):
                async with pool.connection(timeout=settings.db_timeout) as conn:
                    await conn.execute(queries["ping"])
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready", with the reason
            checks["database"] = f"unavailable: {type(exc).__name__}"
        for name, check in services.readiness.items():
            problem = check()
            checks[name] = "ok" if problem is None else problem
        ready = all(value == "ok" for value in checks.values())
        return Response(
            Health(status="ok" if ready else "unavailable", checks=checks),
            status_code=200 if ready else 503,
        )
