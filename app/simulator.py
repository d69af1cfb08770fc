"""Cash bets out at a steady rate, as customers and auto cash-out rules would."""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from app.db.queries import Queries

log = logging.getLogger(__name__)

QUERIES = ("sim_place_bets", "sim_cash_out")


def run(
    database_url: str,
    rate: float,
    stop: threading.Event,
    queries: Queries,
    agent_id: int | None = None,
    duration: float | None = None,
) -> int:
    """Cash out about ``rate`` bets per second until ``stop`` is set; return how many."""
    if rate <= 0:
        raise ValueError("rate must be greater than 0")
    interval = 1.0 / rate
    deadline = None if duration is None else time.monotonic() + duration
    done = 0
    conn: psycopg.Connection[tuple[object, ...]] | None = None
    next_at = time.monotonic()
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(database_url, autocommit=True, connect_timeout=3)
            with conn.transaction():
                # Keep a supply of open bets so the simulation never runs dry.
                conn.execute(queries["sim_place_bets"], {"count": 1, "agent_id": agent_id})
                cur = conn.execute(queries["sim_cash_out"], {"agent_id": agent_id})
                done += len(cur.fetchall())
        except psycopg.OperationalError as exc:
            log.warning("simulator: database unavailable (%s); retrying", exc)
            if conn is not None:
                conn.close()
            conn = None
            stop.wait(1.0)
            next_at = time.monotonic()
            continue
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))
    if conn is not None:
        conn.close()
    return done


def start_in_background(
    database_url: str, rate: float, queries: Queries
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(database_url, rate, stop, queries), name="simulator", daemon=True
    )
    thread.start()
    return thread, stop
