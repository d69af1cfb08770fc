"""The steps of an install that yoyo's migrations cannot do, and their removal.

- the story's two indexes, built CONCURRENTLY (never inside a transaction),
  unless the platform already has an equivalent one;
- the current definitions of sql/schema/ (functions, views, triggers), applied
  when a file changed, each in a transaction that gives up a lock on the
  platform's tables it cannot get at once, and tries again;
- the copy of the cash-outs made before the install, in short batches.

Every step works on an autocommit connection and leaves the platform waiting
for at most one short lock timeout or one batch.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg import errors

from app.db.queries import Queries

log = logging.getLogger(__name__)

QUERIES = (
    "equivalent_index",
    "invalid_index",
    "record_added_index",
    "added_indexes",
    "definition_checksums",
    "record_definition",
    "definitions_session",
    "backfill_state",
    "backfill_bounds",
    "short_lock_timeout",
    "backfill_batch",
    "backfill_progress",
    "backfill_agents",
    "rebuild_totals",
    "backfill_finished",
    "remove_triggers",
    "remove_views",
    "remove_functions",
)

# (table, key columns, index name, create query, drop query)
STORY_INDEXES = (
    (
        "bets",
        ["status", "settled_at"],
        "cashout_feed_bets_status_settled_at_idx",
        "create_index_bets_status_settled_at",
        "drop_index_bets_status_settled_at",
    ),
    (
        "bets",
        ["user_id", "status"],
        "cashout_feed_bets_user_id_status_idx",
        "create_index_bets_user_id_status",
        "drop_index_bets_user_id_status",
    ),
)
# How long DDL on the platform's tables may wait for their lock before it
# gives up (and tries again): a platform writer queued behind it waits no longer.
LOCK_TIMEOUT = "100ms"
LOCK_RETRY_SECONDS = 300.0
# Bet ids per backfill transaction (about 6,000 cash-outs in the bench's data):
# one bucket of cashout_feed.bet_bucket(), whose lock the batch holds.
BACKFILL_IDS = 20_000

T = TypeVar("T")


def _retrying_locks(step: Callable[[], T], what: str) -> T:
    """Run ``step`` again while it fails on a lock it could not get in time."""
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            return step()
        except errors.LockNotAvailable:
            if time.monotonic() > deadline:
                raise
            log.info("%s: the platform holds a lock; trying again in %.2f s", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def add_story_indexes(conn: psycopg.Connection, queries: Queries) -> list[str]:
    """Build the story's indexes the platform lacks; return their names."""
    added = []
    for table, columns, name, create, _drop in STORY_INDEXES:
        row = conn.execute(
            queries["equivalent_index"], {"table": table, "columns": columns}
        ).fetchone()
        if row and row[0]:
            continue
        invalid = conn.execute(queries["invalid_index"], {"name": name}).fetchone()
        if invalid and invalid[0]:
            conn.execute(queries[_drop])
        log.info("building index %s concurrently", name)
        conn.execute(queries["record_added_index"], {"name": name})
        conn.execute(queries[create])
        added.append(name)
    return added


def drop_story_indexes(conn: psycopg.Connection, queries: Queries) -> None:
    ours = {row[0] for row in conn.execute(queries["added_indexes"]).fetchall()}
    for _table, _columns, name, _create, drop in STORY_INDEXES:
        if name in ours:
            conn.execute(queries[drop])


def definition_files(directory: Path) -> Iterator[tuple[str, str, str]]:
    """(file name, text, SHA-256) of sql/schema/, in the order they apply."""
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        yield path.name, text, hashlib.sha256(text.encode()).hexdigest()


def apply_definitions(
    conn: psycopg.Connection, queries: Queries, directory: Path, schema: str, force: bool
) -> list[str]:
    """Apply the files of sql/schema/ that changed (all of them when ``force``)."""
    applied: dict[str, str] = dict(conn.execute(queries["definition_checksums"]).fetchall())
    done = []
    for name, text, checksum in definition_files(directory):
        if not force and applied.get(name) == checksum:
            continue

        def apply(name: str = name, text: str = text, checksum: str = checksum) -> None:
            with conn.transaction():
                conn.execute(
                    queries["definitions_session"],
                    {"schema": schema, "lock_timeout": LOCK_TIMEOUT},
                )
                conn.execute(text.encode())  # our own file, several statements
                conn.execute(queries["record_definition"], {"file": name, "checksum": checksum})

        _retrying_locks(apply, f"applying sql/schema/{name}")
        done.append(name)
    return done


def backfill(conn: psycopg.Connection, queries: Queries) -> int:
    """Copy the cash-outs made before the install; return how many were copied."""
    state = conn.execute(queries["backfill_state"]).fetchone()
    assert state is not None
    done, after = state
    if done:
        return 0
    bounds = conn.execute(queries["backfill_bounds"]).fetchone()
    assert bounds is not None
    first, last = bounds
    # Bets inserted from now on go through the trigger, already in place.
    # Batches follow the buckets: (k * BACKFILL_IDS, (k + 1) * BACKFILL_IDS].
    after = first // BACKFILL_IDS * BACKFILL_IDS if after is None else after
    copied = 0
    started = time.monotonic()
    while after < last:
        upto = after + BACKFILL_IDS

        def batch(after: int = after, upto: int = upto) -> int:
            with conn.transaction():
                conn.execute(queries["short_lock_timeout"], {"lock_timeout": LOCK_TIMEOUT})
                row = conn.execute(queries["backfill_batch"], {"after": after, "upto": upto})
                n = row.fetchone()
                conn.execute(queries["backfill_progress"], {"upto": upto})
            return int(n[0]) if n else 0

        copied += _retrying_locks(batch, "copying earlier cash-outs")
        after = upto
    # The rollup of everything copied, one agent per statement.
    for (agent_id,) in conn.execute(queries["backfill_agents"]).fetchall():
        conn.execute(queries["rebuild_totals"], {"agent_id": agent_id})
    conn.execute(queries["backfill_finished"])
    if copied:
        log.info("copied %d earlier cash-outs in %.1f s", copied, time.monotonic() - started)
    return copied


def remove_definitions(conn: psycopg.Connection, queries: Queries) -> None:
    """Take the triggers off the platform's tables and drop the views beside them."""

    def remove() -> None:
        with conn.transaction():
            conn.execute(queries["short_lock_timeout"], {"lock_timeout": LOCK_TIMEOUT})
            conn.execute(queries["remove_triggers"])
            conn.execute(queries["remove_views"])
            conn.execute(queries["remove_functions"])

    _retrying_locks(remove, "removing the triggers")
