"""Who is calling: the agent behind a bearer token or the session cookie."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from psycopg.rows import class_row

from app.schemas import Agent
from app.security import token_hash
from app.services import AppServices

SESSION_COOKIE = "cashout_session"
# Tokens we issue are 43 characters; anything far longer is not one of ours.
MAX_TOKEN_LENGTH = 256

QUERIES = ("session_agent",)


def request_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
        return token or None
    return request.cookies.get(SESSION_COOKIE) or None


async def provide_agent(request: Request[Any, Any, Any], services: AppServices) -> Agent:
    token = request_token(request)
    if token is None or len(token) > MAX_TOKEN_LENGTH:
        raise NotAuthorizedException(
            "Sign in required: send 'Authorization: Bearer <token>' or the session cookie."
        )
    async with services.pool.connection() as conn:
        cur = conn.cursor(row_factory=class_row(Agent))
        await cur.execute(services.queries["session_agent"], {"token_hash": token_hash(token)})
        agent = await cur.fetchone()
    if agent is None:
        raise NotAuthorizedException("The session has expired or was signed out: sign in again.")
    return agent
