"""Security headers on every HTTP response (the outermost ASGI layer).

The feed page loads nothing from another origin and has no inline script or
style, so the strict policy holds for it. The interactive OpenAPI pages under
``/schema`` are Litestar's own and pull their script and CSS from public CDNs
with inline bootstrapping code, so they get a policy of their own that still
forbids framing, plugins and ``<base>`` tricks but leaves script sources open.
The outermost layer (rather than Litestar's ``before_send`` or a middleware)
also covers 404s, error responses, the static-files router and the answers of
the layers outside Litestar (the origin guard's 403, the size limits'
413/414/431).
"""

from __future__ import annotations

from collections.abc import Awaitable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


class SecurityHeaders:
    """Adds the headers a response does not set itself.

    Returns the inner app's awaitable (no frame of this layer stays alive for
    an open stream) and wraps ``send`` in a slotted object rather than a closure.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != ScopeType.HTTP:
            return self.app(scope, receive, send)
        csp = _RAW_POLICIES[policy_for(scope.get("path", ""))]
        return self.app(scope, receive, _HeadersSend(csp, send))


_COMMON_RAW = [
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in _COMMON.items()
]
_RAW_POLICIES = {policy: policy.encode("latin-1") for policy in (STRICT_CSP, SCHEMA_CSP)}
_CSP = b"content-security-policy"


class _HeadersSend:
    __slots__ = ("_csp", "_send")

    def __init__(self, csp: bytes, send: Send) -> None:
        self._csp = csp
        self._send = send

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {bytes(name).lower() for name, _ in headers}
            headers += [(n, v) for n, v in _COMMON_RAW if n not in present]
            if _CSP not in present:
                headers.append((_CSP, self._csp))
            message["headers"] = headers
        return self._send(message)
