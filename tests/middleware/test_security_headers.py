import re

import httpx
import pytest

from app.middleware import limits
from app.middleware.security_headers import SCHEMA_CSP, STRICT_CSP, policy_for
from tests.conftest import login


@pytest.mark.parametrize(
    "path",
    ["/", "/static/js/main.js", "/static/css/app.css", "/api/v1/agent/me", "/healthz", "/nope"],
)
def test_every_response_carries_the_strict_headers(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.headers["content-security-policy"] == STRICT_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


def _assert_strict(r: httpx.Response) -> None:
    assert r.headers["content-security-policy"] == STRICT_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


def test_answers_of_the_size_limits_carry_the_headers(client: httpx.Client) -> None:
    r = client.get("/healthz", params={"x": "a" * (limits.MAX_QUERY_BYTES + 1)})
    assert r.status_code == 414
    _assert_strict(r)
    r = client.get("/healthz", headers={"X-Padding": "a" * (limits.MAX_HEADER_BYTES + 1)})
    assert r.status_code == 431
    _assert_strict(r)


def test_answer_of_the_origin_guard_carries_the_headers(client: httpx.Client, agent) -> None:
    login(client, agent["username"])
    r = client.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    _assert_strict(r)


def test_strict_policy_allows_only_our_own_origin() -> None:
    directives = dict(part.strip().split(" ", 1) for part in STRICT_CSP.split(";"))
    assert directives == {
        "default-src": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "object-src": "'none'",
    }


def test_schema_page_gets_its_own_policy_and_still_works(client: httpx.Client) -> None:
    r = client.get("/schema")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert r.headers["content-security-policy"] == SCHEMA_CSP
    assert "frame-ancestors 'none'" in SCHEMA_CSP and "default-src" not in SCHEMA_CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert client.get("/schema/openapi.json").status_code == 200


def test_only_schema_paths_are_relaxed() -> None:
    assert policy_for("/schema") == SCHEMA_CSP
    assert policy_for("/schema/swagger") == SCHEMA_CSP
    assert policy_for("/schemas") == STRICT_CSP
    assert policy_for("/static/schema") == STRICT_CSP


def test_page_has_no_inline_script_or_style(client: httpx.Client) -> None:
    html = client.get("/").text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)  # no onclick=… handlers
    assert "http://" not in html and "https://" not in html


def test_page_and_assets_are_revalidated_on_each_load(client: httpx.Client) -> None:
    for path in ("/", "/static/js/main.js"):
        assert client.get(path).headers["cache-control"] == "no-cache"
