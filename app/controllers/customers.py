"""The agent's customers (for the customer filter)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.exceptions import NotAuthorizedException
from psycopg.rows import class_row

from app.schemas import Customer, CustomerList
from app.services import AppServices, CurrentAgent

QUERIES = ("agent_customers",)


class CustomersController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get(
        "/",
        summary="Your customers, by username (case-insensitive)",
        raises=[NotAuthorizedException],
    )
    async def customers(self, agent: CurrentAgent, services: AppServices) -> CustomerList:
        queries = services.queries
        async with services.reads.connection() as conn:
            cur = conn.cursor(row_factory=class_row(Customer))
            await cur.execute(queries["agent_customers"], {"agent_id": agent.id})
            return CustomerList(items=await cur.fetchall())
