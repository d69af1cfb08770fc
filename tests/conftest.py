"""Shared fixtures: one PostgreSQL per test session, a fresh database per test, a live app."""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql

from app.config import Settings
from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from app.db.urls import with_database
from app.logs import JsonFormatter
from app.main import create_app
from tests import factories, platform


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL for a PostgreSQL server: TEST_DATABASE_URL, Docker, or embedded."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    tmp = Path(tempfile.mkdtemp(prefix="cof-test-pg-"))
    embedded = EmbeddedPostgres(tmp)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _admin(pg_server: str) -> psycopg.Connection:
    return psycopg.connect(pg_server, autocommit=True)


# "script": the template is a platform's own database (tests/platform.sql, with
# data) that the app is installed onto; the data is removed afterwards so that
# every test starts from empty tables. Unset: the app creates the platform's
# tables itself, as on the embedded database.
PLATFORM = os.environ.get("CASHOUT_FEED_TEST_PLATFORM", "created")


@pytest.fixture(scope="session")
def template_db(pg_server: str) -> Iterator[str]:
    """A migrated database that every test's database is cloned from."""
    name = f"cof_template_{os.getpid()}"
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(pg_server, name)
    if PLATFORM == "script":
        with psycopg.connect(url, autocommit=True) as conn:
            platform.create(conn)
    migrate.apply_all(url)
    if PLATFORM == "script":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("delete from bets; delete from users; delete from agents")
            # The rollups' deltas of that data cancel out: merged, nothing is left.
            conn.execute("select cashout_feed.merge_totals(1000000)")
    yield name
    with _admin(pg_server) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@pytest.fixture
def database_url(pg_server: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for this test alone; tests may commit freely."""
    name = f"cof_t_{uuid.uuid4().hex[:16]}"
    with _admin(pg_server) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    yield with_database(pg_server, name)
    with _admin(pg_server) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@pytest.fixture
def empty_db(pg_server: str) -> Iterator[str]:
    """A database with nothing in it (no migrations applied)."""
    name = f"cof_empty_{uuid.uuid4().hex[:16]}"
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield with_database(pg_server, name)
    with _admin(pg_server) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@pytest.fixture
def created_database_url(empty_db: str) -> str:
    """A database whose platform tables the app created itself (exactly as SPEC §3 lists
    them), whatever CASHOUT_FEED_TEST_PLATFORM says."""
    migrate.apply_all(empty_db)
    return empty_db


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test's database: every statement commits."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


class LiveServer:
    """The real app on a real socket, served by uvicorn in a background thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)
        self.url = ""

    def start(self, timeout: float = 20) -> LiveServer:
        self.thread.start()
        started = threading.Event()

        def wait() -> None:
            while not self.server.started and self.thread.is_alive():
                started.wait(0.02)
            started.set()

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        if not started.wait(timeout) or not self.server.started:
            raise RuntimeError("the app did not start")
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        assert not self.thread.is_alive(), "the app did not shut down"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def start_server() -> Iterator[Callable[[Settings], LiveServer]]:
    """Start the app with given settings; every server started is stopped after the test."""
    started: list[LiveServer] = []

    def start(settings: Settings) -> LiveServer:
        server = LiveServer(create_app(settings)).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def server(start_server: Callable[[Settings], LiveServer], settings: Settings) -> LiveServer:
    return start_server(settings)


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def login(client: httpx.Client, username: str, password: str = factories.PASSWORD) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture
def agent(db: psycopg.Connection) -> dict[str, Any]:
    """A signed-up agent with its username and password."""
    username = factories.unique("agent")
    agent_id = factories.make_agent(db, username)
    return {"id": agent_id, "username": username, "password": factories.PASSWORD}


@pytest.fixture
def agent_client(client: httpx.Client, agent: dict[str, Any]) -> httpx.Client:
    """The client, signed in as ``agent`` with a bearer token."""
    token = login(client, agent["username"])
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything the server side logs, at DEBUG, formatted as the app formats it.

    The test's own HTTP client (httpx, httpcore) logs the headers it sends and
    receives at DEBUG: that is this process playing the client, not the app.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)
