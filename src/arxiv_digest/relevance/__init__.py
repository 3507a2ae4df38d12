"""Relevance learned from the reader's own library: read it, compare each new paper with
it, explain the pick. Ranking (``rank.Ranker``) blends these signals with the keywords."""

from __future__ import annotations

from collections.abc import Sequence

from arxiv_digest.config import RelevanceSettings
from arxiv_digest.models import Paper
from arxiv_digest.relevance.library import Library, LibraryPaper
from arxiv_digest.relevance.scorer import Relevance, RelevanceScorer, explain

__all__ = ["Library", "LibraryPaper", "Relevance", "RelevanceScorer", "explain", "score_case"]


def score_case(profile: Sequence[LibraryPaper], candidates: Sequence[Paper]) -> list[float]:
    """The default blend's relevance of each candidate to a library (no keywords): what
    ``bench/relevance.py`` evaluates. Higher is more relevant."""
    scorer = RelevanceScorer(RelevanceSettings(), Library(tuple(profile)))
    return [scorer.points(r) + 1e-3 * r.similarity for r in scorer.assess(candidates)]
