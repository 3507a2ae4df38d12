"""Relevance learned from the reader's own library: read it, compare each new paper with
it, explain the pick. Ranking (``rank.Ranker``) blends these signals with the keywords."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from arxiv_digest.config import RelevanceSettings
from arxiv_digest.models import Paper
from arxiv_digest.relevance.embed import CachedEmbedder, Embedder, MemoryVectors
from arxiv_digest.relevance.library import Library, LibraryPaper, from_paper
from arxiv_digest.relevance.scorer import Relevance, RelevanceScorer, explain
from arxiv_digest.relevance.similarity import document

__all__ = [
    "Embedder",
    "Library",
    "LibraryPaper",
    "Relevance",
    "RelevanceScorer",
    "explain",
    "score_case",
]


def score_case(
    profile: Sequence[LibraryPaper],
    candidates: Sequence[Paper],
    *,
    ratings: Mapping[str, int] | None = None,
    embedder: Embedder | None = None,
    settings: RelevanceSettings | None = None,
) -> list[float]:
    """The default blend's relevance of each candidate to a library (no keywords): what
    ``bench/relevance.py`` evaluates. Higher is more relevant.

    ``ratings`` (arXiv id -> +1/-1) act as in a run: a 👍 paper joins the library, a 👎
    paper goes to the bottom, and enough of them teach the ratings model. ``embedder`` adds
    a model's similarity as ``relevance.embedder`` does (vectors kept in memory).
    ``settings`` replace the default ``relevance`` settings (weights, ``min_ratings``).
    """
    ratings = ratings or {}
    liked = tuple(from_paper(p, "rated up") for p in candidates if ratings.get(p.arxiv_id, 0) > 0)
    rated = tuple(
        (document(p.title, p.abstract), ratings[p.arxiv_id])
        for p in candidates
        if ratings.get(p.arxiv_id, 0)
    )
    vectors = CachedEmbedder(embedder, MemoryVectors()) if embedder is not None else None
    library = Library((*profile, *liked), rated=rated)
    scorer = RelevanceScorer(settings or RelevanceSettings(), library, vectors)
    scores = [scorer.points(r) + 1e-3 * r.similarity for r in scorer.assess(candidates)]
    return [
        -1e9 if ratings.get(p.arxiv_id, 0) < 0 else score
        for p, score in zip(candidates, scores, strict=True)
    ]
