"""Prometheus metrics of this process."""

from __future__ import annotations

from litestar import Controller, Response, get
from prometheus_client import CONTENT_TYPE_LATEST

from app.services import AppServices


class MetricsController(Controller):
    path = "/"
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics of this process", media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, services: AppServices) -> Response[bytes]:
        return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
