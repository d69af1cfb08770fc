"""Demo data: an agent, customers and a history of bets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import psycopg

from app.db.queries import Queries
from app.security import hash_password

QUERIES = (
    "demo_agent_upsert",
    "demo_customers_seed",
    "demo_bet_count",
    "demo_seed_random",
    "demo_bets_seed",
)

DEMO_USERNAME = "demo"
DEMO_CUSTOMERS = 50
DEMO_BETS = 4000


@dataclass(frozen=True)
class DemoCredentials:
    agent_id: int
    username: str
    password: str
    seeded_bets: int


def seed(database_url: str, queries: Queries) -> DemoCredentials:
    """Create the demo agent, its customers and bets; reuse them if they exist.

    The password is new on every run (only its hash is stored), so it is
    always the one printed.
    """
    password = secrets.token_urlsafe(9)
    with psycopg.connect(database_url) as conn, conn.transaction():
        row = conn.execute(
            queries["demo_agent_upsert"],
            {
                "username": DEMO_USERNAME,
                "display_name": "Demo Agent",
                "password_hash": hash_password(password),
            },
        ).fetchone()
        assert row is not None
        agent_id = int(row[0])
        conn.execute(
            queries["demo_customers_seed"], {"agent_id": agent_id, "customers": DEMO_CUSTOMERS}
        )
        count_row = conn.execute(queries["demo_bet_count"], {"agent_id": agent_id}).fetchone()
        seeded = 0
        if count_row is not None and count_row[0] == 0:
            conn.execute(queries["demo_seed_random"], {"seed": 0.42})
            seeded = conn.execute(
                queries["demo_bets_seed"], {"agent_id": agent_id, "bets": DEMO_BETS}
            ).rowcount
    return DemoCredentials(agent_id, DEMO_USERNAME, password, seeded)
