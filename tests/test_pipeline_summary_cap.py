"""``ai_summary.max_calls_per_run`` for a single reader: the bill of one run is capped, the
papers over the cap wait (no summary yet) and a later run summarizes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.models import RunReport
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.summarize.runner import build_summarizer
from tests.conftest import MakeSettings, serve_feed, serve_pdfs
from tests.fakes import FakeLLM, Reply


def capped(make_settings: MakeSettings, llm: FakeLLM, cap: int | None) -> Settings:
    return make_settings(
        ai_summary={
            "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
            "model": "test-model", "max_papers_to_summarize": 5, "pdf_delay": 0,
            "input": "abstract", "max_calls_per_run": cap,
        },
    )  # fmt: skip


def run(settings: Settings) -> RunReport:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        summarizer = build_summarizer(settings, store, client, sleep=lambda s: None)
        try:
            return pipeline.run_daily(
                settings, store, client, summarizer=summarizer, sleep=lambda s: None
            )
        finally:
            if summarizer is not None:
                summarizer.close()


def summarized(readme: Path) -> int:
    return len(re.findall("A summary of this paper.", readme.read_text(encoding="utf-8")))


@pytest.fixture
def day(
    httpserver: HTTPServer,
    combined_feed: bytes,
    llm: FakeLLM,
    monkeypatch: pytest.MonkeyPatch,
) -> HTTPServer:
    serve_feed(httpserver, "cs.AI+cs.CL+cs.LG", combined_feed)
    serve_pdfs(httpserver)
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    llm.reply_for = lambda body: Reply(text="A summary of this paper.")
    return httpserver


def test_a_single_reader_run_makes_at_most_max_calls_per_run_summaries(
    day: HTTPServer, llm: FakeLLM, make_settings: MakeSettings
) -> None:
    settings = capped(make_settings, llm, 2)
    first = run(settings)
    assert len(llm.completions) == 2 == first.summaries.made
    assert first.summaries.deferred == 3  # the other top papers wait for the next run
    assert summarized(settings.output.readme) == 2

    second = run(settings)  # the same day again: two more, the first two from the cache
    assert (second.summaries.made, second.summaries.cached) == (2, 2)
    assert second.summaries.deferred == 1
    assert summarized(settings.output.readme) == 4

    third = run(settings)
    assert (third.summaries.made, third.summaries.deferred) == (1, 0)
    assert len(llm.completions) == 5
    assert summarized(settings.output.readme) == 5


def test_a_cap_of_zero_pays_for_nothing_and_cached_summaries_still_show(
    day: HTTPServer, llm: FakeLLM, make_settings: MakeSettings
) -> None:
    run(capped(make_settings, llm, 1))
    settings = capped(make_settings, llm, 0)
    report = run(settings)
    assert len(llm.completions) == 1
    assert (report.summaries.made, report.summaries.cached, report.summaries.deferred) == (0, 1, 4)
    assert summarized(settings.output.readme) == 1


def test_without_a_cap_every_top_paper_is_summarized(
    day: HTTPServer, llm: FakeLLM, make_settings: MakeSettings
) -> None:
    report = run(capped(make_settings, llm, None))
    assert (report.summaries.made, report.summaries.deferred) == (5, 0)


def test_the_run_says_how_many_summaries_wait_for_the_next_run(
    day: HTTPServer, llm: FakeLLM, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from arxiv_digest.cli import app
    from tests.conftest import write_config

    summary = {
        "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
        "model": "test-model", "max_papers_to_summarize": 5, "pdf_delay": 0,
        "input": "abstract", "max_calls_per_run": 2,
    }  # fmt: skip
    config = write_config(tmp_path, day, ai_summary=summary)
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 made, 0 cached, 0 failed, 3 left for the next run" in " ".join(result.output.split())
