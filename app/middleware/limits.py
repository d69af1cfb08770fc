"""Bounds on what a request may carry before any handler reads it.

Bodies are bounded by Litestar (``request_max_body_size``, 413). The URL and
the headers are bounded here: the HTTP parser in front of us (httptools) has
no limits of its own, and nothing in the API needs more than a few hundred
bytes of either.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.middleware.error_response import send_error

MAX_BODY_BYTES = 64 * 1024
MAX_PATH_BYTES = 2048
MAX_QUERY_BYTES = 4096
MAX_HEADER_BYTES = 8192  # one header's value
MAX_HEADERS_TOTAL_BYTES = 32 * 1024
MAX_HEADER_COUNT = 100

_TOKEN = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")


def _header_name(name: bytes) -> str:
    # Echo the name only if it is a plain HTTP token: it is the client's text.
    return name.decode("ascii") if _TOKEN.fullmatch(name) else "(unnamed)"


def problem(scope: Scope) -> tuple[int, str] | None:
    """The status and message for a request over a limit, or None when it is within them."""
    path = scope.get("raw_path") or scope["path"].encode()
    if len(path) > MAX_PATH_BYTES:
        return 414, f"The URL path is {len(path)} bytes long; the limit is {MAX_PATH_BYTES}."
    query = scope.get("query_string", b"")
    if len(query) > MAX_QUERY_BYTES:
        return 414, f"The query string is {len(query)} bytes long; the limit is {MAX_QUERY_BYTES}."
    headers = list(scope["headers"])
    if len(headers) > MAX_HEADER_COUNT:
        return 431, f"The request has {len(headers)} headers; the limit is {MAX_HEADER_COUNT}."
    total = 0
    for name, value in headers:
        if len(value) > MAX_HEADER_BYTES:
            return 431, (
                f"Header '{_header_name(name)}' is {len(value)} bytes long;"
                f" the limit is {MAX_HEADER_BYTES}."
            )
        total += len(name) + len(value)
    if total > MAX_HEADERS_TOTAL_BYTES:
        return 431, f"The headers are {total} bytes in all; the limit is {MAX_HEADERS_TOTAL_BYTES}."
    return None


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Returns the awaitable rather than awaiting it: a long-lived request
        # (an open stream) then keeps no frame of this layer alive.
        if scope["type"] == ScopeType.HTTP and (found := problem(scope)) is not None:
            return send_error(send, *found)
        return self.app(scope, receive, send)
