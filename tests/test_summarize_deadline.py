"""``ai_summary.timeout`` and ``http.timeout`` are deadlines: a trickling answer fails."""

from __future__ import annotations

from typing import Any

import pytest

from arxiv_digest.config import AISummarySettings, HttpSettings, Settings
from arxiv_digest.errors import SummarizeError
from arxiv_digest.summarize.llm import LlmClient
from tests.conftest import MakeSettings
from tests.fakes import FakeLLM, TrickleServer
from tests.test_summarize import (
    details_blocks,
    digest_day,  # noqa: F401 - a fixture, used by name
    run,
    summary_settings,
)

NO_WAIT = HttpSettings(backoff=0, max_backoff=0)


def test_a_trickling_llm_answer_fails_at_its_deadline() -> None:
    with TrickleServer() as server:
        ai = AISummarySettings(enabled=True, base_url=server.url("/v1"), timeout=0.5, retries=1)
        client = LlmClient(ai, "sk-test", NO_WAIT, sleep=lambda seconds: None)
        try:
            with pytest.raises(SummarizeError, match=r"timed out \(after 2 attempt\(s\)\)"):
                client.complete([{"role": "user", "content": "Title: x"}])
        finally:
            client.close()
    assert server.requests == 2


@pytest.mark.usefixtures("digest_day")
def test_a_trickling_pdf_falls_back_to_the_abstract(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    with TrickleServer() as server:

        def with_slow_pdfs(**overrides: Any) -> Settings:
            return make_settings(arxiv={"pdf_url": server.url("/pdf")}, **overrides)

        network = {"timeout": 0.5, "retries": 2, "backoff": 0, "max_backoff": 0}
        settings = summary_settings(with_slow_pdfs, llm, network, max_papers_to_summarize=1)
        report = run(settings)
    assert server.requests == 3  # one PDF, three attempts, each cut at its deadline
    assert report.summaries.made == 1
    assert "\nAbstract:\n" in llm.completions[0].body["messages"][1]["content"]
    assert "Summary from the abstract" in details_blocks(settings)[0]
