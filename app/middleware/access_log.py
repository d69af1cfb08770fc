"""The access log: one JSON line per request, with a request id returned in ``X-Request-ID``.

It wraps the whole ASGI app (outside Litestar's routing) so that 404s, 405s and
requests refused by the other guards are logged too. It logs the route
template, never the query string or a header value: nothing secret can leak
through it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import request_id_var

log = logging.getLogger("cashout_feed.access")

REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is kept only if it is short and plain, so it is safe to log and echo.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
_MAX_LOGGED_PATH = 256


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SANE_REQUEST_ID.fullmatch(value):
            return value.decode("ascii")
    return None


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            fields: dict[str, Any] = {
                "method": scope["method"],
                "route": scope.get("path_template") or None,
                "path": scope["path"][:_MAX_LOGGED_PATH],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "client": (scope.get("client") or (None,))[0],
            }
            log.info(
                "%s %s %s",
                fields["method"],
                fields["route"] or fields["path"],
                status,
                extra=fields,
            )
            request_id_var.reset(token)
