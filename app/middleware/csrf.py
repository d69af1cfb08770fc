"""Cross-site request refusal for requests signed in by the session cookie.

The cookie is SameSite=Strict already; this is the second lock (OWASP's
"verify the origin with standard headers"). A state-changing request that
carries the session cookie and no bearer token must say where it comes from
(``Origin``, else ``Referer``) and that must be this site, or a configured
trusted origin. A request with neither header is refused too: every current
browser sends ``Origin`` on POST/PUT/PATCH/DELETE, so only a non-browser client
can omit both, and such a client should use a bearer token. Bearer requests
are exempt: a browser never adds an ``Authorization`` header by itself. So is
sign-in, which the cookie does not authenticate (a stale cookie must not stop
a new sign-in).
"""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import urlsplit

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from app.middleware.error_response import send_error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return (
        f"{scheme}://{host}"
        if port in (None, _DEFAULT_PORTS[scheme])
        else (f"{scheme}://{host}:{port}")
    )


def _has_session_cookie(cookie_header: str, cookie_name: str) -> bool:
    # Split as Litestar does, not with http.cookies: SimpleCookie gives up
    # silently on a malformed cookie before ours, which would let a request
    # through that Litestar still signs in by the cookie.
    for part in cookie_header.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip() == cookie_name and value.strip():
            return True
    return False


class OriginGuard:
    def __init__(
        self,
        app: ASGIApp,
        cookie_name: str,
        trusted_origins: tuple[str, ...],
        exempt_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.cookie_name = cookie_name
        self.exempt_paths = exempt_paths
        self.trusted = {o for o in map(normalise_origin, trusted_origins) if o}

    def refusal(self, scope: HTTPScope) -> str | None:
        """Why the request is refused, or None to let it through."""
        if scope["method"] in SAFE_METHODS or scope["path"] in self.exempt_paths:
            return None
        headers: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            text = value.decode("latin-1")
            headers[name] = (
                f"{headers[name]}; {text}" if name == b"cookie" and name in headers else text
            )
        if b"authorization" in headers:
            return None
        if not _has_session_cookie(headers.get(b"cookie", ""), self.cookie_name):
            return None
        claimed = headers.get(b"origin") or headers.get(b"referer")
        if claimed is None:
            return (
                "Cross-site request refused: a request signed in by the session cookie must"
                " carry an Origin or Referer header (or use 'Authorization: Bearer <token>')."
            )
        own = normalise_origin(f"{scope['scheme']}://{headers.get(b'host', '')}")
        origin = normalise_origin(claimed)
        if origin is None or (origin != own and origin not in self.trusted):
            return (
                "Cross-site request refused: the request's Origin is not this site."
                " Sign in from this site's page, or use 'Authorization: Bearer <token>'."
            )
        return None

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Returns the awaitable rather than awaiting it: a long-lived request
        # (an open stream) then keeps no frame of this layer alive.
        if scope["type"] == ScopeType.HTTP and (reason := self.refusal(scope)) is not None:
            return send_error(send, 403, reason)
        return self.app(scope, receive, send)
