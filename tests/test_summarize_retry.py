"""A summary made from the abstract because the PDF failed is replaced by a full-text one
on a later run, for a few days and at most every few hours; the LLM is paid again only once
the full text is there."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from arxiv_digest.config import Settings
from arxiv_digest.models import Paper, Summary, SummaryStats
from arxiv_digest.sources import http
from arxiv_digest.store import Store, schema
from arxiv_digest.summarize import Summarizer
from arxiv_digest.summarize.llm import LlmClient
from arxiv_digest.summarize.runner import (
    FALLBACK_NOTES,
    FULLTEXT_RETRY_DAYS,
    FULLTEXT_RETRY_INTERVAL,
)
from tests.conftest import MakeSettings
from tests.fakes import FakeLLM, Reply, paper_pdf
from tests.test_summarize import summary_settings

DAY0 = dt.datetime(2026, 4, 27, 6, 0, tzinfo=dt.UTC)


@dataclass
class Arxiv:
    """The PDF endpoint, down (503) until ``up`` is set."""

    server: HTTPServer
    up: bool = False

    def answer(self, request: Request) -> Response:
        if not self.up:
            return Response("busy", status=503)
        return Response(paper_pdf("2604.00001v1"), content_type="application/pdf")

    @property
    def pdf_requests(self) -> int:
        return sum(1 for request, _ in self.server.log if request.path.startswith("/pdf/"))


@pytest.fixture
def arxiv(httpserver: HTTPServer) -> Arxiv:
    pdfs = Arxiv(httpserver)
    httpserver.expect_request(re.compile(r"^/pdf/.+")).respond_with_handler(pdfs.answer)
    return pdfs


Summarize = Callable[[dt.datetime], tuple[Summary, SummaryStats]]


@pytest.fixture
def summarize_on(
    make_settings: MakeSettings, llm: FakeLLM, make_paper: Callable[..., Paper]
) -> Iterator[Summarize]:
    """Summarizes one paper as a run on the given day would, with a fresh Summarizer."""
    settings: Settings = summary_settings(make_settings, llm, max_workers=1)
    paper = make_paper(title="Speculative decoding at scale", abstract="We decode fast.")
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:

        def summarize(day: dt.datetime) -> tuple[Summary, SummaryStats]:
            llm_client = LlmClient(settings.ai_summary, "sk-test", settings.http)
            summarizer = Summarizer(
                settings, store, llm_client, client, sleep=lambda s: None, clock=lambda: day
            )
            try:
                found, stats = summarizer.summarize([paper])
            finally:
                summarizer.close()
            with store.engine.connect() as conn:  # never two rows for the paper
                assert len(conn.execute(select(schema.summaries)).all()) == 1
            return found[(paper.arxiv_id, paper.version)], stats

        yield summarize


def test_the_full_text_replaces_the_fallback_when_it_comes(
    arxiv: Arxiv, llm: FakeLLM, summarize_on: Summarize
) -> None:
    fallback, stats = summarize_on(DAY0)
    assert fallback.note == FALLBACK_NOTES["fulltext"] and stats.made == 1
    assert len(llm.completions) == 1 and arxiv.pdf_requests == 3  # 1 + 2 retries

    again, stats = summarize_on(DAY0 + dt.timedelta(days=1))  # arXiv still down
    assert again == fallback and (stats.made, stats.cached, stats.failed) == (0, 1, 0)
    assert arxiv.pdf_requests == 6  # the PDF was tried again...
    assert len(llm.completions) == 1  # ...but the LLM was not paid for the abstract again

    arxiv.up = True
    full, stats = summarize_on(DAY0 + dt.timedelta(days=2))
    assert (stats.made, stats.cached) == (1, 0)
    assert len(llm.completions) == 2
    assert "Full text:" in llm.completions[1].body["messages"][1]["content"]
    assert full.note == "" and full.input_mode == "fulltext"

    cached, stats = summarize_on(DAY0 + dt.timedelta(days=2, hours=1))
    assert cached == full and stats.cached == 1
    assert (arxiv.pdf_requests, len(llm.completions)) == (7, 2)  # nothing more to retry


def test_an_old_fallback_is_not_retried(
    arxiv: Arxiv, llm: FakeLLM, summarize_on: Summarize
) -> None:
    fallback, _ = summarize_on(DAY0)
    arxiv.up = True
    later = DAY0 + dt.timedelta(days=FULLTEXT_RETRY_DAYS, minutes=1)
    kept, stats = summarize_on(later)
    assert kept == fallback and stats.cached == 1
    assert (arxiv.pdf_requests, len(llm.completions)) == (3, 1)


def test_a_failed_llm_call_on_retry_keeps_the_fallback(
    arxiv: Arxiv, llm: FakeLLM, summarize_on: Summarize
) -> None:
    fallback, _ = summarize_on(DAY0)
    arxiv.up = True
    llm.reply_for = lambda body: Reply(500)
    kept, stats = summarize_on(DAY0 + dt.timedelta(days=1))
    assert kept == fallback
    assert (stats.made, stats.cached, stats.failed) == (0, 1, 0)
    assert len(llm.completions) == 1 + 3  # tried, with its retries


def test_a_rerun_within_hours_does_not_download_the_pdf_again(
    arxiv: Arxiv, llm: FakeLLM, summarize_on: Summarize
) -> None:
    fallback, _ = summarize_on(DAY0)
    assert arxiv.pdf_requests == 3  # 1 + 2 retries within the run
    minute = dt.timedelta(minutes=1)

    soon, stats = summarize_on(DAY0 + dt.timedelta(minutes=10))
    assert soon == fallback and (stats.made, stats.cached) == (0, 1)
    assert arxiv.pdf_requests == 3  # nothing downloaded minutes later
    summarize_on(DAY0 + FULLTEXT_RETRY_INTERVAL - minute)
    assert arxiv.pdf_requests == 3

    summarize_on(DAY0 + FULLTEXT_RETRY_INTERVAL + minute)  # due: tried, still down
    assert arxiv.pdf_requests == 6
    summarize_on(DAY0 + FULLTEXT_RETRY_INTERVAL * 2)  # counted from that try, not the first
    assert arxiv.pdf_requests == 6

    arxiv.up = True
    full, stats = summarize_on(DAY0 + FULLTEXT_RETRY_INTERVAL * 2 + minute * 2)
    assert arxiv.pdf_requests == 7 and stats.made == 1
    assert full.note == "" and len(llm.completions) == 2


def test_the_store_keeps_when_a_fallbacks_full_text_was_last_tried(
    store: Store, make_paper: Callable[..., Paper]
) -> None:
    fallback_paper, full_paper = make_paper(), make_paper()
    store.upsert_papers([fallback_paper, full_paper])
    keys = [(p.arxiv_id, p.version) for p in (fallback_paper, full_paper)]
    fallback = Summary(
        fallback_paper.arxiv_id, 1, "m", "from the abstract", "fulltext", FALLBACK_NOTES["fulltext"]
    )
    store.save_summary(fallback, "h", DAY0)
    store.save_summary(Summary(full_paper.arxiv_id, 1, "m", "full", "fulltext"), "h", DAY0)
    assert store.fallback_times(keys, "m", "h", "fulltext") == {keys[0]: (DAY0, DAY0)}

    tried = DAY0 + dt.timedelta(hours=7)
    store.mark_fulltext_tried(keys, "m", "h", "fulltext", tried)
    store.mark_fulltext_tried(keys, "other-model", "h", "fulltext", tried + dt.timedelta(hours=1))
    assert store.fallback_times(keys, "m", "h", "fulltext") == {keys[0]: (DAY0, tried)}

    store.save_summary(fallback, "h", DAY0 + dt.timedelta(days=1))  # made again: tried anew
    made = DAY0 + dt.timedelta(days=1)
    assert store.fallback_times(keys, "m", "h", "fulltext") == {keys[0]: (made, made)}
