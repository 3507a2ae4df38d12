"""AI summaries through the real openai SDK against a local OpenAI-compatible server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.models import RunReport
from arxiv_digest.sources import http
from arxiv_digest.store import Store, schema
from arxiv_digest.summarize import build_summarizer
from tests.conftest import MakeSettings, serve_feed, serve_pdfs
from tests.fakes import FakeLLM, Reply, title_of

CATS = "cs.AI+cs.CL+cs.LG"
KEY = "sk-test-DO-NOT-LEAK-4f9a"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def digest_day(
    httpserver: HTTPServer, combined_feed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    serve_pdfs(httpserver)
    monkeypatch.setenv("TEST_LLM_KEY", KEY)


def summary_settings(
    make_settings: MakeSettings, llm: FakeLLM, http: dict[str, Any] | None = None, **ai: Any
) -> Settings:
    config = {
        "enabled": True,
        "api_key_env": "TEST_LLM_KEY",
        "base_url": llm.base_url,
        "model": "test-model",
        "max_papers_to_summarize": 3,
        "max_workers": 2,
        "pdf_delay": 0,
        "retries": 2,
        "timeout": 5,
        "price_input_per_1k": 0.01,
        "price_output_per_1k": 0.03,
        **ai,
    }
    keywords = ["LLM", "reasoning", "benchmark", "agents", "models"]
    network = http or {"retries": 2, "backoff": 0, "max_backoff": 0}
    return make_settings(keywords=keywords, ai_summary=config, http=network)


def run(settings: Settings, sleeps: Sleeps | None = None) -> RunReport:
    sleep = sleeps if sleeps is not None else Sleeps()
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        summarizer = build_summarizer(settings, store, client, sleep=sleep)
        try:
            return pipeline.run_daily(settings, store, client, summarizer=summarizer, sleep=sleep)
        finally:
            if summarizer:
                summarizer.close()


def details_blocks(settings: Settings) -> list[str]:
    text = settings.output.readme.read_text()
    return [b.split("</details>")[0] for b in text.split("<details>")[1:]]


@pytest.mark.usefixtures("digest_day")
def test_top_papers_get_summaries_and_a_rerun_pays_nothing(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm)
    first = run(settings)
    assert (first.summaries.made, first.summaries.cached, first.summaries.failed) == (3, 0, 0)
    assert len(llm.completions) == 3
    assert (first.summaries.tokens_in, first.summaries.tokens_out) == (3000, 600)
    assert first.summaries.cost == pytest.approx(3 * (1000 / 1000 * 0.01 + 200 / 1000 * 0.03))
    blocks = details_blocks(settings)
    assert len(blocks) == 3
    assert all("🤖 AI Summary (by test-model)" in b and "A summary of *" in b for b in blocks)
    readme = settings.output.readme.read_bytes()

    second = run(settings)
    assert len(llm.completions) == 3  # zero new calls
    assert (second.summaries.made, second.summaries.cached) == (0, 3)
    assert settings.output.readme.read_bytes() == readme


@pytest.mark.usefixtures("digest_day")
def test_run_record_keeps_the_accounting(make_settings: MakeSettings, llm: FakeLLM) -> None:
    settings = summary_settings(make_settings, llm)
    run(settings)
    with Store(settings.store.url) as store:
        record = store.runs(1)[0]
    assert (record["summaries_made"], record["tokens_in"], record["tokens_out"]) == (3, 3000, 600)
    assert record["cost"] == pytest.approx(0.048)


@pytest.mark.usefixtures("digest_day")
def test_429_and_500_are_retried_with_retry_after_honoured(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    http = {"backoff": 0.25, "max_backoff": 60}
    settings = summary_settings(make_settings, llm, http, max_papers_to_summarize=1, max_workers=1)
    llm.script.extend([Reply(429, headers={"Retry-After": "7"}), Reply(500)])
    sleeps = Sleeps()
    report = run(settings, sleeps)
    assert report.summaries.made == 1 and report.summaries.failed == 0
    assert len(llm.completions) == 3
    assert sleeps[0] == 7.0  # as asked by the server
    assert len(sleeps) == 2 and 0.25 <= sleeps[1] <= 60  # exponential backoff with jitter


@pytest.mark.usefixtures("digest_day")
def test_a_timeout_is_retried(make_settings: MakeSettings, llm: FakeLLM) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1, timeout=0.5)
    llm.script.append(Reply(delay=2.0))
    report = run(settings)
    assert report.summaries.made == 1
    assert len(llm.completions) == 2


@pytest.mark.usefixtures("digest_day")
def test_one_paper_failing_does_not_block_the_others(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm)
    doomed: list[str] = []

    def reply(body: Any) -> Reply:
        title = title_of(body)
        if not doomed:
            doomed.append(title)
        return Reply(503) if title == doomed[0] else Reply()

    llm.reply_for = reply
    report = run(settings)
    assert report.status == "ok"
    assert (report.summaries.made, report.summaries.failed) == (2, 1)
    assert "503" in report.summaries.failures[0]
    assert len(details_blocks(settings)) == 2
    assert len(llm.completions) == 2 + 3  # two successes, three attempts for the doomed one

    llm.reply_for = lambda body: Reply()
    again = run(settings)
    assert (again.summaries.made, again.summaries.cached) == (1, 2)  # only the failed one
    assert len(details_blocks(settings)) == 3


@pytest.mark.usefixtures("digest_day")
@pytest.mark.parametrize(
    "reply",
    [
        Reply(text=""),
        Reply(text="   \n"),
        Reply(text="I cannot help.", finish_reason="content_filter"),
    ],
    ids=["empty", "blank", "refused"],
)
def test_empty_or_refused_completion_is_a_failure(
    make_settings: MakeSettings, llm: FakeLLM, reply: Reply
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    llm.script.append(reply)
    report = run(settings)
    assert report.summaries.failed == 1 and report.summaries.made == 0
    assert details_blocks(settings) == []
    with Store(settings.store.url) as store, store.engine.connect() as conn:
        assert conn.execute(select(schema.summaries)).first() is None


@pytest.mark.usefixtures("digest_day")
def test_model_output_cannot_break_out_of_the_details_block(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    llm.script.append(
        Reply(text="Fine.\n</details><script>alert(1)</script><img src=x onerror=alert(2)>")
    )
    run(settings)
    text = settings.output.readme.read_text()
    assert "<script>" not in text and "<img" not in text
    assert text.count("</details>") == text.count("<details>") == 1
    assert "&lt;/details>&lt;script>alert(1)&lt;/script>" in text


@pytest.mark.usefixtures("digest_day")
def test_fulltext_request_has_the_paper_without_its_references(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    run(settings)
    messages = llm.completions[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Simplified Chinese" in messages[0]["content"]
    user = messages[1]["content"]
    assert user.startswith("Title: ")
    assert "speculative decoding idea" in user and "in the conclusion section" in user
    assert "unrelated reference title" not in user
    assert llm.completions[0].body["model"] == "test-model"
    assert llm.completions[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.usefixtures("digest_day")
def test_file_mode_uploads_the_pdf_and_passes_its_id(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1, input="file")
    run(settings)
    upload, chat, delete = llm.calls
    assert upload.path == "/v1/files"
    assert delete.path == "/v1/files/file-1"  # not left on the provider's storage
    assert b'name="purpose"' in upload.body and b"file-extract" in upload.body
    assert b"%PDF" in upload.body
    roles = [m["role"] for m in chat.body["messages"]]
    assert roles == ["system", "system", "user"]
    assert chat.body["messages"][1]["content"] == "fileid://file-1"
    assert chat.body["messages"][2]["content"].startswith("Title: ")


@pytest.mark.usefixtures("digest_day")
def test_abstract_mode_downloads_nothing(
    make_settings: MakeSettings, llm: FakeLLM, httpserver: HTTPServer
) -> None:
    settings = summary_settings(make_settings, llm, input="abstract", language="en")
    run(settings)
    assert not [r for r, _ in httpserver.log if r.path.startswith("/pdf/")]
    user = llm.completions[0].body["messages"][1]["content"]
    assert "\nAbstract:\n" in user
    assert "in English" in llm.completions[0].body["messages"][0]["content"]


def test_missing_pdf_falls_back_to_the_abstract_and_says_so(
    make_settings: MakeSettings,
    llm: FakeLLM,
    httpserver: HTTPServer,
    combined_feed: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    httpserver.expect_request("/pdf/", method="GET").respond_with_data("gone", status=404)
    monkeypatch.setenv("TEST_LLM_KEY", KEY)
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    report = run(settings)
    assert report.summaries.made == 1
    assert "\nAbstract:\n" in llm.completions[0].body["messages"][1]["content"]
    assert (
        "*Summary from the abstract: the full text could not be downloaded.*"
        in details_blocks(settings)[0]
    )


@pytest.mark.usefixtures("digest_day")
def test_missing_key_warns_once_and_still_writes_the_digest(
    make_settings: MakeSettings,
    llm: FakeLLM,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("TEST_LLM_KEY")
    settings = summary_settings(make_settings, llm, base_url="https://llm.example.invalid/v1")
    with caplog.at_level(logging.WARNING):
        report = run(settings)
    assert report.status == "ok" and report.readme_written
    assert llm.calls == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "AI summaries are enabled but TEST_LLM_KEY is not set: "
        "the digest is built without new summaries"
    ]


@pytest.mark.usefixtures("digest_day")
def test_cached_summaries_still_show_without_a_key(
    make_settings: MakeSettings, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = summary_settings(make_settings, llm)
    run(settings)
    monkeypatch.delenv("TEST_LLM_KEY")
    Path(settings.output.readme).unlink()
    remote = summary_settings(make_settings, llm, base_url="https://llm.example.invalid/v1")
    report = run(remote)
    assert (report.summaries.cached, len(llm.completions)) == (3, 3)
    assert len(details_blocks(remote)) == 3


@pytest.mark.usefixtures("digest_day")
def test_the_key_never_appears_in_logs_or_outputs(
    make_settings: MakeSettings, llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    settings = summary_settings(make_settings, llm)
    llm.script.extend([Reply(500), Reply(401), Reply(429, headers={"Retry-After": "1"})])
    with caplog.at_level(logging.DEBUG):
        report = run(settings)
    assert report.summaries.failed >= 1
    assert "refused" in " ".join(report.summaries.failures)
    everything = caplog.text + settings.output.readme.read_text() + repr(report)
    with Store(settings.store.url) as store:
        everything += repr(store.runs(5))
    assert KEY not in everything
    assert KEY[-8:] not in everything


@pytest.mark.usefixtures("digest_day")
def test_a_local_server_needs_no_key(
    make_settings: MakeSettings, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_LLM_KEY")
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    assert settings.ai_summary.is_local
    assert run(settings).summaries.made == 1


@pytest.mark.usefixtures("digest_day")
def test_a_new_prompt_or_model_is_a_new_cache_entry(
    make_settings: MakeSettings, llm: FakeLLM, tmp_path: Path
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    run(settings)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Summarize in {language}, in three bullet points.")
    custom = summary_settings(
        make_settings, llm, max_papers_to_summarize=1, prompt_file=str(prompt)
    )
    run(custom)
    assert len(llm.completions) == 2
    assert llm.completions[1].body["messages"][0]["content"] == (
        "Summarize in Simplified Chinese (简体中文), in three bullet points."
    )


@pytest.mark.usefixtures("digest_day")
def test_a_reasoning_models_thinking_is_not_the_summary(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=2, max_workers=1)
    llm.script.extend(
        [
            Reply(
                text="<think>\nLet me read the paper...\n</think>\n\n## 1. Contributions\n\nReal."
            ),
            Reply(text="<think>only thinking, no answer</think>"),
        ]
    )
    report = run(settings)
    assert (report.summaries.made, report.summaries.failed) == (1, 1)
    [block] = details_blocks(settings)
    assert "Real." in block and "think" not in block


COMPLETION_WITHOUT = '{"id": "x", "object": "chat.completion", "created": 0, "model": "m", '
MALFORMED = {
    "html": Reply(raw=b"<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
    "truncated": Reply(raw=b'{"id": "chatcmpl-1", "choices": [{"index": 0, "mess'),
    "no-choices": Reply(raw=(COMPLETION_WITHOUT + '"usage": null}').encode()),
    "choices-a-string": Reply(raw=(COMPLETION_WITHOUT + '"choices": "oops"}').encode()),
    "choice-not-an-object": Reply(raw=(COMPLETION_WITHOUT + '"choices": [42]}').encode()),
    "message-null": Reply(raw=b'{"choices": [{"index": 0, "message": null}]}'),
    "content-a-number": Reply(raw=b'{"choices": [{"message": {"content": 7}}]}'),
    "json-array": Reply(raw=b"[]"),
}


@pytest.mark.usefixtures("digest_day")
@pytest.mark.parametrize("reply", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_answer_is_one_papers_failure_not_the_runs(
    make_settings: MakeSettings, llm: FakeLLM, reply: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    settings = summary_settings(make_settings, llm)
    llm.reply_for = lambda body: reply
    with caplog.at_level(logging.WARNING):
        report = run(settings)
    assert report.status == "ok" and report.readme_written
    assert (report.summaries.made, report.summaries.failed) == (0, 3)
    assert len(llm.completions) == 3 * 2  # a malformed answer is retried once, not more
    for failure in report.summaries.failures:
        assert "the LLM API answered HTTP 200 with" in failure and "after 2 attempt(s)" in failure
        assert len(failure) < 200
    logged = [r.getMessage() for r in caplog.records if "summary of" in r.getMessage()]
    assert len(logged) == 3 and not any("\n" in line for line in logged)
    assert details_blocks(settings) == []
    with Store(settings.store.url) as store, store.engine.connect() as conn:
        assert conn.execute(select(schema.summaries)).first() is None  # nothing cached

    llm.reply_for = lambda body: Reply()
    again = run(settings)
    assert (again.summaries.made, again.summaries.failed) == (3, 0)


@pytest.mark.usefixtures("digest_day")
def test_a_gateway_hiccup_is_retried_within_the_run(
    make_settings: MakeSettings, llm: FakeLLM
) -> None:
    settings = summary_settings(make_settings, llm, max_papers_to_summarize=1)
    llm.script.append(MALFORMED["html"])
    report = run(settings)
    assert (report.summaries.made, report.summaries.failed) == (1, 0)
    assert len(llm.completions) == 2


@pytest.mark.usefixtures("digest_day")
def test_an_unexpected_error_in_one_paper_does_not_sink_the_digest(
    make_settings: MakeSettings, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arxiv_digest.summarize import prompt

    real = prompt.paper_message
    doomed: list[str] = []

    def paper_message(paper: Any, label: str, body: str) -> str:
        if not doomed or doomed[0] == paper.arxiv_id:
            doomed.append(paper.arxiv_id)
            raise ValueError("a surprise\nover two lines")
        return real(paper, label, body)

    monkeypatch.setattr(prompt, "paper_message", paper_message)
    settings = summary_settings(make_settings, llm, max_workers=1)
    report = run(settings)
    assert report.status == "ok" and report.readme_written
    assert (report.summaries.made, report.summaries.failed) == (2, 1)
    [failure] = report.summaries.failures
    assert "unexpected ValueError: a surprise over two lines" in failure  # on one line
    assert len(details_blocks(settings)) == 2
