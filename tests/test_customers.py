"""GET /api/v1/agent/customers: the agent's own customers, for the filter."""

from tests import factories

URL = "/api/v1/agent/customers"


def test_lists_own_customers_by_username(agent_client, agent, db):
    names = ["zed", "amy", "Bob", "mia"]
    ids = {name: factories.make_customer(db, agent["id"], name) for name in names}
    other = factories.make_agent(db)
    factories.make_customer(db, other, "aaron-elsewhere")
    r = agent_client.get(URL)
    assert r.status_code == 200
    assert r.json() == {
        "items": [
            {"id": ids[name], "username": name, "display_name": name.title()}
            for name in sorted(names, key=str.lower)
        ]
    }


def test_agent_without_customers_gets_an_empty_list(agent_client):
    assert agent_client.get(URL).json() == {"items": []}


def test_a_customer_moved_to_another_agent_leaves_the_list(agent_client, agent, db):
    customer = factories.make_customer(db, agent["id"])
    other = factories.make_agent(db)
    db.execute("update users set agent_id = %s where id = %s", (other, customer))
    assert agent_client.get(URL).json() == {"items": []}


def test_customers_need_a_session(client):
    assert client.get(URL).status_code == 401
