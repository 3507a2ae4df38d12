"""The service as a real process (uvicorn) and in real headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from arxiv_digest.config import Settings
from arxiv_digest.models import RankedPaper, RunReport, Summary
from arxiv_digest.store import Store
from tests.conftest import REPO, MakeSettings, run_once, watch_problems
from tests.servers import free_port

ARTIFACTS = REPO / "test-artifacts"


def write_settings(settings: Settings, path: Path) -> Path:
    path.write_text(settings.model_dump_json(exclude={"fetch_ratings", "display_limit"}))
    return path


class Server:
    """``arxiv-digest serve`` on a free port, ready once every worker has started (read
    from uvicorn's log as it is written: an event, not a timed wait)."""

    def __init__(self, config: Path, *extra: str, asgi: bool = False) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
        command = [sys.executable, "-m", "arxiv_digest", "serve", "--config", str(config)]
        if asgi:  # a process manager's way: uvicorn itself, the config from the environment
            command = [sys.executable, "-m", "uvicorn", "arxiv_digest.web.asgi:app"]
            env["ARXIV_DIGEST_CONFIG"] = str(config)
        self.process = subprocess.Popen(
            [*command, "--port", str(port), *extra],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.access_log: list[str] = []  # uvicorn writes its access lines to stdout
        assert self.process.stdout is not None
        self._access = threading.Thread(target=self._keep, args=(self.process.stdout,))
        self._access.start()
        self.url = f"http://127.0.0.1:{port}"
        workers = int(extra[extra.index("--workers") + 1]) if "--workers" in extra else 1
        log = self._read_until_started(workers)
        # Keep reading the log so a full pipe never blocks the server; joined in stop().
        self._drain = threading.Thread(target=log.readlines)
        self._drain.start()
        # A worker logs "startup complete" just before it listens: the client's own
        # connection retries cover that instant.
        with httpx.Client(transport=httpx.HTTPTransport(retries=5)) as client:
            assert client.get(f"{self.url}/health").status_code == 200

    def _read_until_started(self, workers: int) -> Any:
        log = self.process.stderr
        assert log is not None
        seen: list[str] = []
        for line in log:
            seen.append(line)
            if sum("Application startup complete" in s for s in seen) == workers:
                return log
        self.process.wait(10)
        raise AssertionError(f"server exited before listening:\n{''.join(seen)}")

    def _keep(self, stream: Any) -> None:
        self.access_log.extend(stream)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._drain.join(10)
        self._access.join(10)


@pytest.fixture
def serve(published_site: Settings, tmp_path: Path) -> Iterator[object]:
    config = write_settings(published_site, tmp_path / "serve-config.json")
    servers: list[Server] = []

    def start(*extra: str) -> str:
        servers.append(Server(config, *extra))
        return servers[-1].url

    def stop() -> None:
        for server in servers:
            server.stop()
        servers.clear()

    start.stop = stop  # type: ignore[attr-defined]
    yield start
    stop()


def test_restart_keeps_every_feeds_items(serve: object, published_site: Settings) -> None:
    start = serve
    url = start()  # type: ignore[operator]
    paths = ["/rss", "/atom", "/feed.json", "/rss/cs.AI", "/rss/cs.CL", "/rss/cs.LG"]
    before = {p: httpx.get(url + p) for p in paths}
    assert all(r.status_code == 200 for r in before.values())
    assert feedparser.parse(before["/rss"].content).entries
    start.stop()  # type: ignore[attr-defined]
    url = start()  # type: ignore[operator]
    for path, response in before.items():
        again = httpx.get(url + path)
        assert again.content == response.content
        assert again.headers["etag"] == response.headers["etag"]
        assert (
            httpx.get(url + path, headers={"If-None-Match": response.headers["etag"]}).status_code
            == 304
        )


@pytest.mark.parametrize("asgi", [False, True], ids=["serve", "uvicorn-asgi"])
def test_the_access_log_shows_no_rating_signature(
    published_site: Settings, tmp_path: Path, asgi: bool
) -> None:
    """A signed link in a log is a vote anyone reading the log can cast: hidden whether
    ``serve`` starts the service or uvicorn is run on ``arxiv_digest.web.asgi:app``."""
    server = Server(write_settings(published_site, tmp_path / "log-config.json"), asgi=asgi)
    try:
        signature = "s3cr3t-signature-value"
        httpx.get(f"{server.url}/rate/2604.00001/up?sig={signature}")
        httpx.get(f"{server.url}/search?q=private+words")
        assert httpx.get(f"{server.url}/health").status_code == 200
    finally:
        server.stop()
    log = "".join(server.access_log)
    assert "/rate/2604.00001/up?…" in log and "/search?…" in log  # the requests are there
    assert signature not in log and "private" not in log


def test_several_workers_serve_the_same_bytes(serve: object) -> None:
    url = serve("--workers", "2")  # type: ignore[operator]
    responses = [httpx.get(f"{url}/rss") for _ in range(8)]
    assert len({r.headers["etag"] for r in responses}) == 1
    assert all(r.status_code == 200 for r in responses)


def test_a_run_in_progress_never_breaks_requests(serve: object, published_site: Settings) -> None:
    url = serve()  # type: ignore[operator]
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                response = client.get(f"{url}/rss")
                if response.status_code != 200 or feedparser.parse(response.content).bozo:
                    failures.append(f"{response.status_code}")

    readers = [threading.Thread(target=hammer) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(3):
            run_once(published_site)
    finally:
        stop.set()
        for reader in readers:
            reader.join(30)
    assert failures == []


# -- the page in a real browser ---------------------------------------------------------------


def hostile_store(make_settings: MakeSettings, make_paper: object) -> Settings:
    settings = make_settings(categories=["cs.AI"], keywords=["LLM"])
    evil = make_paper(  # type: ignore[operator]
        arxiv_id="2604.66666",
        title="<img src=x onerror=alert(1)>",
        abstract="LLM <script>alert(2)</script>",
    )
    good = make_paper(arxiv_id="2604.77777", title="A fine LLM paper", abstract="LLM stuff")  # type: ignore[operator]
    with Store(settings.store.url) as store:
        store.upsert_papers([evil, good])
        run_id = store.start_run(dt.datetime(2026, 4, 27, 12, tzinfo=dt.UTC))
        store.save_ranking(
            run_id,
            [RankedPaper(evil, 2.0, ("LLM",), "cs.AI"), RankedPaper(good, 1.0, ("LLM",), "cs.AI")],
        )
        for paper in (evil, good):
            summary = Summary(
                paper.arxiv_id,
                1,
                "test-model",
                "## Results\n\n- **Up** 3x\n\n<script>alert(3)</script>",
            )
            store.save_summary(summary, "hash", dt.datetime(2026, 4, 27, tzinfo=dt.UTC))
        report = RunReport(status="ok", digest_date=dt.date(2026, 4, 27))
        store.finish_run(run_id, report, dt.datetime(2026, 4, 27, 12, 1, tzinfo=dt.UTC), "fp")
    return settings


def test_page_in_chromium_summaries_expand_and_nothing_runs(
    browser: object, make_settings: MakeSettings, make_paper: object, tmp_path: Path
) -> None:
    settings = hostile_store(make_settings, make_paper)
    server = Server(write_settings(settings, tmp_path / "browser-config.json"))
    url = server.url
    problems: list[str] = []

    def on_response(response: Any) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} {response.url}")

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
        page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        page.on("response", on_response)
        page.on("dialog", on_dialog)
        response = page.goto(url + "/")
        assert response is not None and response.status == 200

        titles = page.locator("article.paper h2 a").all_inner_texts()
        assert titles == ["<img src=x onerror=alert(1)>", "A fine LLM paper"]
        assert page.locator("article.paper img").count() == 0
        assert page.locator("script").count() == 0

        details = page.locator("details.summary").first
        summary_text = details.locator(".summary-body strong", has_text="Up")
        assert details.get_attribute("open") is None
        assert not summary_text.is_visible()
        details.locator("summary").click()
        assert details.get_attribute("open") is not None
        assert summary_text.is_visible()

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "digest-mobile.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(ARTIFACTS / "digest-desktop-dark.png"), full_page=True)
        assert problems == []  # no console message, failed request, or alert()
    finally:
        server.stop()


def test_in_chromium_the_archive_leads_to_each_day_and_a_paper_page_runs_nothing(
    browser: object, make_settings: MakeSettings, make_paper: object, tmp_path: Path
) -> None:
    settings = hostile_store(make_settings, make_paper)
    server = Server(write_settings(settings, tmp_path / "browser-config.json"))
    problems: list[str] = []
    try:
        page = browser.new_page()  # type: ignore[attr-defined]
        watch_problems(page, problems)
        for archive in ("/archive", "/archive/"):
            page.goto(server.url + archive)
            page.locator("ul.archive a", has_text="2026-04-27").click()
            page.wait_for_load_state()
            assert page.url == f"{server.url}/archive/2026-04-27.html"
            assert page.locator("h1").inner_text().endswith("2026-04-27")

        response = page.goto(server.url + "/papers/2604.66666")
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text() == "<img src=x onerror=alert(1)>"
        assert page.locator("main img").count() == 0 and page.locator("script").count() == 0
        assert page.locator(".summary-body strong", has_text="Up").is_visible()
        page.locator("table.appearances a", has_text="2026-04-27").click()
        page.wait_for_load_state()
        assert page.url == f"{server.url}/archive/2026-04-27.html"
        assert problems == []
    finally:
        server.stop()
