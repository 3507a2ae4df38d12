"""The arXiv API and OAI-PMH: every real response parses; backfill pages politely."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from arxiv_digest import pipeline
from arxiv_digest.errors import FeedError, FetchError
from arxiv_digest.sources import http
from arxiv_digest.sources.arxiv_api import ATOM as ATOM_NS
from arxiv_digest.sources.arxiv_api import ApiClient, announcement_day, parse_api
from arxiv_digest.sources.oai import META, OAI, parse_oai
from arxiv_digest.store import Store
from tests.conftest import MakeSettings, fixture_bytes

ATOM = "application/atom+xml; charset=utf-8"


def test_current_format_100_entries() -> None:
    page = parse_api(fixture_bytes("api/query_all-testing_100entries.xml"))
    assert len(page.papers) == 100
    assert page.total == 214881 and page.start == 0
    assert all(p.title and p.abstract and p.authors for p in page.papers)
    assert any(any(ord(c) > 127 for c in a) for p in page.papers for a in p.authors)


def test_current_format_10_entries() -> None:
    page = parse_api(fixture_bytes("api/query_all-nicotine_10entries.xml"))
    assert (len(page.papers), page.total) == (10, 58)
    first = page.papers[0]
    assert (first.arxiv_id, first.version) == ("1509.01687", 1)
    assert first.primary_category == "cond-mat.mes-hall"
    assert first.categories == ("cond-mat.mes-hall", "physics.comp-ph")
    assert first.authors == ("S. J. Ray",)


def test_legacy_format_entries() -> None:
    page = parse_api(fixture_bytes("api/query_legacy-format_10entries.xml"))
    assert (len(page.papers), page.total) == (10, 31)
    first = page.papers[0]
    assert first.arxiv_id == "1201.4869" and first.authors == ("Adrian Del Maestro",)
    assert first.abstract.startswith("As helium-4 is cooled below 2.17 K")
    assert "\n" not in first.abstract


def test_zero_results() -> None:
    page = parse_api(fixture_bytes("api/query_zero-results.xml"))
    assert (page.total, page.papers) == (0, ())


def test_error_body_is_reported_with_arxivs_message() -> None:
    with pytest.raises(FeedError, match="incorrect id format for abc"):
        parse_api(fixture_bytes("api/query_error-http400.xml"))


def test_oai_page_of_538_records_ends_the_harvest() -> None:
    page = parse_oai(fixture_bytes("oai/ListRecords_cs_lastpage_538records.xml"))
    assert len(page.papers) == 538
    assert page.resumption_token is None
    first = page.papers[0]
    assert first.arxiv_id == "math/0611918"
    assert first.authors == ("Martin Hock", "Boaz Tsaban")
    assert first.categories == ("math.GR", "cs.CR", "math.AG")


@pytest.mark.parametrize(
    ("submitted", "feed_day"),
    [
        ("2026-04-20T13:59:00-04:00", "2026-04-21"),  # Monday before the deadline
        ("2026-04-20T14:01:00-04:00", "2026-04-22"),  # Monday after it
        ("2026-04-24T10:00:00-04:00", "2026-04-27"),  # Friday: announced Sunday night
        ("2026-04-25T10:00:00-04:00", "2026-04-28"),  # Saturday: waits for Monday
        ("2026-04-20T17:30:00+00:00", "2026-04-21"),  # 13:30 in New York
    ],
)
def test_announcement_day_follows_arxivs_schedule(submitted: str, feed_day: str) -> None:
    assert announcement_day(dt.datetime.fromisoformat(submitted)) == dt.date.fromisoformat(feed_day)


class FakeClock:
    """Time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_backfill_pages_one_request_per_three_seconds(
    httpserver: HTTPServer, make_settings: MakeSettings, tmp_path: object
) -> None:
    pages = {
        "0": fixture_bytes("api/query_all-nicotine_10entries.xml"),
        "10": fixture_bytes("api/query_legacy-format_10entries.xml"),
    }
    queries: list[dict[str, list[str]]] = []

    def handler(request: Request) -> Response:
        query = parse_qs(request.query_string.decode())
        queries.append(query)
        return Response(pages.get(query["start"][0], pages["0"]), content_type=ATOM)

    httpserver.expect_request("/api/query").respond_with_handler(handler)
    settings = make_settings(categories=["cond-mat.mes-hall", "physics.comp-ph"])
    clock = FakeClock()
    with http.make_client(settings.http) as client:
        api = ApiClient(client, settings, sleep=clock.sleep, clock=clock.time)
        papers = list(api.recent(dt.date(2000, 1, 1)))
    # 58 results in pages of 10 (this server repeats its first page after the second)
    assert [q["start"][0] for q in queries] == ["0", "10", "20", "30", "40", "50"]
    assert queries[0]["search_query"] == ["cat:cond-mat.mes-hall OR cat:physics.comp-ph"]
    assert queries[0]["sortBy"] == ["submittedDate"]
    assert clock.sleeps == [3.0] * 5
    assert len(papers) == 60


def test_backfill_stops_at_the_first_page_older_than_the_window(
    httpserver: HTTPServer, make_settings: MakeSettings, tmp_path: object
) -> None:
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_all-nicotine_10entries.xml"), content_type=ATOM
    )
    settings = make_settings(store={"url": "sqlite:///store.sqlite"})
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        count = pipeline.backfill(
            settings, store, client, 7, today=dt.date(2026, 7, 17), sleep=FakeClock().sleep
        )
        assert count == 0
        assert store.count_papers() == 0
    assert len(httpserver.log) == 1


def test_api_http_400_reports_arxivs_message(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_error-http400.xml"), status=400, content_type=ATOM
    )
    settings = make_settings()
    with http.make_client(settings.http) as client, pytest.raises(FetchError, match="incorrect id"):
        ApiClient(client, settings, sleep=FakeClock().sleep).page(0)


def test_a_revised_paper_counts_from_its_first_announcement() -> None:
    page = parse_api(fixture_bytes("api/query_all-nicotine_10entries.xml"))
    revised = next(p for p in page.papers if p.arxiv_id == "1206.3474")
    assert revised.version == 2
    assert revised.announce_type == "new"
    # published 2012-06-15 (a Friday): announced Sunday night, in Monday's feed
    assert revised.announced == dt.date(2012, 6, 18)


def _edited(relative: str, edit: Callable[[etree._Element], None]) -> bytes:
    """A real fixture parsed, changed in place by ``edit(root)``, serialized again."""
    root = etree.fromstring(fixture_bytes(relative))
    edit(root)
    return etree.tostring(root)


def _set_text(root: etree._Element, path: str, index: int, text: str) -> None:
    element = root.findall(path)[index]
    element.text = text


def test_one_unreadable_api_entry_is_skipped_with_a_counted_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = _edited(
        "api/query_all-nicotine_10entries.xml",
        lambda root: _set_text(root, f"{ATOM_NS}entry/{ATOM_NS}id", 3, "http://arxiv.org/abs/nope"),
    )
    with caplog.at_level(logging.WARNING):
        page = parse_api(body)
    assert (len(page.papers), page.entries, page.total) == (9, 10, 58)
    assert "2004.14943" not in {p.arxiv_id for p in page.papers}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "skipped 1 of 10 API entries that could not be read "
        "(e.g. not an arXiv identifier: 'http://arxiv.org/abs/nope')"
    ]


def test_one_unreadable_oai_record_is_skipped_with_a_counted_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = f"{OAI}ListRecords/{OAI}record/{OAI}metadata/{META}arXiv/{META}id"
    body = _edited(
        "oai/ListRecords_cs_lastpage_538records.xml",
        lambda root: _set_text(root, path, 0, "not/an-id"),
    )
    with caplog.at_level(logging.WARNING):
        page = parse_oai(body)
    assert len(page.papers) == 537
    assert "skipped 1 of 538 OAI-PMH records" in caplog.text


def test_api_titles_abstracts_and_names_are_repaired_and_accented() -> None:
    def edit(root: etree._Element) -> None:
        _set_text(root, f"{ATOM_NS}entry/{ATOM_NS}author/{ATOM_NS}name", 0, "JosÃ© RaÃºl")
        _set_text(root, f"{ATOM_NS}entry/{ATOM_NS}title", 0, "Schr\\\"odinger  and L\\'evy")
        _set_text(root, f"{ATOM_NS}entry/{ATOM_NS}summary", 0, "P\\'{o}lya on $\\mathcal{O}(n^3)$")

    first = parse_api(_edited("api/query_all-nicotine_10entries.xml", edit)).papers[0]
    assert first.authors == ("José Raúl",)
    assert first.title == "Schrödinger and Lévy"
    assert first.abstract == "Pólya on $\\mathcal{O}(n^3)$"


def test_cross_listed_papers_are_marked_cross_as_the_daily_feed_would() -> None:
    body = fixture_bytes("api/query_all-nicotine_10entries.xml")
    page = parse_api(body, monitored=["cond-mat.mes-hall", "q-bio"])
    types = {p.arxiv_id: p.announce_type for p in page.papers}
    # primary cond-mat.mes-hall, or in the monitored archive q-bio: new
    assert {i for i, t in types.items() if t == "new"} == {
        "1509.01687", "1206.3474", "2004.14943", "1902.05515", "0901.0089", "q-bio/0509018",
        "0902.1417",
    }  # fmt: skip
    # primary physics.soc-ph, cs.CV, cs.AI: listed in a monitored category only as a cross-list
    assert {i for i, t in types.items() if t == "cross"} == {
        "2511.17570",
        "2603.02047",
        "2212.06330",
    }


def test_backfill_marks_cross_listed_papers_cross(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_legacy-format_10entries.xml"), content_type=ATOM
    )
    settings = make_settings(categories=["cond-mat.mes-hall", "cond-mat.other"])
    with http.make_client(settings.http) as client:
        api = ApiClient(client, settings, sleep=FakeClock().sleep)
        page = api.page(0)
        papers = list(api.recent(dt.date(2013, 1, 1)))
    new = {p.arxiv_id for p in page.papers if p.announce_type == "new"}
    assert new == {"1201.4869", "1303.6954"}
    assert len([p for p in page.papers if p.announce_type == "cross"]) == 8
    assert {p.arxiv_id: p.announce_type for p in papers} == {
        "1303.6954": "new",
        "1312.6177": "cross",
        "1412.6529": "cross",
    }


def _empty_page() -> bytes:
    """A real API page with its entries taken out: totalResults still says 58."""

    def drop_entries(root: etree._Element) -> None:
        for entry in root.findall(f"{ATOM_NS}entry"):
            root.remove(entry)

    return _edited("api/query_all-nicotine_10entries.xml", drop_entries)


def _serve_pages(httpserver: HTTPServer, answers: dict[str, list[bytes]]) -> list[str]:
    """Each start index answers its list of bodies in turn (the last one repeats)."""
    starts: list[str] = []

    def handler(request: Request) -> Response:
        start = parse_qs(request.query_string.decode())["start"][0]
        starts.append(start)
        bodies = answers.get(start) or answers["*"]
        body = bodies.pop(0) if len(bodies) > 1 else bodies[0]
        return Response(body, content_type=ATOM)

    httpserver.expect_request("/api/query").respond_with_handler(handler)
    return starts


def test_an_empty_page_before_the_end_is_asked_again(
    httpserver: HTTPServer, make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    nicotine = fixture_bytes("api/query_all-nicotine_10entries.xml")
    starts = _serve_pages(httpserver, {"10": [_empty_page(), nicotine], "*": [nicotine]})
    settings = make_settings(http={"retries": 2, "backoff": 5, "max_backoff": 60})
    clock = FakeClock()
    with http.make_client(settings.http) as client, caplog.at_level(logging.WARNING):
        api = ApiClient(client, settings, sleep=clock.sleep, clock=clock.time)
        papers = list(api.recent(dt.date(2000, 1, 1)))
    assert starts == ["0", "10", "10", "20", "30", "40", "50"]
    assert clock.sleeps == [3.0, 5.0, 3.0, 3.0, 3.0, 3.0]  # the page delay, one backoff
    assert len(papers) == 60
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_backfill_warns_how_much_is_missing_when_pages_stay_empty(
    httpserver: HTTPServer, make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    nicotine = fixture_bytes("api/query_all-nicotine_10entries.xml")
    starts = _serve_pages(httpserver, {"0": [nicotine], "*": [_empty_page()]})
    settings = make_settings(
        store={"url": "sqlite:///store.sqlite"},
        http={"retries": 2, "backoff": 5, "max_backoff": 60},
    )
    clock = FakeClock()
    with (
        http.make_client(settings.http) as client,
        Store(settings.store.url) as store,
        caplog.at_level(logging.WARNING),
    ):
        count = pipeline.backfill(
            settings, store, client, 10_000, today=dt.date(2026, 7, 17), sleep=clock.sleep
        )
    assert count == 10
    assert starts == ["0", "10", "10", "10"]
    assert 5.0 in clock.sleeps and 10.0 in clock.sleeps  # backoff 5 s, doubling
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "empty page at 10 of 58 results" in warnings[0]
    assert "48 results were not fetched" in warnings[0]
