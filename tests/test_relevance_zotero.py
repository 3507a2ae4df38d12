"""The Zotero Web API as a library source, against a local server that answers like it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import update
from werkzeug import Request, Response

from arxiv_digest.config import Settings, ZoteroSource
from arxiv_digest.relevance import zotero
from arxiv_digest.relevance.library import Library, read_library_files
from arxiv_digest.relevance.resolve import load_library
from arxiv_digest.sources import http
from arxiv_digest.store import Store, schema
from tests.conftest import REPO, MakeSettings, fixture_bytes, run_once, serve_feed

DATA = REPO / "tests" / "fixtures" / "zotero"  # see SOURCES.md there
USER_ITEMS = "/users/123/items"
GROUP_ITEMS = "/groups/456/collections/ABCD/items"
KEY = "zk-7Hq2-secret-key-not-for-logs"


def items(name: str) -> list[Any]:
    loaded: list[Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def serve_library(
    httpserver: HTTPServer, path: str, library: list[Any], *, key: str | None = None, **headers: str
) -> None:
    """Pages ``library`` by start/limit like the API; 403 unless ``key`` is sent (if set)."""

    def answer(request: Request) -> Response:
        if key is not None and request.headers.get("Zotero-API-Key") != key:
            return Response("Forbidden", status=403, content_type="text/plain")
        start = int(request.args.get("start", "0"))
        limit = int(request.args.get("limit", "25"))
        return Response(
            json.dumps(library[start : start + limit]),
            content_type="application/json",
            headers={
                "Total-Results": str(len(library)),
                "Zotero-API-Version": "3",
                "Last-Modified-Version": "415",
                **headers,
            },
        )

    httpserver.expect_request(path).respond_with_handler(answer)


def zotero_config(httpserver: HTTPServer, **fields: Any) -> dict[str, Any]:
    return {"zotero": {"library_id": "123", "base_url": httpserver.url_for("/"), **fields}}


def source_of(settings: Settings) -> ZoteroSource:
    zotero_source = settings.library[0].zotero
    assert zotero_source is not None
    return zotero_source


def read(settings: Settings, **kwargs: Any) -> list[Any]:
    with http.make_client(settings.http) as client:
        return zotero.read_zotero(source_of(settings), client, settings, **kwargs)


def test_every_page_is_read_attachments_and_notes_skipped_the_key_sent_as_a_header(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    serve_library(httpserver, USER_ITEMS, items("user-123-items.json"), key=KEY)
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    papers = read(settings, page_size=5)
    assert [p.title for p in papers] == [
        "Attention Is All You Need",
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        "Language Models are Few-Shot Learners",
        "The Llama 3 Herd of Models",
        "Human-level control through deep reinforcement learning",
        "Deep Learning",
    ]
    requests = [r for r, _ in httpserver.log]
    assert [(r.args["start"], r.args["limit"], r.args["format"]) for r in requests] == [
        ("0", "5", "json"),
        ("5", "5", "json"),
    ]
    assert all(r.headers["Zotero-API-Key"] == KEY for r in requests)
    assert all(r.headers["Zotero-API-Version"] == "3" for r in requests)
    assert all(KEY not in r.url for r in requests)


def test_arxiv_ids_from_archive_id_url_extra_and_doi_authors_and_dates(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    serve_library(httpserver, USER_ITEMS, items("user-123-items.json"), key=KEY)
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    papers = {p.title.split(":")[0]: p for p in read(settings)}
    assert {t: p.key for t, p in papers.items()} == {
        "Attention Is All You Need": "arxiv:1706.03762",  # archiveID, URL, arXiv DOI
        "BERT": "arxiv:1810.04805",  # "arXiv: …" in extra, an ACL DOI beside it
        "Language Models are Few-Shot Learners": "arxiv:2005.14165",  # arXiv DOI only
        "The Llama 3 Herd of Models": "arxiv:2407.21783",  # archiveID only
        "Human-level control through deep reinforcement learning": "doi:10.1038/nature14236",
        "Deep Learning": papers["Deep Learning"].key,
    }
    assert papers["Deep Learning"].key.startswith("title:")
    assert papers["BERT"].authors == (
        "Jacob Devlin",
        "Ming-Wei Chang",
        "Kenton Lee",
        "Kristina Toutanova",
    )  # the editor is not an author
    assert papers["The Llama 3 Herd of Models"].authors == ("Llama Team, AI @ Meta",)
    assert str(papers["Attention Is All You Need"].added) == "2017-06-12"
    assert str(papers["BERT"].added) == "2019-06-01"
    assert str(papers["Human-level control through deep reinforcement learning"].added) == (
        "2015-01-01"  # "February 2015": the year
    )
    assert papers["BERT"].abstract.startswith("We introduce a new language representation")
    assert papers["BERT"].source == "Zotero user library 123"


def test_a_group_collection_is_read_without_a_key(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    serve_library(httpserver, GROUP_ITEMS, items("group-456-collection-ABCD-items.json"))
    config = zotero_config(httpserver, library_id="456", library_type="group", collection="ABCD")
    settings = make_settings(relevance={"library": [config]})
    papers = read(settings)
    assert [(p.key, p.abstract) for p in papers] == [("arxiv:1509.01687", "")]  # note skipped
    assert papers[0].source == "Zotero group library 456, collection ABCD"
    assert all("Zotero-API-Key" not in r.headers for r, _ in httpserver.log)


def test_a_403_without_a_key_is_one_warning_that_says_which_variable_to_set(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    serve_library(httpserver, USER_ITEMS, items("user-123-items.json"), key=KEY)
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    assert read(settings) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Zotero user library 123" in warnings[0]
    assert "HTTP 403" in warnings[0]
    assert "set ZOTERO_API_KEY" in warnings[0]


def test_the_key_never_appears_in_logs_or_errors(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    httpserver.expect_request(USER_ITEMS).respond_with_data("Service Unavailable", status=503)
    httpserver.expect_request("/groups/9/items").respond_with_data("Forbidden", status=403)
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]},
        http={"retries": 2, "backoff": 0, "max_backoff": 0},
    )
    assert read(settings, sleep=lambda s: None) == []  # 3 attempts, each logged
    group = make_settings(
        relevance={"library": [zotero_config(httpserver, library_id="9", library_type="group")]}
    )
    assert read(group) == []
    assert len([r for r, _ in httpserver.log if r.path == USER_ITEMS]) == 3
    assert "has no read access" in caplog.text  # the 403 with a key
    assert caplog.records
    assert KEY not in caplog.text
    assert all(KEY not in str(r.args) for r in caplog.records)


def test_a_server_that_cannot_be_reached_is_a_warning(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"zotero": {"library_id": "123", "base_url": f"http://127.0.0.1:{port}"}}
    settings = make_settings(relevance={"library": [config]}, http={"retries": 0})
    assert read(settings) == []
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Zotero user library 123 could not be read" in warning
    assert "failed after 1 attempt(s)" in warning


def test_a_backoff_header_is_waited_out_before_the_next_page(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    serve_library(httpserver, USER_ITEMS, items("user-123-items.json"), Backoff="7")
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]},
        http={"retries": 0, "backoff": 0, "max_backoff": 60},
    )
    waits: list[float] = []
    assert len(read(settings, sleep=waits.append, page_size=3)) == 6
    assert waits == [7.0, 7.0]  # between pages 1-2 and 2-3, not after the last


def test_a_failing_zotero_is_one_warning_and_the_run_still_writes_its_digest(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    combined_feed: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    serve_feed(httpserver, "cs.AI+cs.CL+cs.LG", combined_feed)
    httpserver.expect_request(USER_ITEMS).respond_with_data("Service Unavailable", status=503)
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]}, http={"retries": 0}
    )
    assert read_library_files(settings) == []  # the config check makes no request
    assert httpserver.log == []
    run_once(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [w for w in warnings if "Zotero" in w] == [
        f"library: Zotero user library 123 could not be read (GET {httpserver.url_for(USER_ITEMS)}"
        "?format=json&limit=100&start=0 failed after 1 attempt(s): HTTP 503 SERVICE UNAVAILABLE)"
    ]
    readme = Path(settings.output.readme).read_text(encoding="utf-8")
    assert "arxiv.org/abs/" in readme  # the day's papers, ranked without the library


def test_an_entry_without_abstract_is_completed_from_arxiv(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    serve_library(httpserver, GROUP_ITEMS, items("group-456-collection-ABCD-items.json"))
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_all-nicotine_10entries.xml"), content_type="application/atom+xml"
    )
    config = zotero_config(httpserver, library_id="456", library_type="group", collection="ABCD")
    settings = make_settings(relevance={"library": [config]}, arxiv={"api_delay": 0})
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        library: Library = load_library(settings, store, client, sleep=lambda s: None)
    (paper,) = library.papers
    assert paper.key == "arxiv:1509.01687"
    assert paper.title == "Single Molecule Transistor based Nanopore for the detection of Nicotine"
    assert paper.abstract.startswith("A nanopore based detection methodology")
    assert paper.authors == ("S. J. Ray",)
    lookups = [r for r, _ in httpserver.log if r.path == "/api/query"]
    assert len(lookups) == 1
    assert "1509.01687" in lookups[0].args.get("id_list", "")


def test_a_busy_server_is_retried_after_the_wait_it_asks_for(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    httpserver.expect_ordered_request(USER_ITEMS).respond_with_data(
        "Too Many Requests", status=429, headers={"Backoff": "5", "Retry-After": "3"}
    )
    serve_library(httpserver, USER_ITEMS, items("user-123-items.json"))
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]},
        http={"retries": 1, "backoff": 0, "max_backoff": 60},
    )
    waits: list[float] = []
    assert len(read(settings, sleep=waits.append)) == 6
    assert waits == [5.0]  # the longer of Backoff and Retry-After


class VersionedLibrary:
    """A user library on the local server that keeps versions as Zotero does: each change
    bumps the library version; ``items?since=V`` lists what changed after V (304 with
    ``If-Modified-Since-Version`` when nothing did) and ``deleted?since=V`` what was removed."""

    def __init__(self, httpserver: HTTPServer, library: list[Any], version: int = 415) -> None:
        self.version = version
        self.items: dict[str, tuple[int, Any]] = {i["key"]: (version, i) for i in library}
        self.deleted: dict[str, int] = {}
        self.down = False
        httpserver.expect_request(USER_ITEMS).respond_with_handler(self.answer_items)
        httpserver.expect_request("/users/123/collections/ABCD2345/items").respond_with_handler(
            lambda request: self.answer_items(request, "ABCD2345")
        )
        httpserver.expect_request("/users/123/deleted").respond_with_handler(self.answer_deleted)

    def change(self, item: Any) -> None:
        self.version += 1
        self.items[item["key"]] = (self.version, item)

    def delete(self, key: str) -> None:
        self.version += 1
        del self.items[key]
        self.deleted[key] = self.version

    def _headers(self, **more: str) -> dict[str, str]:
        return {"Zotero-API-Version": "3", "Last-Modified-Version": str(self.version), **more}

    def answer_items(self, request: Request, collection: str | None = None) -> Response:
        if self.down:
            return Response("Service Unavailable", status=503)
        asked = request.headers.get("If-Modified-Since-Version")
        if asked is not None and int(asked) >= self.version:
            return Response(status=304, headers=self._headers())
        since = int(request.args.get("since", "0"))
        chosen = [
            item
            for version, item in self.items.values()
            if version > since
            and (collection is None or collection in (item["data"].get("collections") or []))
        ]
        start, limit = int(request.args.get("start", "0")), int(request.args.get("limit", "25"))
        return Response(
            json.dumps(chosen[start : start + limit]),
            content_type="application/json",
            headers=self._headers(**{"Total-Results": str(len(chosen))}),
        )

    def answer_deleted(self, request: Request) -> Response:
        since = int(request.args["since"])
        gone = [key for key, version in self.deleted.items() if version > since]
        body = {"collections": [], "searches": [], "items": gone, "tags": [], "settings": []}
        return Response(json.dumps(body), content_type="application/json", headers=self._headers())


def read_with_store(settings: Settings) -> list[str]:
    with Store(settings.store.url) as store, http.make_client(settings.http) as client:
        found = zotero.read_zotero(source_of(settings), client, settings, store=store)
    return [p.title for p in found]


def test_a_later_run_asks_only_what_changed_and_nothing_when_nothing_did(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    library = VersionedLibrary(httpserver, items("user-123-items.json"))
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    first = read_with_store(settings)
    assert len(first) == 6

    httpserver.clear_log()
    assert read_with_store(settings) == first
    (only,) = [r for r, _ in httpserver.log]
    assert (only.args["since"], only.headers["If-Modified-Since-Version"]) == ("415", "415")

    renamed = json.loads(json.dumps(library.items["Z4D9NC3V"][1]))
    renamed["data"]["title"] = "Deep Learning, second edition"
    library.change(renamed)
    library.delete("K8W2QH5R")  # "Human-level control through deep reinforcement learning"
    httpserver.clear_log()
    after = read_with_store(settings)
    assert "Deep Learning, second edition" in after and "Deep Learning" not in after
    assert not any(t.startswith("Human-level control") for t in after)
    assert len(after) == 5
    asked = [(r.path, r.args.get("since")) for r, _ in httpserver.log]
    assert asked == [(USER_ITEMS, "415"), ("/users/123/deleted", "415")]
    changed = json.loads(httpserver.log[0][1].get_data())
    assert [i["key"] for i in changed] == ["Z4D9NC3V"]  # one item sent, not the library


def test_when_zotero_is_down_the_library_of_the_last_read_is_used(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    library = VersionedLibrary(httpserver, items("user-123-items.json"))
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]},
        http={"retries": 0, "backoff": 0},
    )
    first = read_with_store(settings)
    library.down = True
    with caplog.at_level(logging.WARNING):
        assert read_with_store(settings) == first
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "could not be read" in warning and "using its last read (version 415, " in warning
    assert KEY not in warning


def test_an_item_taken_out_of_the_collection_leaves_the_library(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    library = VersionedLibrary(httpserver, items("user-123-items.json"))
    config = zotero_config(httpserver, collection="ABCD2345")
    settings = make_settings(relevance={"library": [config]})
    assert read_with_store(settings) == ["Attention Is All You Need"]
    moved = json.loads(json.dumps(library.items["VQ3KD7XP"][1]))
    moved["data"]["collections"] = []
    library.change(moved)
    added = json.loads(json.dumps(library.items["Z4D9NC3V"][1]))
    added["data"]["collections"] = ["ABCD2345"]
    library.change(added)
    assert read_with_store(settings) == ["Deep Learning"]


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def paper_item(key: str, title: str, **data: Any) -> dict[str, Any]:
    """A journal article as the API sends it; ``data`` overrides its fields."""
    fields: dict[str, Any] = {"key": key, "itemType": "journalArticle", "title": title}
    fields |= {"abstractNote": f"The abstract of {title}.", "date": "2023-05-01"}
    fields |= {"collections": [], **data}
    return {"key": key, "version": 5, "data": fields}


def test_an_item_dated_year_zero_keeps_no_date_and_its_stored_read_is_used_when_zotero_fails(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    library = VersionedLibrary(
        httpserver, [paper_item("Y0", "Year zero", date="0000-00-00"), paper_item("G", "Good")]
    )
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]}, http={"retries": 0}
    )
    with caplog.at_level(logging.WARNING):
        assert read_with_store(settings) == ["Year zero", "Good"]
    (warning,) = warnings_in(caplog)
    assert "Zotero user library 123" in warning and "Y0" in warning and "0000-00-00" in warning
    caplog.clear()
    library.down = True
    with caplog.at_level(logging.WARNING):
        assert read_with_store(settings) == ["Year zero", "Good"]  # the stored read, no crash
    (warning,) = warnings_in(caplog)
    assert "using its last read (version 415, 2 items)" in warning


def test_a_stored_read_with_broken_items_or_dates_never_crashes_a_run(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an earlier version saved, or a damaged store, is read defensively."""
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    httpserver.expect_request(USER_ITEMS).respond_with_data("Service Unavailable", status=503)
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]}, http={"retries": 0}
    )
    stored: dict[str, Any] = {
        "Y0": paper_item("Y0", "Year zero", date="0000-00-00"),
        "Y1": paper_item("Y1", "Only a year zero", date="in 0000"),
        "N": None,
        "T": {"key": "T", "data": {"title": ["t"], "creators": "x", "date": 2024}},
        "C": paper_item("C", "Numbered collections", collections=5),
    }
    with Store(settings.store.url) as store:
        now = dt.datetime(2026, 4, 27, tzinfo=dt.UTC)
        store.save_library_snapshot(zotero.sync_key(source_of(settings)), 7, stored, now)
    with Store(settings.store.url) as store, http.make_client(settings.http) as client:
        papers = zotero.read_zotero(source_of(settings), client, settings, store=store)
    assert [(p.title, p.added) for p in papers] == [("Year zero", None), ("Only a year zero", None)]


def test_a_stored_read_that_is_not_json_is_read_again_in_full(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    VersionedLibrary(httpserver, [paper_item("G", "Good")])
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    assert read_with_store(settings) == ["Good"]
    with Store(settings.store.url) as store, store.engine.begin() as conn:
        conn.execute(update(schema.library_sync).values(items='{"G": {"key": '))
    httpserver.clear_log()
    assert read_with_store(settings) == ["Good"]
    assert [r.args.get("since") for r, _ in httpserver.log] == [None]  # a full read


def endless_pages(httpserver: HTTPServer, *, fresh_keys: bool, **headers: str) -> list[str]:
    """A server that never ends its paging: every page full (5 items), ``start`` ignored,
    the same keys each time unless ``fresh_keys``. After 40 requests it answers 500 so that a
    client that never stops still ends; returns the ``start`` of each request."""
    asked: list[str] = []

    def answer(request: Request) -> Response:
        asked.append(request.args.get("start", "0"))
        if len(asked) > 40:
            return Response("runaway client", status=500)
        first = len(asked) * 5 if fresh_keys else 0
        page = [paper_item(f"K{n:07d}", f"Paper {n}") for n in range(first, first + 5)]
        body = json.dumps(page)
        headers_out = {"Last-Modified-Version": "7", **headers}
        return Response(body, content_type="application/json", headers=headers_out)

    httpserver.expect_request(USER_ITEMS).respond_with_handler(answer)
    return asked


def test_a_server_that_ignores_start_is_read_once_with_a_warning(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    asked = endless_pages(httpserver, fresh_keys=False)
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]}, http={"retries": 0}
    )
    with Store(settings.store.url) as store, http.make_client(settings.http) as client:
        papers = zotero.read_zotero(source_of(settings), client, settings, store=store, page_size=5)
        assert store.library_snapshot(zotero.sync_key(source_of(settings))) is None  # unfinished
    assert [p.title for p in papers] == [f"Paper {n}" for n in range(5)]
    assert asked == ["0", "5"]
    (warning,) = warnings_in(caplog)
    assert "was not read in full" in warning and "5 items read before" in warning
    assert "start=5" in warning


def test_a_huge_announced_total_stops_the_read_at_the_item_cap(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    asked = endless_pages(httpserver, fresh_keys=True, **{"Total-Results": "1000000000"})
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]}, http={"retries": 0}
    )
    limits = zotero.ReadLimits(max_items=12)
    papers = read(settings, page_size=5, limits=limits)
    assert len(papers) == 5 and len(asked) == 1
    (warning,) = warnings_in(caplog)
    assert "1000000000" in warning and "12" in warning


def test_endless_fresh_pages_stop_at_the_item_cap_and_at_the_deadline(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    asked = endless_pages(httpserver, fresh_keys=True)
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver)]}, http={"retries": 0}
    )
    assert len(read(settings, page_size=5, limits=zotero.ReadLimits(max_items=12))) == 15
    assert len(asked) == 3
    assert "more than 12 items" in warnings_in(caplog)[0]

    caplog.clear()
    asked.clear()
    ticks = iter(range(0, 1000, 4))  # each look at the clock: 4 s later
    limits = zotero.ReadLimits(deadline=10, clock=lambda: float(next(ticks)))
    assert len(read(settings, page_size=5, limits=limits)) == 10  # asked at 4 s and 8 s
    assert len(asked) == 2
    assert "10 s" in warnings_in(caplog)[0]


def test_an_item_with_a_number_for_its_collections_is_skipped_with_a_warning(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    library = VersionedLibrary(httpserver, items("user-123-items.json"))
    settings = make_settings(
        relevance={"library": [zotero_config(httpserver, collection="ABCD2345")]}
    )
    assert read_with_store(settings) == ["Attention Is All You Need"]
    broken = json.loads(json.dumps(library.items["VQ3KD7XP"][1]))
    broken["data"] |= {"title": "Changed", "collections": 5}
    library.change(broken)
    library.change(paper_item("NEW1", "Also in the collection", collections=["ABCD2345", 7]))
    with caplog.at_level(logging.WARNING):
        assert read_with_store(settings) == ["Attention Is All You Need"]  # the change skipped
    (warning,) = warnings_in(caplog)
    assert "2 items skipped" in warning
    assert "collections is not a list: VQ3KD7XP" in warning
    assert "collections holds something else than collection keys: NEW1" in warning


NULL_ITEMS = [
    None,
    5,
    "x",
    {"key": 5},
    {"key": "K", "data": None},
    {"key": "Q", "data": {"itemType": "book", "title": ["t"], "creators": "x", "date": 2024}},
]


@pytest.mark.parametrize("incremental", [False, True])
def test_items_that_are_not_zotero_items_are_skipped_and_counted_in_one_warning(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    incremental: bool,
) -> None:
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    good = paper_item("G", "Good", creators=[{"lastName": "Doe"}, "x", None])
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    if not incremental:
        serve_library(httpserver, USER_ITEMS, [good, *NULL_ITEMS])
        assert read_with_store(settings) == ["Good"]
    else:
        library = VersionedLibrary(httpserver, [good])
        assert read_with_store(settings) == ["Good"]
        library.version += 1
        library.items |= {str(n): (library.version, item) for n, item in enumerate(NULL_ITEMS)}
        assert read_with_store(settings) == ["Good"]
    (warning,) = warnings_in(caplog)
    assert "6 items skipped" in warning
    assert "not an object: 3 items; no key: 1 item; no data: K; title is not text: Q" in warning


def test_a_server_that_ignores_start_but_sends_its_whole_library_in_one_page_is_read_quietly(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two items, "Total-Results: 3", whatever ``start`` is: the repeated short page is
    the whole answer, so the read is complete (and kept for the next run)."""
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    page = json.dumps([paper_item("A", "First"), paper_item("B", "Second")])
    headers = {"Last-Modified-Version": "7", "Total-Results": "3"}
    httpserver.expect_request(USER_ITEMS).respond_with_data(
        page, content_type="application/json", headers=headers
    )
    settings = make_settings(relevance={"library": [zotero_config(httpserver)]})
    with Store(settings.store.url) as store, http.make_client(settings.http) as client:
        papers = zotero.read_zotero(source_of(settings), client, settings, store=store)
        assert store.library_snapshot(zotero.sync_key(source_of(settings))) is not None
    assert [p.title for p in papers] == ["First", "Second"]
    assert len(httpserver.log) == 2
    assert warnings_in(caplog) == []
