"""The signed-in agent."""

from __future__ import annotations

from litestar import Controller, get

from app.errors import AGENT_ROUTE_ERRORS
from app.schemas import Agent
from app.services import CurrentAgent


class AgentController(Controller):
    path = "/"
    tags = ["agent"]

    @get("/me", summary="The signed-in agent", raises=AGENT_ROUTE_ERRORS)
    async def me(self, agent: CurrentAgent) -> Agent:
        return agent
