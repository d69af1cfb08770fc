import httpx

from tests.conftest import login


def test_session_probe_says_null_without_a_session(client: httpx.Client) -> None:
    r = client.get("/api/v1/auth/session")
    assert r.status_code == 200
    assert r.json() == {"agent": None}


def test_session_probe_names_the_signed_in_agent(client: httpx.Client, agent: dict) -> None:
    login(client, agent["username"])  # the cookie
    r = client.get("/api/v1/auth/session")
    assert r.status_code == 200
    assert r.json()["agent"] == {
        "id": agent["id"],
        "username": agent["username"],
        "display_name": agent["username"].title(),
    }


def test_session_probe_after_sign_out_is_null(client: httpx.Client, agent: dict) -> None:
    token = login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Origin": str(client.base_url).rstrip("/")})
    assert r.status_code == 204
    r = client.get("/api/v1/auth/session", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"agent": None}


def test_session_probe_ignores_an_absurd_token(client: httpx.Client) -> None:
    r = client.get("/api/v1/auth/session", headers={"Authorization": "Bearer " + "x" * 5000})
    assert r.status_code == 200
    assert r.json() == {"agent": None}
