"""What the library's signals saw, signal by signal, for ``arxiv-digest explain``: the
points :meth:`RelevanceScorer.points` adds up, each with one line of detail."""

from __future__ import annotations

import math

from arxiv_digest.models import Contribution
from arxiv_digest.relevance.authors import CLOSE_CONTENT, Match, NameRates
from arxiv_digest.relevance.scorer import Relevance, RelevanceScorer


def contributions(scorer: RelevanceScorer, relevance: Relevance) -> list[Contribution]:
    """``scorer.points(relevance)``, signal by signal, with what each saw."""
    weights = scorer.settings.weights
    found = [
        Contribution(
            "similarity",
            weights.similarity * max(relevance.similarity, 0.0),
            _similarity_detail(relevance),
        )
    ]
    for match in relevance.matches:
        points = weights.library_authors * (1 + math.log2(match.papers))
        counted = points if match.corroborated else 0.0
        found.append(
            Contribution("library authors", counted, _match_detail(scorer.rates, match, relevance))
        )
    if relevance.taste is not None:
        found.append(
            Contribution(
                "ratings model",
                weights.ratings * relevance.taste,
                f"{relevance.taste:+.2f} SD: like the papers you rated 👍"
                if relevance.taste >= 0
                else f"{relevance.taste:+.2f} SD: like the papers you rated 👎",
            )
        )
    fit = relevance.category_fit
    where = (
        "filed where more of your library is than of today's papers"
        if fit > 0
        else "filed where less of your library is than of today's papers"
        if fit < 0
        else "says nothing (under 3 library papers with a known category, or one category today)"
    )
    found.append(Contribution("category fit", weights.categories * fit, f"{fit:+.2f} SD: {where}"))
    return found


def _match_detail(rates: NameRates, match: Match, relevance: Relevance) -> str:
    papers = f"{match.papers} library paper{'s' if match.papers != 1 else ''}"
    said = {
        "co-author": f"with {match.coauthor}, a co-author of theirs in your library",
        "content": f"the paper is close to your library ({relevance.similarity:+.2f} SD)",
        "rare": f"a rare name ({_rate(rates, match.name)} in the store)",
    }
    if match.corroborated:
        return f"{match.name} ({papers}): counted, {said[match.evidence]}"
    return (
        f"{match.name} ({papers}): not counted, nothing says it is the same person (no "
        f"co-author of theirs; similarity {relevance.similarity:+.2f} SD, below "
        f"{CLOSE_CONTENT:.1f}; {_rate(rates, match.name)} in the store)"
    )


def _rate(rates: NameRates, name: str) -> str:
    rate = rates.rate(name)
    return "no count" if rate is None else f"{rate:.1f} papers a month"


MEASURES = {
    "bm25": "BM25",
    "mean": "mean cosine",
    "nearest": "nearest paper and its topic",
    "model mean": "model's mean cosine",
    "model nearest": "model's nearest paper and topic",
}


def _similarity_detail(relevance: Relevance) -> str:
    if relevance.in_library:
        return f"this paper is in your library ({relevance.in_library})"
    if relevance.by_theme:
        on = f" on {relevance.theme}" if relevance.theme else ""
        closest = f"close to your library{on} (a topic of {relevance.topic_papers} papers)"
    else:
        closest = f"nearest paper “{relevance.similar_to}” (cosine {relevance.cosine:.2f})"
    parts = ", ".join(f"{MEASURES.get(k, k)} {v:+.2f}" for k, v in relevance.measures)
    return f"{relevance.similarity:+.2f} SD from the day's average; {closest}" + (
        f" ({parts})" if parts else ""
    )
