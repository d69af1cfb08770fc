"""The application factory: wires settings, queries, services, controllers and layers together."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from app import auth, device_cookie, login_limit
from app.config import Settings
from app.controllers import (
    activity,
    agent,
    customers,
    daily,
    export,
    health,
    metrics,
    page,
    session,
    stream,
    summary,
)
from app.controllers import auth as auth_controller
from app.db import maintenance, pool, replica
from app.db.queries import Queries
from app.errors import EXCEPTION_HANDLERS
from app.gc_tuning import gc_lifespan
from app.logs import configure_logging
from app.metrics import Metrics
from app.middleware.access_log import AccessLog
from app.middleware.csrf import OriginGuard
from app.middleware.limits import MAX_BODY_BYTES, RequestLimits
from app.middleware.security_headers import SecurityHeaders
from app.middleware.timing import RequestTimingMiddleware
from app.paths import STATIC_DIR
from app.services import Runtime

REQUIRED_QUERIES = (
    *device_cookie.QUERIES,
    *maintenance.QUERIES,
    *pool.QUERIES,
    *replica.QUERIES,
    *auth.QUERIES,
    *auth_controller.QUERIES,
    *health.QUERIES,
    *session.QUERIES,
    *login_limit.QUERIES,
    *activity.QUERIES,
    *export.QUERIES,
    *customers.QUERIES,
    *summary.QUERIES,
    *daily.QUERIES,
    *stream.QUERIES,
)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings if settings is not None else Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    metrics_registry = Metrics()
    runtime = Runtime(settings, Queries.load(required=REQUIRED_QUERIES), metrics_registry)

    agent_router = Router(
        path="/api/v1/agent",
        route_handlers=[
            agent.AgentController,
            activity.ActivityController,
            export.ExportController,
            customers.CustomersController,
            summary.SummaryController,
            daily.DailyController,
            stream.StreamController,
        ],
        dependencies={"agent": Provide(auth.provide_agent)},
        security=[{"bearer": []}, {"cookie": []}],
    )
    app = Litestar(
        route_handlers=[
            auth_controller.AuthController,
            session.SessionController,
            agent_router,
            health.HealthController,
            metrics.MetricsController,
            page.PageController,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                include_in_schema=False,
                # No build step means no hashed file names: revalidate on every
                # load so that a new release never mixes old and new modules.
                cache_control=CacheControlHeader(no_cache=True),
            ),
        ],
        dependencies=runtime.dependencies(),
        lifespan=[runtime.lifespan, gc_lifespan],
        middleware=[DefineMiddleware(RequestTimingMiddleware, metrics=metrics_registry)],
        state=runtime.state(),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        # Our logging (app.logs) instead of Litestar's, which would take over
        # the root logger; unexpected errors are logged by app.errors.
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="cash-out-feed",
            version="1.0.0",
            description="Cash-out activity of an agent's customers: list, summary, daily series, "
            "export, stream.",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                    "cookie": SecurityScheme(
                        type="apiKey", name=auth.SESSION_COOKIE, security_scheme_in="cookie"
                    ),
                }
            ),
        ),
    )
    # Outside Litestar's routing, so that they also see requests no route matches.
    origin_guard = OriginGuard(
        app.asgi_handler,
        auth.SESSION_COOKIE,
        settings.trusted_origins,
        exempt_paths=frozenset({auth_controller.LOGIN_PATH}),
    )
    app.asgi_handler = SecurityHeaders(AccessLog(RequestLimits(origin_guard)))
    return app
