"""The HTTP client against a real local server: retries, Retry-After, conditional GET."""

from __future__ import annotations

import httpx2
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from arxiv_digest.config import HttpSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Validators
from arxiv_digest.retry import retry_after_seconds
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import fetch_rss, parse_rss
from tests.conftest import RSS_TYPE, MakeSettings, fixture_bytes
from tests.fakes import TrickleServer

SETTINGS = HttpSettings(retries=3, backoff=0.5, max_backoff=30, timeout=5)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_429_with_retry_after_is_waited_out_then_succeeds(httpserver: HTTPServer) -> None:
    body = fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")
    httpserver.expect_ordered_request("/rss/cs.AI").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/rss/cs.AI").respond_with_data(body, content_type=RSS_TYPE)
    sleeps = Sleeps()
    with http.make_client(SETTINGS) as client:
        response = http.get(client, httpserver.url_for("/rss/cs.AI"), SETTINGS, sleep=sleeps)
    assert response.status == 200
    assert len(parse_rss(response.content).papers) == 3
    assert sleeps == [7.0]


def test_retry_after_is_capped(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data(
        "", status=503, headers={"Retry-After": "86400"}
    )
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    sleeps = Sleeps()
    with http.make_client(SETTINGS) as client:
        http.get(client, httpserver.url_for("/x"), SETTINGS, sleep=sleeps)
    assert sleeps == [30.0]


def test_503_until_retries_run_out_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rss/cs.AI").respond_with_data("down", status=503)
    sleeps = Sleeps()
    with http.make_client(SETTINGS) as client, pytest.raises(FetchError) as info:
        http.get(client, httpserver.url_for("/rss/cs.AI"), SETTINGS, sleep=sleeps)
    assert "failed after 4 attempt(s)" in str(info.value)
    assert "503" in str(info.value)
    assert len(httpserver.log) == 4
    # exponential backoff: each wait at least the doubled base, jitter on top
    assert len(sleeps) == 3
    assert all(s >= base for s, base in zip(sleeps, [0.5, 1.0, 2.0], strict=True))


def test_client_errors_are_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rss/nope").respond_with_data("no", status=404)
    with http.make_client(SETTINGS) as client, pytest.raises(FetchError, match="404"):
        http.get(client, httpserver.url_for("/rss/nope"), SETTINGS, sleep=Sleeps())
    assert len(httpserver.log) == 1


def test_connection_refused_is_retried_then_reported() -> None:
    sleeps = Sleeps()
    with http.make_client(SETTINGS) as client, pytest.raises(FetchError, match="failed after 4"):
        http.get(client, "http://127.0.0.1:9/rss/cs.AI", SETTINGS, sleep=sleeps)
    assert len(sleeps) == 3


def test_user_agent_names_the_tool_and_a_contact(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ua").respond_with_data("ok")
    with http.make_client(SETTINGS) as client:
        http.get(client, httpserver.url_for("/ua"), SETTINGS)
    agent = httpserver.log[0][0].headers["User-Agent"]
    assert agent.startswith("arxiv-digest/") and "mailto:" in agent


def test_conditional_get_downloads_nothing_the_second_time(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    body = fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, content_type=RSS_TYPE, headers={"ETag": '"v1"'})

    httpserver.expect_request("/rss/cs.AI").respond_with_handler(handler)
    settings = make_settings(categories=["cs.AI"])
    with http.make_client(settings.http) as client:
        first, feed = fetch_rss(client, settings)
        assert feed is not None and len(feed.papers) == 3
        second, nothing = fetch_rss(client, settings, first.validators)
    assert nothing is None and second.not_modified and second.content == b""
    assert second.validators == Validators(etag='"v1"', last_modified=None)


def test_a_trickling_response_fails_at_its_deadline() -> None:
    # Each byte comes well within 0.5 s, so only a deadline on the whole request stops it.
    settings = HttpSettings(retries=1, backoff=0, max_backoff=0, timeout=0.5)
    with (
        TrickleServer() as server,
        http.make_client(settings) as client,
        pytest.raises(FetchError) as info,
    ):
        http.get(client, server.url("/api/query"), settings, sleep=Sleeps())
    assert "failed after 2 attempt(s)" in str(info.value)
    assert "0.5 s deadline" in str(info.value)
    assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
    assert server.requests == 2


def test_headers_arriving_after_the_deadline_are_a_timeout() -> None:
    settings = HttpSettings(retries=1, backoff=0, max_backoff=0, timeout=0.5)
    with (
        TrickleServer(pause=0.02, slow_headers=True) as server,  # about 40 bytes of headers
        http.make_client(settings) as client,
        pytest.raises(FetchError, match=r"0\.5 s deadline"),
    ):
        http.get(client, server.url("/pdf/2604.00001v1"), settings, sleep=Sleeps())
    assert server.requests == 2


def test_the_rss_feed_has_a_deadline_too(make_settings: MakeSettings) -> None:
    with TrickleServer() as server:
        settings = make_settings(
            categories=["cs.AI"],
            arxiv={"rss_url": server.url("/rss")},
            http={"timeout": 0.5, "retries": 2, "backoff": 0, "max_backoff": 0},
        )
        with http.make_client(settings.http) as client, pytest.raises(FetchError, match="dead"):
            fetch_rss(client, settings)
    assert server.requests == 3


def test_a_fast_response_is_read_whole(httpserver: HTTPServer) -> None:
    body = b"x" * 3_000_000  # many chunks, each checked against the deadline
    httpserver.expect_request("/big").respond_with_data(body)
    with http.make_client(SETTINGS) as client:
        assert http.get(client, httpserver.url_for("/big"), SETTINGS).content == body


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_values(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected
