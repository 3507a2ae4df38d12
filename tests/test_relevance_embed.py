"""Embedding models as a relevance signal: what they lift, where their vectors are kept, how
they fail. No model is downloaded: fastembed loads the offline MiniLM (``tests/minilm.py``),
``openai:`` embeddings come from the local OpenAI-compatible server (``tests/fakes.py``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest.config import RelevanceSettings, Settings
from arxiv_digest.errors import ConfigError
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.relevance import LibraryPaper, score_case
from arxiv_digest.relevance.embed import (
    CachedEmbedder,
    Matrix,
    MemoryVectors,
    check_embedder,
    make_embedder,
    normalised,
)
from arxiv_digest.relevance.library import Library, complete, read_library_files
from arxiv_digest.relevance.scorer import RelevanceScorer
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store
from tests.conftest import MakeSettings, run_once, run_refused_as_config_error, serve_feed
from tests.fakes import FakeLLM, Reply, hashed_embedding
from tests.minilm import MODEL_NAME, load_minilm, offline_minilm_dir
from tests.test_relevance import CATS, DATA, about_federated_learning, library_settings, real_day


class CountingEmbedder:
    """Bag-of-words vectors, counting the texts it is asked to embed."""

    name = "test:hashed"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.texts.extend(texts)
        return normalised([hashed_embedding(t) for t in texts])


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    load_minilm()  # registers the offline model with fastembed; nothing downloaded
    return offline_minilm_dir()


def test_with_minilm_a_federated_learning_library_still_lifts_the_days_federated_papers(
    minilm_dir: Path,
) -> None:
    papers = real_day()
    settings = library_settings(
        DATA,
        ["library-federated.csl.json"],
        relevance={
            "library": ["library-federated.csl.json"],
            "embedder": f"fastembed:{MODEL_NAME}",
            "model_path": str(minilm_dir),
        },
    )
    embedder = make_embedder(settings)
    assert embedder is not None and embedder.name == f"fastembed:{MODEL_NAME}"
    vectors = CachedEmbedder(embedder, MemoryVectors())
    library = complete(read_library_files(settings), {})
    candidates = select_candidates(papers, settings)
    ranked = Ranker(settings, library, vectors=vectors).rank(candidates)
    top = [r.paper for r in ranked]
    assert all(map(about_federated_learning, top[:4]))
    assert sum(map(about_federated_learning, top[:8])) >= 5
    assert ranked[0].why == "close to your library on federated learning"
    assert vectors.embedded == len(candidates) + len(library.papers)
    Ranker(settings, library, vectors=vectors).rank(candidates)
    assert vectors.embedded == len(candidates) + len(library.papers)  # all from the cache


def test_vectors_are_kept_per_key_and_embedder(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        a = np.array([0.6, 0.8], dtype=np.float32)
        store.save_vectors({"arxiv:2401.00001v1": a}, "fastembed:x")
        store.save_vectors({"arxiv:2401.00001v1": a[::-1].copy()}, "openai:y")
        found = store.cached_vectors(["arxiv:2401.00001v1", "arxiv:2401.00002v1"], "fastembed:x")
        assert list(found) == ["arxiv:2401.00001v1"]
        assert found["arxiv:2401.00001v1"].dtype == np.float32
        np.testing.assert_array_equal(found["arxiv:2401.00001v1"], a)
        other = store.cached_vectors(["arxiv:2401.00001v1"], "openai:y")
        np.testing.assert_array_equal(other["arxiv:2401.00001v1"], a[::-1])


def test_score_case_takes_an_embedder_and_embeds_each_text_once() -> None:
    papers = real_day()
    profile = [
        LibraryPaper(f"arxiv:{p.arxiv_id}", p.title, p.abstract, (), p.arxiv_id)
        for p in papers
        if about_federated_learning(p)
    ][:2]
    candidates = [p for p in papers if p.arxiv_id not in {x.arxiv_id for x in profile}]
    embedder = CountingEmbedder()
    scores = score_case(profile, candidates, embedder=embedder)
    assert len(scores) == len(candidates)
    assert len(embedder.texts) == len(set(embedder.texts)) == len(candidates) + len(profile)
    assert score_case(profile, candidates) != scores  # the model counts


def _embedding_settings(
    make_settings: MakeSettings, llm: FakeLLM, tmp_path: Path, httpserver: HTTPServer, **extra: Any
) -> tuple[Settings, str]:
    serve_feed(httpserver, CATS, extra.pop("feed"))
    day = parse_rss(extra.pop("feed_bytes")).papers
    liked = next(p for p in day if "reasoning" in p.title.lower())
    (tmp_path / "library.bib").write_text(
        f"@article{{x, title={{{liked.title}}}, abstract={{{liked.abstract}}}}}\n",
        encoding="utf-8",
    )
    settings = make_settings(
        keywords=["LLM"],
        relevance={"library": ["library.bib"], "embedder": "openai:test-embed"},
        ai_summary={"base_url": llm.base_url, "retries": 1},
        **extra,
    )
    return settings, liked.title


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_openai_embeddings_through_the_endpoint_and_a_rerun_embeds_nothing(
    request: pytest.FixtureRequest,
    database: str,
    *,
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    combined_feed: bytes,
    llm: FakeLLM,
    tmp_path: Path,
) -> None:
    extra: dict[str, Any] = {"feed": combined_feed, "feed_bytes": combined_feed}
    if database == "postgresql":
        extra["store"] = {"url": request.getfixturevalue("pg_url")}
    settings, liked = _embedding_settings(make_settings, llm, tmp_path, httpserver, **extra)
    run_once(settings)
    first = llm.embedded_texts
    assert first and all(c.body["model"] == "test-embed" for c in llm.embedding_calls)
    assert any(t.startswith(liked) for t in first)  # the library paper, then the day's
    readme = settings.output.readme.read_text(encoding="utf-8")
    assert "**Why**: similar to “" in readme
    calls = len(llm.embedding_calls)
    run_once(settings)
    assert len(llm.embedding_calls) == calls  # every vector came from the store
    assert (
        settings.output.readme.read_text(encoding="utf-8").split("\n", 3)[3:]
        == (readme.split("\n", 3)[3:])
    )


def test_a_failing_model_is_a_warning_and_the_words_rank_alone(
    *,
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    combined_feed: bytes,
    llm: FakeLLM,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    llm.reply_for = lambda body: Reply(status=500)
    settings, _ = _embedding_settings(
        make_settings, llm, tmp_path, httpserver, feed=combined_feed, feed_bytes=combined_feed
    )
    with caplog.at_level(logging.WARNING):
        run_once(settings)
    assert len(llm.embedding_calls) == 2  # one try and the one retry, then given up
    assert "relevance.embedder openai:test-embed failed" in caplog.text
    assert "word statistics only" in caplog.text
    readme = settings.output.readme.read_text(encoding="utf-8")
    assert "**Why**: similar to “" in readme  # ranked, by the words
    with Store(settings.store.url) as store:
        assert (store.last_run() or {}).get("status") == "ok"


def test_without_fastembed_the_embedder_is_a_config_error_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)  # as if not installed
    (tmp_path / "lib.bib").write_text("@article{a, title={T}, abstract={A.}}\n", encoding="utf-8")
    config = {
        "categories": ["cs.AI"],
        "relevance": {"library": ["lib.bib"], "embedder": "fastembed:BAAI/bge-small-en-v1.5"},
    }
    output = run_refused_as_config_error(tmp_path, config)
    assert "relevance.embedder" in output and "pip install 'arxiv-digest[fastembed]'" in output


def test_openai_embeddings_without_a_key_are_a_config_error(tmp_path: Path) -> None:
    settings = library_settings(
        tmp_path,
        [],
        relevance={"library": ["x.bib"], "embedder": "openai:text-embedding-3-small"},
        ai_summary={"api_key_env": "ARXIV_DIGEST_TEST_NO_SUCH_KEY"},
    )
    with pytest.raises(ConfigError, match=r"relevance\.embedder: .*ARXIV_DIGEST_TEST_NO_SUCH_KEY"):
        check_embedder(settings)


def test_tfidf_needs_no_model() -> None:
    settings = library_settings(DATA, ["library-federated.csl.json"])
    assert make_embedder(settings) is None
    check_embedder(settings)


class ResizedEmbedder(CountingEmbedder):
    """The same name as CountingEmbedder, vectors of another size: a model swapped."""

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.texts.extend(texts)
        return normalised([hashed_embedding(t, dim=48) for t in texts])


def test_a_model_swapped_under_the_same_name_is_embedded_again_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The library's vectors were stored by the former model, the day's are new: the model
    embeds both again (a warning says why) and ranks with the model, this run and next."""
    papers = real_day()
    library = [p for p in papers if about_federated_learning(p)][:2]
    profile = [
        LibraryPaper(f"arxiv:{p.arxiv_id}", p.title, p.abstract, (), p.arxiv_id) for p in library
    ]
    candidates = [p for p in papers if p not in library]
    cache = MemoryVectors()
    settings = RelevanceSettings()
    former = CachedEmbedder(CountingEmbedder(), cache)
    RelevanceScorer(settings, Library(tuple(profile)), former).assess(candidates[:1])
    swapped = ResizedEmbedder()
    with caplog.at_level(logging.WARNING):
        scorer = RelevanceScorer(settings, Library(tuple(profile)), CachedEmbedder(swapped, cache))
        scorer.assess(candidates)
    assert any("embedding these texts again" in r.getMessage() for r in caplog.records)
    assert not any("word statistics only" in r.getMessage() for r in caplog.records)
    assert scorer.vectors is not None  # the model still counts
    embedded = len(swapped.texts)
    again = RelevanceScorer(settings, Library(tuple(profile)), CachedEmbedder(swapped, cache))
    again.assess(candidates)
    assert len(swapped.texts) == embedded  # nothing stale is left: the next run embeds nothing
