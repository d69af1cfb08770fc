"""Exception handlers: clear 400s naming the parameter, 503 when the database is away."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ServiceUnavailableException,
    TooManyRequestsException,
    ValidationException,
)
from psycopg_pool import PoolTimeout

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is unavailable; try again in a few seconds."
DATA_LOCKED = "The data is locked by another operation; try again in a few seconds."
QUERY_TOO_LONG = (
    "The database took too long to answer (the data may be locked or the database busy);"
    " try again in a few seconds."
)


# The classes below are never raised: they document in OpenAPI (``raises=``)
# the error answers the handlers below and the auth dependency give.
class DatabaseUnavailable(ServiceUnavailableException):
    detail = DATABASE_UNAVAILABLE


class SignInRequired(NotAuthorizedException):
    detail = "Sign in required, or the session has expired or was signed out."


class CrossSiteRequestRefused(PermissionDeniedException):
    detail = "Cross-site request refused: a cookie-signed-in change must come from this site."


class TooManySignInAttempts(TooManyRequestsException):
    detail = "Too many sign-in attempts; try again after Retry-After seconds."


# For every route under /api/v1/agent (signed in, reads the database).
AGENT_ROUTE_ERRORS: list[type[HTTPException]] = [SignInRequired, DatabaseUnavailable]


def _describe(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    key, message, source = error.get("key"), error.get("message"), error.get("source")
    source = getattr(source, "value", source)  # Litestar passes an enum member
    if not key:
        return str(message) if message else None
    where = {"query": "query parameter", "body": "field", "header": "header"}.get(
        str(source), "parameter"
    )
    return f"{where} '{key}': {message}" if message else f"{where} '{key}' is invalid"


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = [text for text in map(_describe, extra) if text]
    detail = "Invalid " + "; ".join(parts) if parts else (exc.detail or "Invalid request")
    return Response(
        {"status_code": 400, "detail": detail, "extra": exc.extra},
        status_code=400,
        media_type=MediaType.JSON,
    )


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return Response(
        {
            "status_code": 503,
            "detail": DATABASE_UNAVAILABLE,
            "extra": None,
        },
        status_code=503,
        media_type=MediaType.JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def database_busy(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A statement hit CASHOUT_FEED_DB_LOCK_TIMEOUT or _STATEMENT_TIMEOUT."""
    log.warning("database busy: %s: %s", type(exc).__name__, str(exc).strip())
    locked = isinstance(exc, psycopg.errors.LockNotAvailable)
    return Response(
        {"status_code": 503, "detail": DATA_LOCKED if locked else QUERY_TOO_LONG, "extra": None},
        status_code=503,
        media_type=MediaType.JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The trace goes to the log (with the request id), never to the client.
    log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    return Response(
        {"status_code": 500, "detail": "Internal server error.", "extra": None},
        status_code=500,
        media_type=MediaType.JSON,
    )


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    500: unexpected_error,
    ValidationException: validation_error,
    psycopg.OperationalError: database_unavailable,
    # Both are OperationalErrors too; the handler of the closest class wins.
    psycopg.errors.LockNotAvailable: database_busy,
    psycopg.errors.QueryCanceled: database_busy,
    PoolTimeout: database_unavailable,
}
