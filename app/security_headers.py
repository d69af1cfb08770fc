"""Security headers on every HTTP response (a Litestar ``before_send`` hook).

The feed page loads nothing from another origin and has no inline script or
style, so the strict policy holds for it. The interactive OpenAPI pages under
``/schema`` are Litestar's own and pull their script and CSS from public CDNs
with inline bootstrapping code, so they get a policy of their own that still
forbids framing, plugins and ``<base>`` tricks but leaves script sources open.
A ``before_send`` hook (rather than a middleware) also covers 404s, error
responses and the static-files router.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

STRICT_CSP = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
SCHEMA_CSP = "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
SCHEMA_PREFIX = "/schema"

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def policy_for(path: str) -> str:
    if path == SCHEMA_PREFIX or path.startswith(SCHEMA_PREFIX + "/"):
        return SCHEMA_CSP
    return STRICT_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    message.setdefault("headers", [])
    headers = MutableScopeHeaders.from_message(message)
    for name, value in _COMMON.items():
        if name not in headers:
            headers[name] = value
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = policy_for(scope.get("path", ""))
