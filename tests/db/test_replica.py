"""The replica's lag from positions of the primary's WAL, and where reads go (app/db/replica.py)."""

from urllib.parse import urlsplit

from app.config import Settings
from app.db.pool import create_pool
from app.db.queries import Queries
from app.db.replica import Reads, WalLag
from tests.helpers import free_port


def test_a_standby_that_has_replayed_everything_has_no_lag_however_idle_the_primary():
    lag = WalLag()
    lag.primary_at(100, now=0.0)
    assert lag.seconds(100, now=0.5) == 0.0
    # Nothing written for an hour: still nothing to replay.
    lag.primary_at(100, now=3600.0)
    assert lag.seconds(100, now=3600.5) == 0.0


def test_the_lag_is_the_age_of_the_oldest_position_not_yet_replayed():
    lag = WalLag()
    lag.primary_at(100, now=0.0)
    assert lag.seconds(100, now=0.0) == 0.0
    lag.primary_at(150, now=1.0)
    lag.primary_at(150, now=2.0)  # the same position: first seen at 1.0
    lag.primary_at(200, now=3.0)
    assert lag.seconds(100, now=4.0) == 3.0  # missing what the primary had at 1.0
    assert lag.seconds(160, now=4.5) == 1.5  # has 150, not 200 (seen at 3.0)
    assert lag.seconds(200, now=5.0) == 0.0


def test_a_standby_behind_at_the_first_check_is_behind_by_an_unknown_time():
    lag = WalLag()
    lag.primary_at(500, now=10.0)  # when the primary got there is unknown
    assert lag.seconds(400, now=10.1) is None
    lag.primary_at(600, now=11.0)
    assert lag.seconds(500, now=12.0) == 1.0
    assert lag.seconds(600, now=12.0) == 0.0


async def test_a_read_that_cannot_reach_the_replica_is_served_by_the_primary(database_url):
    # The replica stopped answering after its last check said it was fine.
    gone = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    settings = Settings(database_url=database_url, database_read_url=gone, db_timeout=0.5)
    queries = Queries.load()
    primary = create_pool(settings, queries)
    replica = create_pool(settings, queries, gone, name="test-replica")
    await primary.open(wait=True)
    await replica.open(wait=False)
    try:
        reads = Reads(primary, replica, queries, settings)
        reads._set("streaming", 0.0)
        assert reads.pool() is replica
        async with reads.connection() as conn:
            row = await (await conn.execute("select current_database()")).fetchone()
        assert row == (urlsplit(database_url).path.lstrip("/"),)  # the primary's
        assert (reads.status.state, reads.status.reads_on) == ("unavailable", "primary")
        assert reads.status.problem is not None and "PoolTimeout" in reads.status.problem
        assert reads.readiness() == f"unavailable ({reads.status.problem}): reads go to the primary"
    finally:
        await replica.close()
        await primary.close()
