"""Ranking: which papers make the digest, with which score, in which order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest

from arxiv_digest.config import Settings, parse_settings
from arxiv_digest.models import Paper
from arxiv_digest.rank import Ranker, display_category, select_candidates
from arxiv_digest.sources.arxiv_api import parse_api
from arxiv_digest.sources.oai import parse_oai
from arxiv_digest.sources.rss import parse_rss
from tests.conftest import FIXTURES

MakePaper = Callable[..., Paper]
ORIGINAL_KEYWORDS = [
    "LLM", "RL", "RLHF", "Inference", "Training", "Attention", "Pipeline", "MOE", "Sparse",
    "Quantization", "Speculative", "Efficient", "Efficiency", "Framework", "Parallel",
    "Distributed", "Kernel", "Decode", "Decoding", "Prefill", "Throughput", "Fast", "Network",
    "Hardware", "Cluster", "FP8", "FP4", "Optimization", "Scalable", "Communication",
    "Bayesian", "model", "data", "learning", "estimat", "regression",
]  # fmt: skip


def settings(**values: object) -> Settings:
    return parse_settings({"categories": ["cs.AI", "cs.LG"], "keywords": ["LLM"], **values})


def every_fixture_paper() -> list[Paper]:
    papers: list[Paper] = []
    for path in sorted((FIXTURES / "rss").glob("*.xml")):
        papers += parse_rss(path.read_bytes()).papers
    for path in sorted((FIXTURES / "api").glob("query_*entries.xml")):
        papers += parse_api(path.read_bytes()).papers
    papers += parse_oai(next((FIXTURES / "oai").glob("*.xml")).read_bytes()).papers
    return papers


def original_score(title: str, abstract: str, keywords: list[str]) -> float:
    """The original bot's formula, written out independently of arxiv_digest."""
    text = f"{title} {abstract}".lower()
    score = 0.0
    for keyword in keywords:
        if keyword.lower() in text:
            score += 1.0
    for keyword in keywords:
        if keyword.lower() in title.lower():
            score += 0.5
    return score


def test_substring_mode_reproduces_the_original_scores_on_every_fixture_paper() -> None:
    papers = every_fixture_paper()
    assert len(papers) > 700
    ranker = Ranker(
        parse_settings({"categories": ["cs"], "keywords": ORIGINAL_KEYWORDS, "match": "substring"})
    )
    compared = 0
    for paper in papers:
        expected = original_score(paper.title, paper.abstract, ORIGINAL_KEYWORDS)
        ranked = ranker.score(replace(paper, categories=("cs.AI",), primary_category="cs.AI"))
        if expected == 0:
            assert ranked is None
        else:
            assert ranked is not None and ranked.score == expected, paper.arxiv_id
            compared += 1
    assert compared > 500


def test_score_counts_each_keyword_once_plus_a_title_bonus(make_paper: MakePaper) -> None:
    ranker = Ranker(settings(keywords=["LLM", "RL", "agents"]))
    paper = make_paper(title="RL for LLM agents", abstract="LLM LLM LLM and RL.")
    ranked = ranker.score(paper)
    assert ranked is not None
    assert ranked.score == 4.5
    assert ranked.matched == ("LLM", "RL", "agents")


def test_weights_and_scoring_are_configurable(make_paper: MakePaper) -> None:
    ranker = Ranker(
        settings(
            keywords=[{"term": "LLM", "weight": 2}, "RL"],
            scoring={"keyword": 1, "title": 1},
        )
    )
    ranked = ranker.score(make_paper(title="LLM", abstract="RL"))
    assert ranked is not None and ranked.score == 5.0


def test_world_is_not_rl_and_coefficient_is_not_efficient(make_paper: MakePaper) -> None:
    ranker = Ranker(settings(keywords=["RL", "Efficient"]))
    paper = make_paper(title="A world model", abstract="An early coefficient estimate.")
    assert ranker.score(paper) is None
    legacy = Ranker(settings(keywords=["RL", "Efficient"], match="substring"))
    ranked = legacy.score(paper)
    assert ranked is not None and ranked.matched == ("RL", "Efficient")


def test_we_review_keeps_a_paper_but_a_review_title_drops_it(make_paper: MakePaper) -> None:
    ranker = Ranker(settings(exclude_keywords=["review"]))
    kept = make_paper(
        title="Faster LLM serving", abstract="We review prior LLM systems and go faster."
    )
    dropped = make_paper(title="LLM serving: a review", abstract="Everything about LLM serving.")
    assert ranker.score(kept) is not None
    assert ranker.score(dropped) is None
    everywhere = Ranker(settings(exclude_keywords=["review"], exclude_scope="all"))
    assert everywhere.score(kept) is None


def test_min_score_is_applied(make_paper: MakePaper) -> None:
    ranker = Ranker(settings(keywords=["LLM", "RL"], min_score=2.5))
    assert ranker.score(make_paper(title="x", abstract="LLM and RL")) is None
    assert ranker.score(make_paper(title="LLM", abstract="and RL")) is not None


def test_followed_author_always_makes_the_digest(make_paper: MakePaper) -> None:
    ranker = Ranker(settings(authors=["Jose Moura"], min_score=5, max_papers=1))
    theirs = make_paper(title="Survey of graphs", abstract="Nothing", authors=("José M. F. Moura",))
    other = make_paper(title="LLM LLM", abstract="LLM")
    top = make_paper(title="LLM", abstract="LLM", authors=("Someone",))
    ranked = ranker.rank([other, theirs, top])
    assert [r.paper for r in ranked] == [theirs]
    assert ranked[0].followed_authors == ("Jose Moura",)
    assert ranked[0].score == 10.0


def test_max_papers_and_deterministic_ties(make_paper: MakePaper) -> None:
    ranker = Ranker(settings(max_papers=3))
    older = make_paper(arxiv_id="2604.00001", abstract="LLM", announced=dt.date(2026, 4, 24))
    b = make_paper(arxiv_id="2604.00003", abstract="LLM")
    a = make_paper(arxiv_id="2604.00002", abstract="LLM")
    best = make_paper(arxiv_id="2604.00009", title="LLM", abstract="LLM")
    ranked = ranker.rank([older, b, a, best])
    assert [r.paper.arxiv_id for r in ranked] == ["2604.00009", "2604.00002", "2604.00003"]
    assert ranker.rank([best, a, b, older]) == ranked


def test_category_shown_is_primary_when_monitored_else_first_monitored(
    make_paper: MakePaper,
) -> None:
    monitored = ["cs.AI", "cs.LG"]
    lg = make_paper(primary_category="cs.LG", categories=("cs.LG", "cs.AI"))
    math = make_paper(
        primary_category="math.OC", categories=("math.OC", "stat.ML", "cs.LG", "cs.AI")
    )
    other = make_paper(primary_category="hep-th", categories=("hep-th",))
    assert display_category(lg, monitored) == "cs.LG"
    assert display_category(math, monitored) == "cs.LG"
    assert display_category(other, monitored) is None
    assert display_category(math, ["stat"]) == "stat.ML"


def test_cross_listed_paper_appears_once_and_is_never_dropped(make_paper: MakePaper) -> None:
    """The original's bug: cs.AI read first holds the cs.LG paper as ``cross``."""
    as_new = make_paper(
        arxiv_id="2604.21952",
        abstract="LLM",
        primary_category="cs.LG",
        categories=("cs.LG", "cs.AI"),
    )
    as_cross = replace(as_new, announce_type="cross")
    chosen = select_candidates([as_new, as_cross], settings())
    ranked = Ranker(settings()).rank(chosen)
    assert [(r.paper.arxiv_id, r.category) for r in ranked] == [("2604.21952", "cs.LG")]


def test_announce_types_and_unmonitored_papers_are_filtered(make_paper: MakePaper) -> None:
    new = make_paper(title="One")
    replaced = make_paper(title="Two", announce_type="replace")
    elsewhere = make_paper(primary_category="hep-th", categories=("hep-th",))
    assert select_candidates([new, replaced, elsewhere], settings()) == [new]
    both = settings(announce_types=["new", "replace"])
    assert select_candidates([new, replaced], both) == [new, replaced]


@pytest.mark.parametrize(
    ("methods", "kept"),
    [(["id", "title", "link"], 2), (["id"], 3), ([], 4)],
)
def test_deduplication_methods_are_honoured(
    make_paper: MakePaper, methods: list[str], kept: int
) -> None:
    first = make_paper(arxiv_id="2604.11111", title="Same  Title")
    version2 = make_paper(arxiv_id="2604.11111", version=2, title="Renamed", announce_type="new")
    retitled = make_paper(arxiv_id="2604.22222", title="same title")
    distinct = make_paper(arxiv_id="2604.33333", title="Other")
    config = settings(deduplication_methods=methods, enable_deduplication=bool(methods))
    assert len(select_candidates([first, version2, retitled, distinct], config)) == kept


def test_deduplication_can_be_switched_off(make_paper: MakePaper) -> None:
    paper = make_paper()
    assert len(select_candidates([paper, paper], settings(enable_deduplication=False))) == 2


def test_ranking_from_the_real_stat_feed() -> None:
    feed = parse_rss((FIXTURES / "rss/stat_2024-03-26.xml").read_bytes())
    config = parse_settings(
        {"categories": ["stat"], "keywords": ["Bayesian", "conformal"], "max_papers": 50}
    )
    ranked = Ranker(config).rank(select_candidates(feed.papers, config))
    assert ranked, "some of the 35 new stat papers mention these words"
    assert all(r.paper.announce_type == "new" for r in ranked)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert all(set(r.matched) <= {"Bayesian", "conformal"} and r.matched for r in ranked)


@pytest.mark.parametrize(
    "config",
    [
        {"keywords": ["LLM", "reasoning", "agents"], "authors": ["Jane Doe"]},
        {"keywords": [], "relevance": {"library": ["2401.00001"]}},  # library-only
        {"keywords": ["federated"], "relevance": {"weights": {"keywords": 2.0}}},
    ],
)
def test_a_papers_score_is_the_sum_of_its_signals_contributions(config: dict[str, object]) -> None:
    """What ``explain`` prints adds up to the score the digest shows."""
    from arxiv_digest.relevance.library import Library, LibraryPaper
    from tests.test_relevance import about_federated_learning, real_day

    papers = real_day()
    library = Library(
        tuple(
            LibraryPaper(f"arxiv:{p.arxiv_id}", p.title, p.abstract, p.authors[:2])
            for p in papers
            if about_federated_learning(p)
        )[:3]
    )
    ranker = Ranker(parse_settings({"categories": ["cs"], **config}), library)
    views = ranker.relevance.assess(papers) if ranker.relevance else [None] * len(papers)
    ranked = 0
    for paper, view in zip(papers, views, strict=True):
        scored = ranker.score(paper, view)
        if scored is None:
            continue
        ranked += 1
        total = sum(c.points for c in ranker.contributions(paper, view))
        assert scored.score == pytest.approx(total, abs=1e-5)
    assert ranked >= 4
