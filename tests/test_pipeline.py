"""The daily run end to end, against real arXiv responses served over local HTTP."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.errors import FeedError, FetchError, PublishError
from arxiv_digest.models import RunReport
from arxiv_digest.rank import Ranker
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store, schema
from tests.conftest import RSS_TYPE, MakeSettings, fixture_bytes, serve_feed

CATS = "cs.AI+cs.CL+cs.LG"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 4, 27, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


def run(settings: Settings, clock: Clock | None = None) -> RunReport:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        return pipeline.run_daily(
            settings, store, client, clock=clock or Clock(), sleep=lambda s: None
        )


def table_counts(settings: Settings) -> dict[str, int]:
    with Store(settings.store.url) as store, store.engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (schema.papers, schema.announcements)
        }


def test_first_run_writes_the_digest(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    settings = make_settings()
    report = run(settings)
    assert (report.status, report.fetched, report.readme_written) == ("ok", 9, True)
    text = settings.output.readme.read_text()
    assert f"- **Total Papers Found**: {report.ranked}" in text
    assert report.ranked > 0
    assert len(httpserver.log) == 1
    assert httpserver.log[0][0].path == "/rss/cs.AI+cs.CL+cs.LG"  # ONE request for all categories


def test_rerun_changes_no_row_and_no_byte(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    settings = make_settings()
    clock = Clock()
    run(settings, clock)
    readme = settings.output.readme.read_bytes()
    counts = table_counts(settings)
    second = run(settings, clock)
    assert second.status == "ok" and not second.readme_written
    assert settings.output.readme.read_bytes() == readme
    assert table_counts(settings) == counts == {"papers": 9, "announcements": 9}


def test_second_poll_with_etag_downloads_nothing(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"day1"':
            return Response(status=304)
        return Response(combined_feed, content_type=RSS_TYPE, headers={"ETag": '"day1"'})

    httpserver.expect_request(f"/rss/{CATS}").respond_with_handler(handler)
    settings = make_settings()
    run(settings)
    before = settings.output.readme.read_bytes()
    report = run(settings)
    assert report.not_modified and report.status == "ok" and not report.readme_written
    assert httpserver.log[1][1].status_code == 304
    assert settings.output.readme.read_bytes() == before


def test_empty_channel_leaves_the_previous_digest(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    serve_feed(httpserver, CATS, fixture_bytes("rss/empty-channel.xml"))
    settings = make_settings()
    settings.output.readme.write_text("yesterday's digest\n")
    report = run(settings)
    assert report.status == "empty" and report.message == "no new announcements"
    assert settings.output.readme.read_text() == "yesterday's digest\n"


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")[:3000], RSS_TYPE, FeedError),
        (b"<html><body>Internal error</body></html>", "text/html", FeedError),
    ],
    ids=["truncated-xml", "html-error-page"],
)
def test_bad_answers_write_nothing(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    body: bytes,
    content_type: str,
    error: type[Exception],
) -> None:
    httpserver.expect_request(f"/rss/{CATS}").respond_with_data(body, content_type=content_type)
    settings = make_settings()
    settings.output.readme.write_text("previous\n")
    with pytest.raises(error):
        run(settings)
    assert settings.output.readme.read_text() == "previous\n"
    with Store(settings.store.url) as store:
        assert store.runs(1)[0]["status"] == "failed"
        assert store.count_papers() == 0


def test_arxiv_down_is_reported_after_retries(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    httpserver.expect_request(f"/rss/{CATS}").respond_with_data("busy", status=503)
    settings = make_settings()
    with pytest.raises(FetchError, match="failed after 3 attempt"):
        run(settings)
    assert len(httpserver.log) == 3


@pytest.fixture
def previous_digest(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> Settings:
    """A day to fetch, and yesterday's README already in place."""
    serve_feed(httpserver, CATS, combined_feed)
    settings = make_settings()
    settings.output.readme.write_text("previous\n")
    return settings


def test_failure_during_publish_keeps_the_old_readme(
    previous_digest: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = previous_digest

    def crash(self: Path, target: Path) -> Path:
        raise OSError("injected crash")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(PublishError, match="injected crash"):
        run(settings)
    assert settings.output.readme.read_text() == "previous\n"
    monkeypatch.undo()
    assert run(settings).readme_written  # the next run recovers


def next_day(feed: bytes) -> bytes:
    """The day after ``feed``'s (Mon 27 -> Tue 28 April 2026), with other papers."""
    return (
        feed.replace(b"2604.2", b"2604.3")
        .replace(b"27 Apr 2026", b"28 Apr 2026")
        .replace(b"Mon, 28 Apr", b"Tue, 28 Apr")
    )


def outputs(settings: Settings) -> dict[str, bytes | None]:
    """The README and every file and folder of the site (None for a folder), and every
    temporary or staging folder beside them."""
    root = settings.output.readme.parent
    found: dict[str, bytes | None] = {"README.md": settings.output.readme.read_bytes()}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if name.startswith("site") or name.startswith(".") or name.endswith(".tmp"):
            found[name] = path.read_bytes() if path.is_file() else None
    return found


def fill_the_disk(monkeypatch: pytest.MonkeyPatch, *, at: int = 0, holding: bytes = b"") -> None:
    """Every write from the ``at``-th on (or of data ``holding`` these bytes) finds the
    disk full, as a real one reports it."""
    real_write = os.write
    calls = [0]

    def write(fd: int, data: Any) -> int:
        calls[0] += 1
        if (at and calls[0] >= at) or (holding and holding in bytes(data)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize(
    "full", [{"at": 1}, {"at": 9}, {"holding": b"Total Papers Found"}],
    ids=["first-file", "ninth-file", "the-readme"],
)  # fmt: skip
def test_a_disk_that_fills_while_publishing_leaves_every_output_of_yesterday(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    combined_feed: bytes,
    monkeypatch: pytest.MonkeyPatch,
    full: dict[str, Any],
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    settings = make_settings()
    run(settings)
    yesterday = outputs(settings)
    assert "site/archive/2026-04-27.html" in yesterday and "site/index.html" in yesterday
    httpserver.clear()
    serve_feed(httpserver, CATS, next_day(combined_feed))
    fill_the_disk(monkeypatch, **full)
    with pytest.raises(PublishError, match="No space left on device") as error:
        run(settings)
    assert "\n" not in str(error.value)
    assert outputs(settings) == yesterday  # byte for byte, no temporary, no new file
    monkeypatch.undo()
    assert run(settings).readme_written  # space again: the new day, whole
    assert "site/archive/2026-04-28.html" in outputs(settings)
    assert b"2604.3" in (settings.output.site_dir / "index.html").read_bytes()
    assert "2604.3" in settings.output.readme.read_text()


def test_crash_while_ranking_keeps_the_old_readme(
    previous_digest: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = previous_digest
    monkeypatch.setattr(Ranker, "rank", lambda self, papers, **options: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run(settings)
    assert settings.output.readme.read_text() == "previous\n"
    with Store(settings.store.url) as store:
        assert store.runs(1)[0]["status"] == "failed"
        assert "ZeroDivisionError" in store.runs(1)[0]["message"]


def _with_cross_copy(feed: bytes, arxiv_id: str) -> bytes:
    """The feed plus a ``cross`` listing of one of its papers, placed first."""
    root = etree.fromstring(feed)
    channel = root.find("channel")
    assert channel is not None
    item = next(i for i in channel.iterfind("item") if i.findtext("link", "").endswith(arxiv_id))
    copy = etree.fromstring(etree.tostring(item))
    copy.find("{http://arxiv.org/schemas/atom}announce_type").text = "cross"  # type: ignore[union-attr]
    description = copy.find("description")
    assert description is not None and description.text is not None
    description.text = description.text.replace("Announce Type: new", "Announce Type: cross")
    channel.insert(channel.index(channel.find("item")), copy)  # type: ignore[arg-type]
    return bytes(etree.tostring(root))


def test_a_cross_listed_paper_appears_once_under_its_primary_category(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, _with_cross_copy(combined_feed, "2604.21952"))
    settings = make_settings(keywords=["hardware", "LLM"])
    report = run(settings)
    text = settings.output.readme.read_text()
    assert report.fetched == 10
    assert text.count("https://arxiv.org/abs/2604.21952)") == 1
    block = text.split("https://arxiv.org/abs/2604.21952)", 1)[1].split("---", 1)[0]
    assert "**Category**: cs.LG  \n" in block and "**Type**: new  \n" in block


def test_days_back_draws_from_earlier_days_in_the_store(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    serve_feed(httpserver, f"{CATS}+stat", combined_feed)
    stat = make_settings(
        categories=["cs.AI", "cs.CL", "cs.LG", "stat"], keywords=["LLM", "Bayesian"], days_back=1
    )
    with Store(stat.store.url) as store:
        store.upsert_papers(parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers)
    run(stat)
    assert "2024-03-26" not in stat.output.readme.read_text()
    wide = make_settings(
        categories=["cs.AI", "cs.CL", "cs.LG", "stat"], keywords=["LLM", "Bayesian"], days_back=800
    )
    run(wide)
    text = wide.output.readme.read_text()
    assert "**Published**: 2024-03-26" in text and "**Published**: 2026-04-27" in text
