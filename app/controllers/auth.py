"""Sign in and out."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Controller, Request, Response, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from psycopg.rows import class_row

from app.auth import SESSION_COOKIE, request_token
from app.config import Settings
from app.device_cookie import DEVICE_COOKIE, DEVICE_COOKIE_PATH
from app.device_cookie import LIFETIME as DEVICE_LIFETIME
from app.errors import CrossSiteRequestRefused, DatabaseUnavailable, TooManySignInAttempts
from app.login_limit import attempt_succeeded, client_address, count_attempt
from app.schemas import Agent, AgentCredentials, LoginRequest, LoginResponse
from app.security import new_token, token_hash, verify_password
from app.services import AppServices

QUERIES = ("agent_credentials", "session_create", "session_revoke")

LOGIN_PATH = "/api/v1/auth/login"

_BAD_CREDENTIALS = "Wrong username or password."


def _secure_cookie(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.cookie_secure == "auto":
        return request.url.scheme == "https"
    return settings.cookie_secure == "true"


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        status_code=HTTP_200_OK,
        summary="Sign in with username and password",
        description=(
            "Rate-limited per username and per client address: over the limit the answer"
            " is 429 with Retry-After. A browser that signed in as this username before"
            " (its device cookie, set by a successful sign-in) is limited on its own instead,"
            " so that others' failures cannot lock it out."
        ),
        raises=[NotAuthorizedException, TooManySignInAttempts, DatabaseUnavailable],
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        services: AppServices,
    ) -> Response[LoginResponse]:
        pool, queries, settings = services.pool, services.queries, services.settings
        address = client_address(request)
        devices = services.device_cookies
        device = await devices.device(request.cookies.get(DEVICE_COOKIE), data.username)
        async with pool.connection() as conn:
            # Counted before the password is checked: a refused attempt costs no hashing.
            await count_attempt(conn, queries, settings, data.username, address, device)
            cur = conn.cursor(row_factory=class_row(AgentCredentials))
            await cur.execute(queries["agent_credentials"], {"username": data.username})
            creds = await cur.fetchone()
        stored = creds.password_hash if creds else None
        # Argon2 takes tens of milliseconds of CPU: keep it off the event loop.
        ok = await anyio.to_thread.run_sync(verify_password, stored, data.password)
        if not ok or creds is None:
            raise NotAuthorizedException(_BAD_CREDENTIALS)

        token = new_token()
        async with pool.connection() as conn:
            await attempt_succeeded(conn, queries, data.username, address, device)
            cur2 = await conn.execute(
                queries["session_create"],
                {
                    "token_hash": token_hash(token),
                    "agent_id": creds.id,
                    "ttl": settings.session_ttl,
                },
            )
            row = await cur2.fetchone()
        assert row is not None
        expires_at = row[0]
        body = LoginResponse(
            token=token,
            expires_at=expires_at,
            agent=Agent(id=creds.id, username=creds.username, display_name=creds.display_name),
        )
        secure = _secure_cookie(request, settings)
        session = Cookie(
            key=SESSION_COOKIE,
            value=token,
            path="/",
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=int(settings.session_ttl.total_seconds()),
        )
        trusted = Cookie(
            key=DEVICE_COOKIE,
            value=await devices.issue(data.username),
            path=DEVICE_COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=int(DEVICE_LIFETIME.total_seconds()),
        )
        return Response(body, cookies=[session, trusted])

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        summary="Sign out (revokes the session)",
        raises=[CrossSiteRequestRefused, DatabaseUnavailable],
        # Static, so the handler can return None and OpenAPI documents an empty 204.
        response_cookies=[
            Cookie(
                key=SESSION_COOKIE,
                value="",
                path="/",
                max_age=0,
                expires=0,
                httponly=True,
                samesite="strict",
                description="Clears the session cookie",
            )
        ],
    )
    async def logout(self, request: Request[Any, Any, Any], services: AppServices) -> None:
        token = request_token(request)
        if token is not None:
            async with services.pool.connection() as conn:
                await conn.execute(
                    services.queries["session_revoke"], {"token_hash": token_hash(token)}
                )
