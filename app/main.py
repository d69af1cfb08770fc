"""The application factory: wires settings, database, queries and controllers together."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from app import auth
from app.config import Settings
from app.controllers import activity, customers, export, health, session, stream, summary
from app.controllers import auth as auth_controller
from app.controllers.agent import AgentController
from app.controllers.page import PageController
from app.controllers.stream import StreamController
from app.deps import APP_DEPENDENCIES
from app.errors import EXCEPTION_HANDLERS
from app.lifespan import database_lifespan
from app.metrics import Metrics, MetricsController, RequestTimingMiddleware
from app.paths import STATIC_DIR
from app.queries import Queries
from app.security_headers import add_security_headers
from app.stream_lifespan import listener_lifespan

REQUIRED_QUERIES = (
    *auth.QUERIES,
    *auth_controller.QUERIES,
    *health.QUERIES,
    *session.QUERIES,
    *activity.QUERIES,
    *export.QUERIES,
    *customers.QUERIES,
    *summary.QUERIES,
    *stream.QUERIES,
)

MAX_REQUEST_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings if settings is not None else Settings.from_env()
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
    return Litestar(
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
        lifespan=[database_lifespan, listener_lifespan],
        middleware=[RequestTimingMiddleware()],
        before_send=[add_security_headers],
        state=State(state),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
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
