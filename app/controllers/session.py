"""Who is signed in, asked without failing: the feed page's start-up probe.

``GET /api/v1/agent/me`` answers 401 to a visitor who has not signed in, which
browsers log as an error on every first visit; this probe answers 200 with
``agent: null`` instead, so the page can choose between sign-in and the feed.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from psycopg.rows import class_row

from app.auth import MAX_TOKEN_LENGTH, request_token
from app.schemas import Agent, SessionState
from app.security import token_hash
from app.services import AppServices

QUERIES = ("session_agent",)


class SessionController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @get("/session", summary="The signed-in agent, or null (never 401)", cache_control=None)
    async def session(self, request: Request[Any, Any, Any], services: AppServices) -> SessionState:
        pool, queries = services.pool, services.queries
        token = request_token(request)
        if token is None or len(token) > MAX_TOKEN_LENGTH:
            return SessionState(agent=None)
        async with pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(Agent))
            await cur.execute(queries["session_agent"], {"token_hash": token_hash(token)})
            agent = await cur.fetchone()
        return SessionState(agent=agent)
