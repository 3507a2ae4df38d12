"""`/search`, `/search.json` and `arxiv-digest search`: every stored paper, hostile input inert."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from arxiv_digest.cli import app
from arxiv_digest.config import Settings
from arxiv_digest.models import Paper, RankedPaper, RunReport, Summary
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store, search
from arxiv_digest.web import create_app
from tests.axe import assert_accessible
from tests.conftest import MakeSettings, fixture_bytes, watch_problems
from tests.test_web_process import ARTIFACTS, Server, write_settings

DAY = dt.date(2026, 4, 27)
NOW = dt.datetime(2026, 4, 27, 12, tzinfo=dt.UTC)
HOSTILE_TITLE = '<img src=x onerror=alert(1)> "Quoted" swarms'


@pytest.fixture
def search_site(make_settings: MakeSettings, make_paper: Callable[..., Paper]) -> Settings:
    """123 real stat papers (none shown), plus three on swarms: one in a published digest,
    one rated up, one with a hostile title and an AI summary."""
    settings = make_settings(categories=["cs.AI", "stat.ML"], keywords=["swarms"])
    shown = make_paper(arxiv_id="2604.90001", title="Swarms that plan", announced=DAY)
    rated = make_paper(
        arxiv_id="2604.90002",
        title="Tool-using swarms",
        primary_category="cs.CL",
        categories=("cs.CL",),
        announced=DAY - dt.timedelta(days=40),
    )
    hostile = make_paper(arxiv_id="2604.90003", title=HOSTILE_TITLE, abstract="Swarms <b>bold</b>.")
    with Store(settings.store.url) as store:
        store.upsert_papers(parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers)
        store.upsert_papers([shown, rated, hostile])
        run_id = store.start_run(NOW)
        store.save_ranking(run_id, [RankedPaper(shown, 2.0, ("swarms",), "cs.AI")])
        report = RunReport(status="ok", ranked=1, digest_date=DAY)
        store.finish_run(run_id, report, NOW, fingerprint="digest")
        store.rate(rated.arxiv_id, 1, "cli", NOW)
        summary = "## Results\n\n- Beats **flocking** <script>alert(3)</script>"
        store.save_summary(Summary(hostile.arxiv_id, 1, "test-model", summary), "p", NOW)
    return settings


@pytest.fixture
def client(search_site: Settings) -> Iterator[TestClient]:
    with Store(search_site.store.url) as store:
        app = create_app(search_site, store, admin_token="")
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client


def results(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/search.json", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def found_ids(client: TestClient, **params: str) -> list[str]:
    return [r["arxiv_id"] for r in results(client, **params)["results"]]


def test_json_results_are_ranked_marked_and_say_what_the_reader_did(client: TestClient) -> None:
    body = results(client, q="swarms")

    assert body["total"] == 3 and body["next"] is None
    first = body["results"][0]
    assert first["title_html"] == "<mark>Swarms</mark> that plan"
    assert first["shown_on"] == "2026-04-27"
    by_id = {r["arxiv_id"]: r for r in body["results"]}
    assert by_id["2604.90002"]["rating"] == 1 and by_id["2604.90002"]["shown_on"] is None
    assert by_id["2604.90001"]["page"] == "papers/2604.90001"
    assert by_id["2604.90001"]["url"] == "https://arxiv.org/abs/2604.90001"


def test_every_stored_paper_is_found_not_only_the_shown_ones(client: TestClient) -> None:
    body = results(client, q='"neural networks"')
    assert body["total"] == 9
    assert all(r["shown_on"] is None for r in body["results"])


def test_filters_by_category_dates_digest_and_rating(client: TestClient) -> None:
    assert found_ids(client, q="swarms", category="cs.CL") == ["2604.90002"]
    assert found_ids(client, q="swarms", shown="yes") == ["2604.90001"]
    assert "2604.90001" not in found_ids(client, q="swarms", shown="no")
    assert found_ids(client, q="swarms", rated="up") == ["2604.90002"]
    assert found_ids(client, q="swarms", to="2026-03-31") == ["2604.90002"]
    assert "2604.90002" not in found_ids(client, q="swarms", **{"from": "2026-04-01"})
    assert found_ids(client, q="swarms", category="", shown="", rated="") != []  # a blank form


def test_pages_link_to_one_another(client: TestClient) -> None:
    first = results(client, q="regression", limit="4")
    assert first["previous"] is None and first["total"] > 8
    second = client.get("/" + first["next"]).json()
    assert first["next"] == "search.json?q=regression&limit=4&page=2"
    assert second["offset"] == 4 and second["previous"] == "search.json?q=regression&limit=4"
    seen = [r["arxiv_id"] for r in first["results"] + second["results"]]
    assert len(set(seen)) == 8


def test_a_very_common_word_says_only_the_newest_matches_were_ranked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RANKED", 3)  # 2,000 in use
    body = results(client, q="regression")
    assert (body["total"], body["total_capped"], len(body["results"])) == (3, True, 3)

    stats = one(client.get("/search", params={"q": "regression"}).text, "//p[@role='status']")
    assert stats.text_content().startswith("More than 3 papers match regression")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "q is required"),
        ({"q": "   "}, "q is required"),
        ({"q": "?!"}, "nothing to search for"),
        ({"q": "x" * 400}, "too long"),
        ({"q": "swarms", "limit": "1000"}, "limit"),
        ({"q": "swarms", "limit": "-3"}, "limit is a whole number"),
        ({"q": "swarms", "page": "0"}, "page"),
        ({"q": "swarms", "page": "99999"}, "page"),
        ({"q": "swarms", "page": "²"}, "page is a whole number"),  # str.isdigit(), not int()
        ({"q": "swarms", "page": "①"}, "page is a whole number"),
        ({"q": "swarms", "page": "２"}, "page is a whole number"),  # int() reads it: ASCII only
        ({"q": "swarms", "limit": "¹⁰"}, "limit is a whole number"),
        ({"q": "swarms", "from": "２０２６-04-01"}, "from is a day"),
        ({"q": "swarms", "from": "yesterday"}, "from is a day"),
        ({"q": "swarms", "to": "2026-02-30"}, "to is a day"),
        ({"q": "swarms", "from": "2026-05-01", "to": "2026-04-01"}, "date range"),
        ({"q": "swarms", "shown": "maybe"}, "shown is yes or no"),
        ({"q": "swarms", "rated": "<script>"}, "rated is one of"),
        ({"q": "swarms", "category": "<script>alert(1)</script>"}, "category"),
        ({"q": "swarms", "sort": "random"}, "sort is one of"),
    ],
)
def test_invalid_parameters_are_a_400_with_a_short_message(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    response = client.get("/search.json", params=params)
    assert response.status_code == 400
    assert message in response.json()["error"] and len(response.json()["error"]) < 90

    page = client.get("/search", params=params)
    if params.get("q", "").strip():
        assert page.status_code == 400
        assert message in one(page.text, f"//p[{has_class('error')}]").text_content()
        assert "Traceback" not in page.text


def parsed(html: str) -> Any:
    """The page's tree; Any, since lxml's stubs type every xpath() result as a union."""
    return lxml.html.fromstring(html)


def has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


HIT = f"//article[{has_class('search-hit')}]"


def one(html: str, xpath: str) -> Any:
    [element] = parsed(html).xpath(xpath)
    return element


HOSTILE_QUERIES = [
    '"Quoted" swarms',
    '"unclosed swarms',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "swarms' OR 1=1 --",
    "title:swarms NEAR(a b) * ^ ( )",
    "swarms & !flocking | <-> :*",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_are_ordinary_searches_never_markup(client: TestClient, query: str) -> None:
    response = client.get("/search", params={"q": query})

    assert response.status_code in (200, 400)
    document = parsed(response.text)
    assert document.xpath("//main//script | //main//img") == []
    assert document.xpath("//input[@id='q']")[0].get("value") == query
    for mark_parent in document.xpath("//mark"):
        assert list(mark_parent) == []  # a <mark> holds text only
    assert client.get("/search.json", params={"q": query}).status_code in (200, 400)


@pytest.mark.parametrize("query", ["swarms\x00", "\x00swarms", "swarms\x1b", "swarms\x7f\x0b"])
def test_control_characters_never_make_search_unavailable(
    client: TestClient, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A NUL ended FTS5's quoted string: a 503 and an ERROR line, for anyone, every request."""
    assert len(found_ids(client, q=query)) == 3
    page = client.get("/search", params={"q": query})

    assert page.status_code == 200 and len(parsed(page.text).xpath(HIT)) == 3
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_the_page_marks_matches_and_shows_hostile_titles_as_text(client: TestClient) -> None:
    response = client.get("/search", params={"q": '"quoted" swarms'})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "script-src" not in response.headers["content-security-policy"]  # nothing allowed
    document = parsed(response.text)
    [hit] = document.xpath(HIT)
    assert hit.xpath("h2/a")[0].text_content() == HOSTILE_TITLE
    assert [m.text for m in hit.xpath("h2//mark")] == ["Quoted", "swarms"]
    assert hit.xpath("h2/a")[0].get("href") == "papers/2604.90003"
    assert document.xpath("//main//img | //main//script | //main//b") == []
    assert "1 paper match" in one(response.text, f"//p[{has_class('stats')}]").text_content()


def test_the_page_tells_which_snippet_comes_from_the_ai_summary(client: TestClient) -> None:
    document = parsed(client.get("/search", params={"q": "flocking"}).text)
    [snippet] = document.xpath(f"{HIT}//p[{has_class('snippet')}]")
    assert snippet.xpath(f"span[{has_class('term')}]")[0].text == "AI summary"
    assert [m.text for m in snippet.xpath("mark")] == ["flocking"]
    assert document.xpath("//main//script") == []


def test_without_a_query_the_page_is_the_form(client: TestClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    document = parsed(response.text)
    assert document.xpath("//form[@role='search']//input[@id='q']")[0].get("value") == ""
    assert document.xpath("//article") == []


def test_html_pages_link_forward_and_back_keeping_the_filters(client: TestClient) -> None:
    document = parsed(
        client.get("/search", params={"q": "regression", "sort": "newest", "limit": "3"}).text
    )
    [forward] = document.xpath("//nav//a[@rel='next']")
    assert forward.get("href") == "search?q=regression&sort=newest&limit=3&page=2"
    second = parsed(client.get("/" + forward.get("href")).text)
    assert second.xpath("//nav//a[@rel='prev']")[0].get("href") == (
        "search?q=regression&sort=newest&limit=3"
    )
    assert second.xpath("//select[@id='sort']/option[@selected]")[0].get("value") == "newest"


# -- in a real browser ------------------------------------------------------------------------


def test_in_chromium_a_quoted_search_reads_well_on_a_phone_and_a_desktop(
    browser: Any, search_site: Settings, tmp_path: Path
) -> None:
    server = Server(write_settings(search_site, tmp_path / "search-config.json"))
    problems: list[str] = []
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        watch_problems(page, problems)
        response = page.goto(server.url + '/search?q="neural+networks"+-kernel')
        assert response is not None and response.status == 200
        assert page.locator("input#q").input_value() == '"neural networks" -kernel'
        assert page.locator("article.search-hit").count() > 3
        assert page.locator("article.search-hit mark").first.is_visible()
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 390  # nothing wider than the phone
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search-mobile.png"), full_page=True)
        assert_accessible(page, "the search page on a phone")

        page.goto(server.url + '/search?q="Quoted"+swarms')
        assert page.locator("article.search-hit h2").inner_text() == HOSTILE_TITLE
        assert page.locator("main img, main script").count() == 0
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(ARTIFACTS / "search-desktop.png"), full_page=True)
        assert_accessible(page, "the search page on a desktop")
        assert problems == []  # no console message, failed request, or alert()
    finally:
        server.stop()


def test_in_chromium_the_search_form_submits_without_javascript(
    browser: Any, search_site: Settings, tmp_path: Path
) -> None:
    server = Server(write_settings(search_site, tmp_path / "search-config.json"))
    try:
        page = browser.new_page()
        page.goto(server.url + "/search")
        page.fill("input#q", '"tool-using" swarms')
        page.click("button[type=submit]", no_wait_after=True)
        page.wait_for_url("**/search?q=*", timeout=5000)
        assert page.locator("article.search-hit h2").inner_text() == "Tool-using swarms"
    finally:
        server.stop()


# -- the same engine on the command line -------------------------------------------------------


def cli(settings: Settings, tmp_path: Path, *args: str) -> Result:
    config = write_settings(settings, tmp_path / "cli-config.json")
    return CliRunner().invoke(app, ["search", "--config", str(config), *args])


def test_the_command_finds_what_the_service_finds(
    client: TestClient, search_site: Settings, tmp_path: Path
) -> None:
    result = cli(search_site, tmp_path, "swarms", "--json", "--limit", "2")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    served = results(client, q="swarms", limit="2")
    assert printed["results"] == served["results"] and printed["total"] == served["total"] == 3


def test_the_command_prints_a_table_with_the_filters_applied(
    search_site: Settings, tmp_path: Path
) -> None:
    result = cli(search_site, tmp_path, '"tool-using" swarms', "--rated", "up", "--not-shown")

    assert result.exit_code == 0, result.output
    assert "Tool-using swarms" in result.output and "1–1 of 1" in result.output
    assert "Swarms that plan" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--", "-swarms"], "not only words to exclude"),
        (["swarms", "--from", "May"], "--from is a day"),
        (["swarms", "--category", "cs.LG%"], "category"),
    ],
)
def test_the_command_refuses_what_cannot_be_searched_with_exit_2(
    search_site: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli(search_site, tmp_path, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
