"""Fixtures of the benchmark's tests."""

import uuid

import psycopg
import pytest
from psycopg import sql


@pytest.fixture
def bench_db(pg_server):
    """A database name for one benchmark run, dropped afterwards."""
    name = f"cof_bench_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
