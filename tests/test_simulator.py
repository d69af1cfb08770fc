import threading

from app import simulator
from app.db.queries import Queries
from tests import factories


def test_simulator_cashes_out_live_with_events(database_url, db):
    agent = factories.make_agent(db)
    for _ in range(3):
        factories.make_customer(db, agent)
    queries = Queries.load(required=simulator.QUERIES)
    done = simulator.run(database_url, 100, threading.Event(), queries, agent_id=agent, duration=1)
    assert done > 10
    cashed = db.execute("select count(*) from bets where status = 'cashed_out'").fetchone()
    events = db.execute(
        "select count(*), max(seq) from cashout_feed.events where agent_id = %s", (agent,)
    ).fetchone()
    assert cashed == (done,)
    assert events == (done, done)  # each one an UPDATE: one live event each, in order


def test_simulator_only_touches_the_given_agent(database_url, db):
    mine, other = factories.make_agent(db), factories.make_agent(db)
    factories.make_customer(db, mine)
    theirs = factories.make_customer(db, other)
    open_bet = factories.make_bet(db, theirs)
    queries = Queries.load(required=simulator.QUERIES)
    simulator.run(database_url, 50, threading.Event(), queries, agent_id=mine, duration=0.5)
    row = db.execute("select status from bets where id = %s", (open_bet,)).fetchone()
    assert row == ("open",)
    assert db.execute("select count(*) from bets where user_id = %s", (theirs,)).fetchone() == (1,)


def test_simulator_selections_name_two_different_teams(database_url, db):
    agent = factories.make_agent(db)
    factories.make_customer(db, agent)
    queries = Queries.load(required=simulator.QUERIES)
    simulator.run(database_url, 100, threading.Event(), queries, agent_id=agent, duration=0.5)
    for (selection,) in db.execute("select selection from bets"):
        match, _, backed = selection.partition(" — ")
        home, _, away = match.partition(" v ")
        assert home != away
        assert backed in {home, away}
