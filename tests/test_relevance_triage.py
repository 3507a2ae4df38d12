"""LLM triage (``relevance.triage``): the top papers judged against the reader's interests,
through the real openai SDK against a local OpenAI-compatible server."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from arxiv_digest.cli import app
from arxiv_digest.config import Settings, load_settings
from arxiv_digest.models import RankedPaper
from arxiv_digest.relevance.triage import TriageError, apply_judgements, parse_judgement
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.sources.text import tex_as_text
from arxiv_digest.store import Store
from tests.conftest import (
    MakeSettings,
    run_once,
    run_refused_as_config_error,
    serve_feed,
    write_config,
)
from tests.fakes import FakeLLM, Reply, title_of
from tests.test_relevance import CATS, real_day

INTERESTS = "Reasoning in large language models; not computer vision."


def _settings(make_settings: MakeSettings, llm: FakeLLM, **triage: Any) -> Settings:
    return make_settings(
        keywords=["LLM", "reasoning", "agents", "benchmark"],
        relevance={"library": [], "interests": INTERESTS, "triage": triage},
        ai_summary={"base_url": llm.base_url, "retries": 1, "model": "summary-model"},
    )


def _order(settings: Settings) -> list[str]:
    readme = settings.output.readme.read_text(encoding="utf-8")
    return list(dict.fromkeys(re.findall(r"arxiv\.org/abs/(\d{4}\.\d{4,5})\)", readme)))


def _judge(scores: dict[str, tuple[int, str]]) -> Any:
    """Answers keyed by the paper's title; 5 ("neutral") for the others."""

    def reply(body: Any) -> Reply:
        score, reason = scores.get(title_of(body), (5, "neutral"))
        return Reply(text=json.dumps({"score": score, "reason": reason}))

    return reply


def test_triage_lifts_what_the_model_likes_sinks_the_rest_and_says_why_once(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    titles = {p.arxiv_id: " ".join(p.title.split()) for p in parse_rss(combined_feed).papers}
    run_once(_settings(make_settings, llm))  # off by default: the blend's order
    assert llm.completions == []
    before = _order(_settings(make_settings, llm))
    assert len(before) >= 3
    top, bottom = before[0], before[-1]
    llm.reply_for = _judge({
        titles[bottom]: (10, "Exactly about reasoning in LLMs, step by step " + "x" * 200),
        titles[top]: (0, "Off topic: image segmentation"),
    })  # fmt: skip
    settings = _settings(make_settings, llm, enabled=True, top_k=50, max_calls=50, weight=100)
    run_once(settings)
    after = _order(settings)
    assert after[0] == bottom and after[-1] == top
    assert sorted(after) == sorted(before)
    assert len(llm.completions) == len(before)
    assert all(c.body["model"] == "summary-model" for c in llm.completions)
    # a judgement is short and repeatable, whatever the summaries are allowed
    assert all(c.body["max_tokens"] == 300 for c in llm.completions)
    assert all(c.body["temperature"] == 0 for c in llm.completions)
    readme = settings.output.readme.read_text(encoding="utf-8")
    assert "LLM: 10/10, Exactly about reasoning in LLMs, step by step" in readme
    assert "LLM: 0/10, Off topic: image segmentation" in readme
    assert "x" * 120 not in readme  # the reason is cut short in the why line
    calls = len(llm.completions)
    run_once(settings)
    assert len(llm.completions) == calls  # every judgement came from the store
    assert _order(settings) == after


def test_max_calls_caps_each_run_and_the_rest_wait_for_the_next(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    llm.reply_for = _judge({})
    settings = _settings(
        make_settings, llm, enabled=True, top_k=5, max_calls=2, model="cheap-model"
    )
    run_once(settings)
    assert len(llm.completions) == 2
    assert all(c.body["model"] == "cheap-model" for c in llm.completions)
    run_once(settings)
    run_once(settings)
    assert len(llm.completions) == 5  # 2 + 2 + the last one
    asked = [title_of(c.body) for c in llm.completions]
    assert len(set(asked)) == 5  # nobody asked twice
    run_once(settings)
    assert len(llm.completions) == 5


def test_a_malformed_answer_is_that_papers_warning_and_it_is_asked_again_next_run(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    combined_feed: bytes,
    llm: FakeLLM,
    caplog: pytest.LogCaptureFixture,
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    llm.script.extend([
        Reply(raw=b"<html>bad gateway</html>", content_type="text/html"),
        Reply(raw=b"<html>bad gateway</html>", content_type="text/html"),  # its one retry
        Reply(text="I think this paper is quite good!"),
        Reply(text=json.dumps({"score": 11, "reason": "too good"})),
    ])  # fmt: skip
    llm.reply_for = lambda body: Reply(text='```json\n{"score": 7, "reason": "on topic"}\n```')
    settings = _settings(make_settings, llm, enabled=True, top_k=4, max_calls=10)
    with caplog.at_level(logging.WARNING):
        run_once(settings)
    assert len(llm.completions) == 5
    readme = settings.output.readme.read_text(encoding="utf-8")
    assert readme.count("LLM: 7/10, on topic") == 1
    failures = [r.getMessage() for r in caplog.records if "relevance.triage of" in r.getMessage()]
    assert len(failures) == 3
    assert any("not JSON" in f for f in failures) and any("outside 0–10" in f for f in failures)
    run_once(settings)
    assert len(llm.completions) == 8  # the three failures, asked again
    assert settings.output.readme.read_text(encoding="utf-8").count("LLM: 7/10") == 4


def test_triage_is_off_by_default(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    settings = _settings(make_settings, llm)
    assert settings.relevance is not None and not settings.relevance.triage.enabled
    run_once(settings)
    assert llm.calls == []
    assert "LLM: " not in settings.output.readme.read_text(encoding="utf-8")
    with Store(settings.store.url) as store:
        assert store.cached_triage([(p.arxiv_id, 1) for p in real_day()[:3]], "m", "h") == {}


def test_triage_without_interests_is_a_config_error(tmp_path: Path) -> None:
    config = {
        "categories": ["cs.AI"],
        "keywords": ["LLM"],
        "relevance": {"triage": {"enabled": True}},
    }
    output = run_refused_as_config_error(tmp_path, config)
    assert "relevance.triage" in output and "relevance.interests" in output


@pytest.mark.parametrize(
    ("text", "score", "reason"),
    [
        ('{"score": 8, "reason": "federated learning"}', 8, "federated learning"),
        ('Sure: {"score": "3", "reason": " off\\n topic "} hope this helps', 3, "off topic"),
        ('```json\n{"score": 10.0, "reason": "yes"}\n```', 10, "yes"),
    ],
)
def test_answers_are_read_leniently(text: str, score: int, reason: str) -> None:
    judgement = parse_judgement(text, real_day()[0])
    assert (judgement.score, judgement.reason) == (score, reason)


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        '{"score": -1, "reason": "x"}',
        '{"score": 11, "reason": "x"}',
        '{"score": true, "reason": "x"}',
        '{"score": "high", "reason": "x"}',
        '{"score": 5}',
        '{"score": 5, "reason": "  "}',
        '{"reason": "no score"}',
        '{"score": 5, "reason": "cut off',
    ],
)
def test_unusable_answers_are_errors(text: str) -> None:
    with pytest.raises(TriageError):
        parse_judgement(text, real_day()[0])


def test_the_run_report_counts_triage_calls_and_tokens(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    llm.reply_for = _judge({})
    path = write_config(
        tmp_path,
        httpserver,
        keywords=["LLM", "reasoning"],
        relevance={"interests": INTERESTS, "triage": {"enabled": True, "top_k": 3}},
        ai_summary={"base_url": llm.base_url, "price_input_per_1k": 0.001},
    )
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "LLM triage: 3 calls (0 failed), 0 cached; tokens 3,000 in / 600 out" in output
    assert "estimated cost 0.0030 USD" in output
    with Store(load_settings(path).store.url) as store:
        recorded = store.last_run()
    assert recorded is not None  # the run record keeps the triage bill too
    assert (recorded["triage_calls"], recorded["triage_tokens_in"]) == (3, 3000)
    assert recorded["triage_cost"] == pytest.approx(0.003)


def test_triage_can_bring_in_a_paper_the_blend_left_just_below_the_cut(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    titles = {p.arxiv_id: " ".join(p.title.split()) for p in parse_rss(combined_feed).papers}
    everything = _settings(make_settings, llm)
    run_once(everything)
    full_order = _order(everything)
    assert len(full_order) >= 4
    outside = full_order[3]
    llm.reply_for = _judge({titles[outside]: (10, "Exactly what I read")})
    settings = make_settings(
        keywords=["LLM", "reasoning", "agents", "benchmark"],
        max_papers=3,
        relevance={"library": [], "interests": INTERESTS,
                   "triage": {"enabled": True, "top_k": 10, "weight": 100}},
        ai_summary={"base_url": llm.base_url, "retries": 1, "model": "summary-model"},
    )  # fmt: skip
    run_once(settings)
    shown = _order(settings)
    assert len(shown) == 3 and shown[0] == outside
    assert "- **Total Papers Found**: 3" in settings.output.readme.read_text(encoding="utf-8")


def test_dollars_in_a_reason_are_never_taken_for_math() -> None:
    """A why line may hold a library title's math; a reason's "$5 to $10" is not math."""
    paper = real_day()[0]
    judgement = parse_judgement('{"score": 8, "reason": "saves $5 to $10 a run"}', paper)
    entry = RankedPaper(paper, 1.0, (), "cs.AI", (), "similar to “FedP$^2$EFT”")
    (judged,) = apply_judgements([entry], {(paper.arxiv_id, paper.version): judgement}, 1.0)
    assert tex_as_text(judged.why) == "similar to “FedP²EFT”; LLM: 8/10, saves $5 to $10 a run"
