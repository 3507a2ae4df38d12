"""`/api/v1/`: every documented route answers as its OpenAPI document says, and only the
holder of the write token changes anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from arxiv_digest.config import Settings, load_settings
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import Summary
from arxiv_digest.store import Store
from arxiv_digest.web import create_app
from arxiv_digest.web.api import JsonApi
from arxiv_digest.web.openapi import OPERATIONS
from tests.test_web_process import write_settings

TOKEN = "api-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer wrong-token-0123456789"}
DAY = "2026-04-27"


@pytest.fixture
def store(published_site: Settings) -> Iterator[Store]:
    with Store(published_site.store.url) as opened:
        yield opened


def client_for(settings: Settings, store: Store) -> TestClient:
    return TestClient(create_app(settings, store, admin_token=""), raise_server_exceptions=False)


@pytest.fixture
def client(
    published_site: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("ARXIV_DIGEST_API_TOKEN", TOKEN)
    with client_for(published_site, store) as test_client:
        yield test_client


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def first_paper(client: TestClient) -> dict[str, Any]:
    paper: dict[str, Any] = client.get(f"/api/v1/digests/{DAY}").json()["papers"][0]
    return paper


def check(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """``body`` is what the document promises for ``status`` of ``method path``."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    validator.validate(body)


def test_the_openapi_document_is_valid_and_lists_exactly_the_routes_served(
    document: dict[str, Any], published_site: Settings, store: Store
) -> None:
    validate(document)  # OpenAPI 3.1, by openapi-spec-validator
    assert document["openapi"] == "3.1.0"
    served = {
        (route.path.replace(":path}", "}"), method.lower())
        for route in JsonApi(published_site, store, token=None).routes()
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == documented == {(op.path, op.method) for op in OPERATIONS}


def test_every_documented_route_and_answer_is_what_the_document_says(
    client: TestClient, document: dict[str, Any]
) -> None:
    paper = first_paper(client)
    some_id = paper["arxiv_id"]
    cases: list[tuple[str, str, str, dict[str, Any], int]] = [
        ("get", "/digests", "/digests?limit=1", {}, 200),
        ("get", "/digests", "/digests?limit=0", {}, 400),
        ("get", "/digests/{date}", f"/digests/{DAY}", {}, 200),
        ("get", "/digests/{date}", "/digests/2026-4-27", {}, 400),
        ("get", "/digests/{date}", "/digests/2020-01-01", {}, 404),
        ("get", "/papers/{arxiv_id}", f"/papers/{some_id}", {}, 200),
        ("get", "/papers/{arxiv_id}", f"/papers/{some_id}v1", {}, 200),
        ("get", "/papers/{arxiv_id}", "/papers/2499.99999", {}, 400),
        ("get", "/papers/{arxiv_id}", "/papers/2604.99999", {}, 404),
        ("get", "/search", "/search?q=%22language+models%22", {}, 200),
        ("get", "/search", "/search?q=models&page=0", {}, 400),
        ("get", "/ratings", "/ratings", AUTH, 200),
        ("get", "/ratings", "/ratings", {}, 401),
        ("get", "/ratings", "/ratings", WRONG, 403),
        ("put", "/ratings/{arxiv_id}", f"/ratings/{some_id}", AUTH, 200),
        ("put", "/ratings/{arxiv_id}", "/ratings/2604.1", AUTH, 400),
        ("put", "/ratings/{arxiv_id}", f"/ratings/{some_id}", {}, 401),
        ("put", "/ratings/{arxiv_id}", f"/ratings/{some_id}", WRONG, 403),
        ("delete", "/ratings/{arxiv_id}", f"/ratings/{some_id}", AUTH, 200),
        ("delete", "/ratings/{arxiv_id}", "/ratings/2604.1", AUTH, 400),
        ("delete", "/ratings/{arxiv_id}", f"/ratings/{some_id}", {}, 401),
        ("delete", "/ratings/{arxiv_id}", f"/ratings/{some_id}", WRONG, 403),
        ("get", "/openapi.json", "/openapi.json", {}, 200),
    ]  # fmt: skip
    seen: set[tuple[str, str, str]] = set()
    for method, path, url, headers, status in cases:
        body = {"rating": "up"} if method == "put" else None
        response = client.request(method, f"/api/v1{url}", headers=headers, json=body)
        assert response.status_code == status, (method, url, response.text)
        check(document, path, method, status, response.json())
        seen.add((path, method, str(status)))
    # the 404s of the write routes (writes off) and 503 (store down) have tests of their own
    untested = {
        (path, method, status)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
        if status not in ("304", "503") and not (status == "404" and "ratings" in path)
    }
    assert untested - seen == set()


def test_a_digest_lists_its_papers_in_rank_order_with_their_summary(client: TestClient) -> None:
    listed = client.get("/api/v1/digests").json()
    assert listed["digests"] == [
        {"date": DAY, "updated_at": listed["digests"][0]["updated_at"], "papers": 7,
         "api": f"digests/{DAY}"},
    ]  # fmt: skip
    day = client.get(f"/api/v1/digests/{DAY}").json()
    assert [p["rank"] for p in day["papers"]] == list(range(1, 8))
    scores = [p["score"] for p in day["papers"]]
    assert scores == sorted(scores, reverse=True)
    top = day["papers"][0]
    assert top["matched"] and top["url"].startswith("https://arxiv.org/abs/")
    assert top["summary"]["model"] == "test-model" and len(top["summary"]["prompt_hash"]) == 64
    assert day["newer"] is None and day["older"] is None


def test_a_paper_has_its_abstract_summary_digests_and_rating(
    client: TestClient, store: Store
) -> None:
    some = first_paper(client)
    store.rate(some["arxiv_id"], -1, "cli", dt.datetime(2026, 4, 28, tzinfo=dt.UTC))
    paper = client.get(f"/api/v1/papers/{some['arxiv_id']}").json()
    stored = store.paper(some["arxiv_id"])
    assert stored is not None and paper["abstract"] == stored.abstract
    assert paper["summary"]["text"] == some["summary"]["text"]
    assert paper["summary"]["prompt_hash"] == some["summary"]["prompt_hash"]
    assert paper["digests"] == [
        {"date": DAY, "rank": 1, "version": 1, "score": some["score"], "category": "cs.AI",
         "matched": some["matched"], "why": ""},
    ]  # fmt: skip
    assert paper["rating"]["rating"] == "down" and paper["rating"]["source"] == "cli"


def test_search_is_the_search_of_search_json(client: TestClient) -> None:
    params = {"q": '"language models" -survey', "limit": "2", "category": "cs"}
    api = client.get("/api/v1/search", params=params).json()
    site = client.get("/search.json", params=params).json()
    assert api["results"] == site["results"] and api["total"] == site["total"] > 2
    assert api["next"] == site["next"].replace("search.json", "search")
    assert client.get("/api/v1/search").json()["parameter"] == "q"


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/digests?limit=%EF%BC%91%EF%BC%90", "limit"),  # fullwidth digits "１０"
        ("/digests?page=%C2%B2", "page"),  # "²": str.isdigit() says yes, int() says no
        ("/digests?limit=101", "limit"),
        ("/search?q=a&limit=%EF%BC%95", "limit"),
        ("/search?q=a&from=2026-13-01", "from"),
        ("/search?q=a&from=2026-02-01&to=2026-01-01", "to"),
        ("/search?q=a&rated=sideways", "rated"),
        ("/digests/yesterday", "date"),
        ("/papers/%EF%BC%92%EF%BC%94%EF%BC%91%EF%BC%91.17712", "arxiv_id"),
        ("/papers/https://arxiv.org/abs/2411.17712", "arxiv_id"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client: TestClient, url: str, parameter: str) -> None:
    response = client.get(f"/api/v1{url}")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_parameter"
    assert response.json()["parameter"] == parameter


def test_a_rating_body_must_be_up_or_down(client: TestClient) -> None:
    paper = first_paper(client)["arxiv_id"]
    bodies: tuple[Any, ...] = ({"rating": "sideways"}, {"rating": 1}, {"vote": "up"}, [], "up")
    for body in bodies:
        response = client.put(f"/api/v1/ratings/{paper}", headers=AUTH, json=body)
        assert response.status_code == 400 and response.json()["parameter"] == "rating"
    response = client.put(f"/api/v1/ratings/{paper}", headers=AUTH, content=b"{not json")
    assert response.status_code == 400 and response.json()["parameter"] == "rating"
    response = client.put(f"/api/v1/ratings/{paper}", headers=AUTH, content=b" " * 5000)
    assert response.status_code == 400


def test_ratings_with_the_token_change_what_every_reader_sees(
    client: TestClient, store: Store
) -> None:
    paper = first_paper(client)["arxiv_id"]
    before = client.get(f"/api/v1/digests/{DAY}")
    rated = client.put(f"/api/v1/ratings/{paper}v1", headers=AUTH, json={"rating": "up"})
    assert rated.json()["arxiv_id"] == paper and rated.json()["source"] == "api"
    assert rated.headers["cache-control"] == "no-store"
    stored = store.rating(paper)
    assert stored is not None and stored.value == 1
    after = client.get(f"/api/v1/digests/{DAY}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.json()["papers"][0]["rating"] == "up"
    listed = client.get("/api/v1/ratings", headers=AUTH).json()["ratings"]
    assert [r["arxiv_id"] for r in listed] == [paper]
    assert client.delete(f"/api/v1/ratings/{paper}", headers=AUTH).json()["cleared"] is True
    assert client.delete(f"/api/v1/ratings/{paper}", headers=AUTH).json()["cleared"] is False
    assert store.rating(paper) is None


def test_without_the_token_variable_writes_are_off(
    published_site: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARXIV_DIGEST_API_TOKEN", raising=False)
    with client_for(published_site, store) as client:
        paper = first_paper(client)["arxiv_id"]
        for method in ("get", "put", "delete"):
            url = "/api/v1/ratings" if method == "get" else f"/api/v1/ratings/{paper}"
            response = client.request(method, url, headers=AUTH, json={"rating": "up"})
            assert response.status_code == 404, method
            assert response.json()["error"] == "writes_disabled"
        assert client.get(f"/api/v1/papers/{paper}").status_code == 200  # reading is open
    assert store.ratings() == []


def test_a_token_too_short_to_be_safe_is_a_config_error(
    published_site: Settings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_settings(published_site, tmp_path / "config.json")
    monkeypatch.setenv("ARXIV_DIGEST_API_TOKEN", "short-token")
    with pytest.raises(ConfigError, match="too short") as raised:
        load_settings(config)
    assert "short-token" not in str(raised.value)


def test_answers_carry_an_etag_and_the_security_headers(client: TestClient) -> None:
    for url in ("/api/v1/digests", f"/api/v1/digests/{DAY}", "/api/v1/openapi.json"):
        response = client.get(url)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-content-type-options"] == "nosniff"
        again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == response.headers["etag"]
    assert client.get("/api/v1/search?q=models").headers["cache-control"] == "no-store"
    assert (
        client.get("/api/v1/ratings", headers=AUTH).headers["cache-control"].startswith("private")
    )


def test_errors_are_json_with_a_stable_code(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.post("/api/v1/digests")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    unauthorized = client.get("/api/v1/ratings")
    assert unauthorized.headers["www-authenticate"] == "Bearer"


def test_a_store_that_cannot_be_read_is_a_503(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arxiv_digest.errors import StoreError

    def broken(*args: object, **kwargs: object) -> None:
        raise StoreError("store sqlite:///x: cannot search: disk I/O error")

    monkeypatch.setattr(Store, "search", broken)
    response = client.get("/api/v1/search?q=models")
    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    assert "disk" not in response.text  # details go to the log only


def test_cors_is_off_unless_origins_are_configured(published_site: Settings, store: Store) -> None:
    preflight = {"Origin": "https://me.example.org", "Access-Control-Request-Method": "GET"}
    with client_for(published_site, store) as client:
        response = client.get("/api/v1/digests", headers={"Origin": "https://me.example.org"})
        assert "access-control-allow-origin" not in response.headers
        assert (
            "access-control-allow-origin"
            not in client.options("/api/v1/digests", headers=preflight).headers
        )
    opened = published_site.model_copy(
        update={
            "api": published_site.api.model_copy(
                update={"cors_origins": ["https://me.example.org"]}
            )
        }
    )
    with client_for(opened, store) as client:
        response = client.get("/api/v1/digests", headers={"Origin": "https://me.example.org"})
        assert response.headers["access-control-allow-origin"] == "https://me.example.org"
        assert client.options("/api/v1/digests", headers=preflight).status_code == 200
        other = client.get("/api/v1/digests", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        assert "access-control-allow-origin" not in client.get("/health").headers


def test_a_cors_origin_must_be_an_origin() -> None:
    from arxiv_digest.config import parse_settings

    base = {"categories": ["cs.AI"], "keywords": ["LLM"]}
    for bad in ("https://me.example.org/site", "me.example.org", "ftp://x"):
        with pytest.raises(ConfigError, match="cors_origins"):
            parse_settings({**base, "api": {"cors_origins": [bad]}})
    ok = parse_settings({**base, "api": {"cors_origins": ["*", "http://localhost:8080"]}})
    assert ok.api.cors_origins == ["*", "http://localhost:8080"]


def test_the_summary_shown_is_the_latest_with_its_own_model_and_prompt(
    client: TestClient, store: Store
) -> None:
    paper = first_paper(client)
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    newer = Summary(paper["arxiv_id"], 1, "other-model", "A newer summary.")
    store.save_summary(newer, "f" * 64, later)
    found = client.get(f"/api/v1/papers/{paper['arxiv_id']}").json()["summary"]
    assert (found["text"], found["model"], found["prompt_hash"]) == (
        "A newer summary.", "other-model", "f" * 64,
    )  # fmt: skip
