"""The application factory: wires settings, database, queries and controllers together."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from app import auth, login_limit
from app.config import Settings
from app.controllers import activity, customers, export, health, session, stream, summary
from app.controllers import auth as auth_controller
from app.controllers.agent import AgentController
from app.controllers.page import PageController
from app.controllers.stream import StreamController
from app.db.queries import Queries
from app.deps import APP_DEPENDENCIES
from app.errors import EXCEPTION_HANDLERS
from app.gc_tuning import gc_lifespan
from app.lifespan import database_lifespan
from app.live.lifespan import listener_lifespan
from app.logs import configure_logging
from app.metrics import Metrics, MetricsController, RequestTimingMiddleware
from app.middleware.access_log import AccessLog
from app.middleware.csrf import OriginGuard
from app.middleware.limits import MAX_BODY_BYTES, RequestLimits
from app.middleware.security_headers import SecurityHeaders
from app.paths import STATIC_DIR

REQUIRED_QUERIES = (
    *auth.QUERIES,
    *auth_controller.QUERIES,
    *health.QUERIES,
    *session.QUERIES,
    *login_limit.QUERIES,
    *activity.QUERIES,
    *export.QUERIES,
    *customers.QUERIES,
    *summary.QUERIES,
    *stream.QUERIES,
)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings if settings is not None else Settings.from_env()
    configure_logging(settings.log_level)
    queries = Queries.load(required=REQUIRED_QUERIES)

    agent_router = Router(
        path="/api/v1/agent",
        route_handlers=[
            AgentController,
            activity.ActivityController,
            export.ExportController,
            customers.CustomersController,
            summary.SummaryController,
            StreamController,
        ],
        dependencies={"agent": Provide(auth.provide_agent)},
        security=[{"bearer": []}, {"cookie": []}],
    )
    state: dict[str, Any] = {
        "settings": settings,
        "queries": queries,
        "readiness_checks": {},
        "export_slots": export.ExportSlots.for_pool(settings.pool_max_size),
        "metrics": Metrics(),
    }
    app = Litestar(
        route_handlers=[
            auth_controller.AuthController,
            session.SessionController,
            agent_router,
            health.HealthController,
            MetricsController,
            PageController,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                include_in_schema=False,
                # No build step means no hashed file names: revalidate on every
                # load so that a new release never mixes old and new modules.
                cache_control=CacheControlHeader(no_cache=True),
            ),
        ],
        dependencies=APP_DEPENDENCIES,
        lifespan=[database_lifespan, listener_lifespan, gc_lifespan],
        middleware=[RequestTimingMiddleware],
        state=State(state),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        # Our JSON logging (app.logs) instead of Litestar's, which would take over
        # the root logger; unexpected errors are logged by app.errors.
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="cash-out-feed",
            version="1.0.0",
            description="Cash-out activity of an agent's customers: list, summary, export, stream.",
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
