def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_readyz_when_database_is_up(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"]["database"] == "ok"


def test_readyz_without_a_replica_reports_the_primary_and_the_listener(client):
    # The replica's entry and details only with DATABASE_READ_URL (tests/test_replica.py).
    assert client.get("/readyz").json() == {
        "status": "ok",
        "checks": {"database": "ok", "listener": "ok"},
    }


def test_openapi_document(client):
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/auth/login" in paths
    assert "/api/v1/agent/me" in paths


def test_interactive_schema_page(client):
    r = client.get("/schema")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]


def test_page_at_root(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "<html" in r.text.lower()


def test_openapi_documents_the_error_answers(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "400", "401", "429", "503"} <= set(login)
    logout = paths["/api/v1/auth/logout"]["post"]["responses"]
    assert {"204", "403", "503"} <= set(logout)
    assert "content" not in logout["204"]
    me = paths["/api/v1/agent/me"]["get"]["responses"]
    assert {"200", "401", "503"} <= set(me)
    assert "503" in paths["/readyz"]["get"]["responses"]
