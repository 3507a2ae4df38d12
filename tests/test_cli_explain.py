"""``arxiv-digest explain ID``: the signals behind a paper's place in today's digest."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from arxiv_digest.cli import app
from arxiv_digest.sources.rss import parse_rss
from tests.conftest import serve_feed, write_config
from tests.test_relevance import CATS


def digest_of_the_day(tmp_path: Path, httpserver: HTTPServer, combined_feed: bytes) -> Path:
    """A run with a keyword and a library: one library paper like one of the day's papers,
    written by the first author of another of the day's papers (a namesake, as far as
    anything can tell)."""
    serve_feed(httpserver, CATS, combined_feed)
    day = parse_rss(combined_feed).papers
    liked = next(p for p in day if "reasoning" in p.title.lower())
    stranger = next(p for p in day if p is not liked and len(p.authors) > 1)
    (tmp_path / "library.bib").write_text(
        f"@article{{x, title={{{liked.title}}}, abstract={{{liked.abstract}}},"
        f" author={{{stranger.authors[0]} and Someone Else}}}}\n",
        encoding="utf-8",
    )
    config = write_config(
        tmp_path, httpserver, keywords=["LLM"], relevance={"library": ["library.bib"]}
    )
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return config


def explain(config: Path, arxiv_id: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["explain", arxiv_id, "--config", str(config)])
    return result.exit_code, result.output


def test_explain_takes_a_papers_score_apart_signal_by_signal(
    tmp_path: Path, httpserver: HTTPServer, combined_feed: bytes
) -> None:
    config = digest_of_the_day(tmp_path, httpserver, combined_feed)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    first = re.search(r"\(https?://[^)]*/abs/([0-9.]+)\)", readme)
    assert first is not None
    code, output = explain(config, first[1])
    assert code == 0, output
    score = re.search(r"(?m)^\*\*Score\*\*: (\S+)", readme)
    assert score is not None
    assert "In the digest of 2026-04-27: #1 of " in output
    assert f"score {score[1]}" in output
    assert re.search(r"(?m)^Why: similar to “", output)
    rows = dict(re.findall(r"(?m)^  (\w[\w ]*?)  +([+-]\d+\.\d)  ", output))
    assert {"similarity", "category fit", "keywords"} <= set(rows)
    total = re.search(r"(?m)^  total +([+-]\d+\.\d)$", output)
    assert total is not None and float(total[1]) == float(score[1])
    assert "relevance.weights.similarity" in output  # the setting to change


def test_explain_says_a_namesake_was_not_counted_and_why(
    tmp_path: Path, httpserver: HTTPServer, combined_feed: bytes
) -> None:
    config = digest_of_the_day(tmp_path, httpserver, combined_feed)
    day = parse_rss(combined_feed).papers
    liked = next(p for p in day if "reasoning" in p.title.lower())
    stranger = next(p for p in day if p is not liked and len(p.authors) > 1)
    code, output = explain(config, stranger.arxiv_id)
    assert code == 0, output
    line = next(x for x in output.splitlines() if x.lstrip().startswith("library authors"))
    assert "+0.0" in line and f"{stranger.authors[0]} (1 library paper): not counted" in line
    assert "no co-author of theirs" in line


def test_explain_refuses_an_id_that_is_not_among_the_days_candidates(
    tmp_path: Path, httpserver: HTTPServer, combined_feed: bytes
) -> None:
    config = digest_of_the_day(tmp_path, httpserver, combined_feed)
    code, output = explain(config, "2101.00001")
    assert code == 2
    assert "2101.00001 is not among the" in " ".join(output.split())
    code, output = explain(config, "not-an-id")
    assert code == 2 and "not an arXiv identifier" in output
