"""Prometheus metrics: one registry per app, ``GET /metrics``, and request timing."""

from __future__ import annotations

import time

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's own registry (not the global one), so that several apps in one
    process (the tests) do not collide. Per process: with several workers each
    answers for itself."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.open_streams = Gauge(
            "cashout_feed_open_streams",
            "Live streams currently open in this process.",
            registry=self.registry,
        )
        self.events_delivered = Counter(
            "cashout_feed_stream_events_delivered",
            "Cash-out events written to live streams (replayed or live).",
            registry=self.registry,
        )
        self.streams_cut_off = Counter(
            "cashout_feed_stream_cut_offs",
            "Streams ended because the client did not read fast enough.",
            registry=self.registry,
        )
        self.listener_reconnects = Counter(
            "cashout_feed_listener_reconnects",
            "Times the LISTEN connection was re-established after it dropped.",
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "cashout_feed_http_request_duration_seconds",
            "Time until the response starts (streamed bodies are not included),"
            " by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestTimingMiddleware(ASGIMiddleware):
    """Times every routed HTTP request, labelled by the route template (never the
    raw path, whose ids would make the label set unbounded)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        metrics: Metrics = scope["litestar_app"].state.metrics
        started = time.perf_counter()
        route = scope.get("path_template") or "unmatched"
        method = scope.get("method", "GET")

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                metrics.request_latency.labels(method, route, str(message["status"])).observe(
                    time.perf_counter() - started
                )
            await send(message)

        await next_app(scope, receive, timed_send)


class MetricsController(Controller):
    path = "/"
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics of this process", media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, state: State) -> Response[bytes]:
        metrics: Metrics = state.metrics
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
