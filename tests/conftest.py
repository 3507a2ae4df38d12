"""Shared fixtures: real arXiv responses served over local HTTP, settings, a paper factory.

No test may reach the network: an autouse guard refuses connections to anything but
the loopback interface.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from arxiv_digest import pipeline
from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.models import Paper
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.summarize import build_summarizer
from tests.fakes import FakeLLM, Reply, paper_pdf
from tests.servers import Inbox, free_port

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "arxiv"  # real arXiv responses: see SOURCES.md there
RSS_TYPE = "application/rss+xml; charset=utf-8"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_report_header() -> list[str]:
    """Say up front which real-component suites run: a plain clone skips exactly these two."""
    pg = os.environ.get("ARXIV_DIGEST_TEST_PG")
    chromium = CHROMIUM
    return [
        "PostgreSQL suite: "
        + ("runs" if pg else "SKIPPED (set ARXIV_DIGEST_TEST_PG; .ci/run starts a server)"),
        "browser suite: "
        + (f"runs ({chromium})" if chromium else "SKIPPED (run scripts/install-chromium.sh)"),
    ]


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and not (self.family == socket.AF_UNIX)
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def base_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "categories": ["cs.AI", "cs.CL", "cs.LG"],
        "keywords": ["LLM", "RL", "reasoning", "benchmark", "agents", "Speculative Decoding"],
        "exclude_keywords": ["survey", "review", "tutorial"],
        "max_papers": 30,
        "http": {"retries": 2, "backoff": 0, "max_backoff": 0},
        "arxiv": {"api_delay": 3.0},
    }
    config.update(overrides)
    return config


MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path, httpserver: HTTPServer) -> MakeSettings:
    """Settings whose arXiv URLs point at the local server and outputs at tmp_path."""

    def make(**overrides: Any) -> Settings:
        config = local_config(httpserver, **overrides)
        return with_paths_resolved(parse_settings(config), tmp_path)

    return make


def local_config(httpserver: HTTPServer, **overrides: Any) -> dict[str, Any]:
    """A config whose arXiv endpoints are the local test server."""
    config = base_config(**overrides)
    config["arxiv"] = {
        "rss_url": httpserver.url_for("/rss"),
        "api_url": httpserver.url_for("/api/query"),
        "pdf_url": httpserver.url_for("/pdf"),
        **config.get("arxiv", {}),
    }
    return config


def write_config(tmp_path: Path, httpserver: HTTPServer, **overrides: Any) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(local_config(httpserver, **overrides)), encoding="utf-8")
    return path


def run_refused_as_config_error(folder: Path, config: dict[str, Any]) -> str:
    """``arxiv-digest run`` on ``config`` (written to ``folder``), which must stop with exit 2
    before creating anything; returns its message on one line. arXiv is an unused port."""
    from typer.testing import CliRunner

    from arxiv_digest.cli import app

    config = {**config, "arxiv": {"rss_url": "http://127.0.0.1:9/rss", **config.get("arxiv", {})}}
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2, result.output
    created = sorted(p.name for p in folder.iterdir() if p.name in ("data", "README.md", "site"))
    assert created == [], created
    return " ".join(result.output.split())


def serve_feed(httpserver: HTTPServer, categories: str, body: bytes, **headers: str) -> None:
    httpserver.expect_request(f"/rss/{categories}").respond_with_data(
        body, content_type=RSS_TYPE, headers=headers or None
    )


@pytest.fixture
def combined_feed() -> bytes:
    """A cs.AI+cs.CL+cs.LG feed built from the three real single-category feeds of one day."""
    from lxml import etree

    roots = [
        etree.fromstring(fixture_bytes(f"rss/{c}_2026-04-27_trimmed.xml"))
        for c in ("cs.AI", "cs.CL", "cs.LG")
    ]
    channel = roots[0].find("channel")
    assert channel is not None
    for other in roots[1:]:
        for item in other.iterfind("channel/item"):
            channel.append(item)
    return bytes(etree.tostring(roots[0], xml_declaration=True, encoding="UTF-8"))


@pytest.fixture
def make_paper() -> Callable[..., Paper]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Paper:
        n = next(counter)
        values: dict[str, Any] = {
            "arxiv_id": f"2604.{n:05d}",
            "version": 1,
            "title": "A title",
            "authors": ("Ada Lovelace",),
            "abstract": "An abstract.",
            "primary_category": "cs.AI",
            "categories": ("cs.AI",),
            "announce_type": "new",
            "announced": dt.date(2026, 4, 27),
        }
        values.update(overrides)
        return Paper(**values)

    return make


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = os.environ.get("ARXIV_DIGEST_TEST_PG")
    if not url:
        if os.environ.get("ARXIV_DIGEST_REQUIRE_PG"):
            pytest.fail("ARXIV_DIGEST_REQUIRE_PG is set but ARXIV_DIGEST_TEST_PG is not")
        pytest.skip("set ARXIV_DIGEST_TEST_PG to run against PostgreSQL")
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(engine)  # every table, including ones a later schema version adds
    existing.drop_all(engine)
    engine.dispose()
    yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store: a SQLite file, then the PostgreSQL server when one is configured."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'digest.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    with Store(url) as opened:
        yield opened


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


def serve_pdfs(httpserver: HTTPServer) -> None:
    """Every /pdf/<id> answers with a generated paper whose title is its id."""

    def answer(request: Request) -> Response:
        versioned_id = request.path.rsplit("/", 1)[-1]
        return Response(paper_pdf(versioned_id), content_type="application/pdf")

    httpserver.expect_request(re.compile(r"^/pdf/.+")).respond_with_handler(answer)


def run_once(settings: Settings) -> None:
    """One daily run with the configured summarizer, never sleeping."""
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        summarizer = build_summarizer(settings, store, client, sleep=lambda s: None)
        try:
            pipeline.run_daily(settings, store, client, summarizer=summarizer, sleep=lambda s: None)
        finally:
            if summarizer:
                summarizer.close()


@pytest.fixture
def published_site(
    httpserver: HTTPServer,
    combined_feed: bytes,
    llm: FakeLLM,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """A store with one published digest (two papers summarized) and its site written."""
    serve_feed(httpserver, "cs.AI+cs.CL+cs.LG", combined_feed)
    serve_pdfs(httpserver)
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    llm.reply_for = lambda body: Reply(
        text="## 1. Contributions\n\n- **Faster** decoding, $O(n^2)$ and <b>bold</b>"
    )
    settings = make_settings(
        keywords=["LLM", "reasoning", "benchmark", "agents", "models"],
        site_url="https://me.example.org/digest",
        ai_summary={
            "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
            "model": "test-model", "max_papers_to_summarize": 2, "pdf_delay": 0,
        },
    )  # fmt: skip
    run_once(settings)
    return settings


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium (Playwright); skipped without it, unless CI requires it."""
    if CHROMIUM is None:
        if os.environ.get("ARXIV_DIGEST_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (scripts/install-chromium.sh) but not installed")
        pytest.skip("Chromium not installed: run scripts/install-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def watch_problems(page: Any, problems: list[str]) -> None:
    """Collect in ``problems`` what a reader should never meet on ``page``: console
    messages, script errors, dialogs (an ``alert()``), failed requests."""
    page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server (aiosmtpd) that keeps every message; its port."""
    from aiosmtpd.controller import Controller

    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, server_hostname="mx.test")
    controller.start()
    yield box, port
    controller.stop()
