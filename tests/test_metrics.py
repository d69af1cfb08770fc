"""GET /metrics: Prometheus text with the stream gauges and request latency."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.metrics import MULTIPROC_ENV, Metrics, multiprocess_dir
from tests.conftest import login
from tests.helpers import metric
from tests.helpers import wait_until_async as wait_until
from tests.sse import open_stream


def samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_expose_the_stream_and_listener_figures(client):
    found = samples(client)
    assert found[("cashout_feed_open_streams", ())] == 0
    assert found[("cashout_feed_stream_events_delivered_total", ())] == 0
    assert found[("cashout_feed_listener_reconnects_total", ())] == 0
    assert found[("cashout_feed_asyncio_tasks", ())] >= 1


async def test_asyncio_tasks_count_each_open_stream_and_fall_back_when_they_close(
    server, client, agent
):
    token = login(client, agent["username"])

    def tasks() -> float:
        return metric(server.url, "cashout_feed_asyncio_tasks")

    before = tasks()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10, limits=limits) as c,
        contextlib.AsyncExitStack() as streams,
    ):
        for _ in range(5):
            await streams.enter_async_context(open_stream(c, token))
        # One request task per open stream (an idle stream holds no other).
        assert tasks() >= before + 5
    await wait_until(lambda: tasks() <= before, timeout=10)


def test_request_latency_is_labelled_by_route_template_and_status(agent_client, db):
    for bogus in ("abc", "123456"):
        agent_client.get("/api/v1/agent/me", params={"x": bogus})
    agent_client.get("/healthz")
    agent_client.get("/static/no-such-file-xyz.js")
    agent_client.headers.pop("Authorization")
    agent_client.cookies.clear()
    assert agent_client.get("/api/v1/agent/me").status_code == 401
    found = samples(agent_client)
    count = "cashout_feed_http_request_duration_seconds_count"
    me = ("method", "GET"), ("route", "/api/v1/agent/me")
    assert found[(count, (*me, ("status", "200")))] == 2
    assert found[(count, (*me, ("status", "401")))] == 1
    assert found[(count, (("method", "GET"), ("route", "/healthz"), ("status", "200")))] == 1
    # Labels come from templates, never from raw paths or query strings.
    assert not any("abc" in str(labels) or "xyz" in str(labels) for _, labels in found)
    static = [labels for name, labels in found if name == count and "/static" in str(labels)]
    assert static and all("{" in dict(labels)["route"] for labels in static)


def test_each_app_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.events_delivered.inc()
    assert b"cashout_feed_stream_events_delivered_total 1.0" in first.render()
    assert b"cashout_feed_stream_events_delivered_total 0.0" in second.render()
    # Rendered outside an event loop there are no tasks to count.
    assert b"cashout_feed_asyncio_tasks NaN" in first.render()


def test_each_serve_run_gives_its_workers_a_fresh_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with multiprocess_dir(1) as none:
        assert none is None and MULTIPROC_ENV not in os.environ
    with multiprocess_dir(2) as made:
        assert made is not None and os.environ[MULTIPROC_ENV] == made
        assert Path(made).is_dir() and not list(Path(made).iterdir())
    assert MULTIPROC_ENV not in os.environ and not Path(made).exists()
    # An operator's directory is kept, emptied of an earlier run's figures.
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_12345.db").write_bytes(b"old")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    with multiprocess_dir(2) as used:
        assert used == str(given) and not list(given.iterdir())
    assert given.is_dir()
