"""The waits of a run overlap: PDFs are downloaded and read while the LLM works, full-text
retries download side by side, and the openai SDK is imported only when a call is due."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest.config import AISummarySettings, HttpSettings, Settings
from arxiv_digest.errors import SummarizeError
from arxiv_digest.models import Paper, Summary, SummaryStats
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.summarize import Summarizer, fulltext
from arxiv_digest.summarize.llm import LlmClient
from arxiv_digest.summarize.runner import _Pacer
from tests.conftest import MakeSettings, serve_feed, serve_pdfs
from tests.fakes import FakeLLM, Reply, make_pdf, paper_pdf
from tests.servers import free_port
from tests.test_summarize import summary_settings
from tests.test_summarize_cli import CATS, KEY, config

WAIT = 30  # seconds: only ever reached when the behaviour under test is missing


class PdfServer:
    """``/pdf/<id>`` over threaded HTTP; ``on_request`` runs in the handler (it may block)."""

    def __init__(self, body: Callable[[str], bytes]) -> None:
        self.body = body
        self.on_request: Callable[[str], None] = lambda versioned_id: None
        self.requested: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/pdf"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        pdfs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                versioned_id = self.path.rsplit("/", 1)[-1]
                pdfs.requested.append(versioned_id)
                pdfs.on_request(versioned_id)
                data = pdfs.body(versioned_id)
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def pdfs() -> Iterator[PdfServer]:
    server = PdfServer(paper_pdf)
    yield server
    server.stop()


def summarize(
    settings: Settings, papers: list[Paper], *, days_later: int = 0
) -> tuple[dict[tuple[str, int], Summary], SummaryStats]:
    """A run's summaries of ``papers``, with a clock ``days_later`` days from now."""
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=days_later)
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        llm = LlmClient(settings.ai_summary, "sk-test", settings.http)
        summarizer = Summarizer(
            settings, store, llm, client, sleep=lambda seconds: None, clock=lambda: now
        )
        try:
            return summarizer.summarize(papers)
        finally:
            summarizer.close()


def test_the_next_papers_are_downloaded_and_read_while_the_llm_works(
    make_settings: MakeSettings,
    llm: FakeLLM,
    pdfs: PdfServer,
    make_paper: Callable[..., Paper],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = summary_settings(
        lambda **o: make_settings(arxiv={"pdf_url": pdfs.url}, **o), llm, max_workers=1
    )
    papers = [make_paper(title=f"Paper {n}") for n in range(3)]
    read: list[str] = []
    all_read = threading.Event()

    def paper_text(pdf: bytes, max_tokens: int) -> str:
        text = real_paper_text(pdf, max_tokens)
        read.append(text)
        if len(read) == len(papers):
            all_read.set()
        return text

    real_paper_text = fulltext.paper_text
    monkeypatch.setattr(fulltext, "paper_text", paper_text)
    release = threading.Event()
    llm.script.append(Reply(hold=release))  # the one worker's first call, held
    result: list[tuple[dict[tuple[str, int], Summary], SummaryStats]] = []
    run = threading.Thread(target=lambda: result.append(summarize(settings, papers)))
    run.start()
    try:
        assert llm.wait_for_calls(1, WAIT)
        # While that call is unanswered, every other paper is fetched and its text extracted.
        assert all_read.wait(WAIT), f"read {len(read)} of {len(papers)} during the first call"
        assert len(llm.completions) == 1
    finally:
        release.set()
        run.join(WAIT)
    found, stats = result[0]
    assert stats.made == 3 and len(found) == 3
    assert pdfs.requested == [p.versioned_id for p in papers]  # still in rank order


def test_full_text_retries_download_side_by_side(
    make_settings: MakeSettings,
    llm: FakeLLM,
    make_paper: Callable[..., Paper],
) -> None:
    empty = PdfServer(lambda versioned_id: make_pdf("Scanned", []))  # no text: a fallback
    try:
        settings = summary_settings(
            lambda **o: make_settings(arxiv={"pdf_url": empty.url}, **o), llm, max_workers=2
        )
        papers = [make_paper(title=f"Paper {n}") for n in range(2)]
        found, stats = summarize(settings, papers)
        assert stats.made == 2 and all(s.note for s in found.values())
        empty.requested.clear()
        # Each retry's download is held until the other one's has started: one after the
        # other, this would never return.
        both = threading.Barrier(2, timeout=WAIT)

        def hold(versioned_id: str) -> None:
            both.wait()

        empty.on_request = hold
        _, stats = summarize(settings, papers, days_later=1)  # both fallbacks due again
        assert sorted(empty.requested) == sorted(p.versioned_id for p in papers)
        assert stats.cached == 2 and len(llm.completions) == 2  # kept; nothing paid again
    finally:
        empty.stop()


def test_the_first_downloads_start_together_then_one_per_delay() -> None:
    now = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = _Pacer(1.0, 3, sleep, clock=lambda: now[0])
    for _ in range(5):  # five downloads asked for at once, one after the other
        saved = now[0]
        pacer.wait()
        starts.append(now[0])
        now[0] = saved  # each caller waits in its own thread: the clock is shared
    assert starts == [0.0, 0.0, 0.0, 1.0, 2.0]
    now[0] = 10.0  # long after: no new burst, just the delay since the last start
    pacer.wait()
    pacer.wait()
    assert now[0] == 11.0


# -- the openai SDK: imported only when a call is due -----------------------------------------

REPORT_OPENAI = """\
import sys
from arxiv_digest.cli import main
try:
    main()
finally:
    print("openai imported:", "openai" in sys.modules, file=sys.stderr)
"""


def run_reporting_openai(config_path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TEST_LLM_KEY": KEY, "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", REPORT_OPENAI, "run", "--config", str(config_path)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_run_with_every_summary_cached_never_imports_openai(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    serve_pdfs(httpserver)
    path = config(tmp_path, httpserver, llm)
    first = run_reporting_openai(path, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "openai imported: True" in first.stderr  # the check sees an import when there is one
    paid = len(llm.completions)
    assert paid > 0

    rerun = run_reporting_openai(path, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert len(llm.completions) == paid
    assert "openai imported: False" in rerun.stderr


def test_a_connection_failure_names_the_host_and_port_never_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    ai = AISummarySettings(
        enabled=True, base_url=f"http://alice:hunter2@127.0.0.1:{port}/v1", retries=1
    )
    client = LlmClient(ai, "sk-never-shown", HttpSettings(backoff=0, max_backoff=0))
    try:
        with pytest.raises(SummarizeError) as info:
            client.complete([{"role": "user", "content": "Title: x"}])
    finally:
        client.close()
    message = str(info.value)
    assert message == (
        f"cannot connect to the LLM API at 127.0.0.1:{port}: Connection refused "
        "(after 2 attempt(s))"
    )
    assert f"LLM call to 127.0.0.1:{port} failed" in caplog.text  # the retry's warning too
    assert "hunter2" not in caplog.text + message and "sk-never-shown" not in caplog.text
