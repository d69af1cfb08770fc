"""Prometheus metrics: one registry per app, ``GET /metrics``, and request timing."""

from __future__ import annotations

import time
from collections.abc import Awaitable

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
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


class RequestTimingMiddleware:
    """Times every routed HTTP request, labelled by the route template (never the
    raw path, whose ids would make the label set unbounded).

    A plain ASGI layer that returns the inner app's awaitable: an open stream
    keeps only the small send wrapper below alive, no frame or closure of this
    layer (Litestar's ``ASGIMiddleware`` keeps two frames and a closure, ~1 KiB).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != ScopeType.HTTP:
            return self.app(scope, receive, send)
        return self.app(scope, receive, _TimedSend(scope, send))


class _TimedSend:
    __slots__ = ("_method", "_metrics", "_route", "_send", "_started")

    def __init__(self, scope: Scope, send: Send) -> None:
        self._metrics: Metrics = scope["litestar_app"].state.metrics
        self._started = time.perf_counter()
        self._route = scope.get("path_template") or "unmatched"
        self._method = scope.get("method", "GET")
        self._send = send

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self._metrics.request_latency.labels(
                self._method, self._route, str(message["status"])
            ).observe(time.perf_counter() - self._started)
        return self._send(message)


class MetricsController(Controller):
    path = "/"
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics of this process", media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, state: State) -> Response[bytes]:
        metrics: Metrics = state.metrics
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
