"""Dependencies handlers ask for by name, and their providers."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.queries import Queries
from app.schemas import Agent

Pool = NamedDependency[AsyncConnectionPool]
SqlQueries = NamedDependency[Queries]
AppSettings = NamedDependency[Settings]
CurrentAgent = NamedDependency[Agent]


def _pool(state: State) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = state.pool
    return pool


def _queries(state: State) -> Queries:
    queries: Queries = state.queries
    return queries


def _settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


APP_DEPENDENCIES = {
    "pool": Provide(_pool, sync_to_thread=False),
    "queries": Provide(_queries, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}
