"""Why a paper has its place in today's digest: ``arxiv-digest explain ID``.

The day is ranked again as the run ranked it (the same candidates, library, ratings and
settings; the vectors and LLM judgements the store holds), and the paper's score is taken
apart signal by signal (:meth:`arxiv_digest.rank.Ranker.contributions`): similarity to the
library's theme or to one library paper, each author found in the library and whether
anything says it is the same person, category fit, keywords, the ratings model, followed
authors and the LLM triage, each with its points and the setting that weighs it. Its place
in the published digest comes from the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import Contribution, Paper, RankedPaper
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.relevance import Relevance
from arxiv_digest.relevance.embed import make_vectors
from arxiv_digest.relevance.resolve import load_library
from arxiv_digest.relevance.triage import NEUTRAL, interests_hash
from arxiv_digest.sources.text import split_arxiv_id, tex_as_text
from arxiv_digest.store import Store

SETTINGS = {  # which setting weighs each signal
    "keywords": "keywords, scoring.keyword/title (× relevance.weights.keywords)",
    "similarity": "relevance.weights.similarity",
    "library authors": "relevance.weights.library_authors",
    "category fit": "relevance.weights.categories",
    "ratings model": "relevance.weights.ratings",
    "followed authors": "authors, scoring.author",
    "LLM triage": "relevance.triage.weight",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    paper: Paper
    day: dt.date | None  # the digest's announcement day
    place: int | None  # 1-based place in that digest; None when it is not in it
    shown: RankedPaper | None  # the paper as the digest shows it
    digest: tuple[RankedPaper, ...]  # the digest
    contributions: tuple[Contribution, ...]
    admitted: bool  # enough, on its own, to be a candidate for the digest
    notes: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(c.points for c in self.contributions)


def explain_paper(
    settings: Settings, store: Store, client: httpx2.Client, raw_id: str
) -> Explanation:
    """The signals behind ``raw_id``'s place in the latest digest (ConfigError when the id
    is not an arXiv id or the paper is not among that digest's candidates)."""
    try:
        arxiv_id, _ = split_arxiv_id(raw_id)
    except ValueError:
        raise ConfigError(f"not an arXiv identifier: {raw_id!r}") from None
    published = store.published_runs()
    day = published[0][0] if published else store.latest_announcement()
    if day is None:
        raise ConfigError("the store has no announcements yet: run arxiv-digest first")
    digest = store.ranking(published[0][1]) if published else []
    first = day - dt.timedelta(days=settings.days_back - 1)
    candidates = select_candidates(store.announced_between(first, day), settings)
    paper = next((p for p in candidates if p.arxiv_id == arxiv_id), None)
    if paper is None:
        raise ConfigError(
            f"{arxiv_id} is not among the {len(candidates)} candidates of the digest of "
            f"{day.isoformat()} (announced in the monitored categories from "
            f"{first.isoformat()} on)"
        )
    library = load_library(settings, store, client) if settings.relevance is not None else None
    vectors = make_vectors(settings, store) if library is not None else None
    try:
        ranker = Ranker(settings, library, vectors=vectors)
        view = _view(ranker, candidates, paper)
    finally:
        if vectors is not None:
            vectors.close()
    found = [*ranker.contributions(paper, view), *_triage(settings, store, paper)]
    notes = []
    rating = store.rating(arxiv_id)
    if rating is not None:
        notes.append(
            "you rated it 👍: it is part of your library"
            if rating.value > 0
            else "you rated it 👎: it is never shown"
        )
    place = next((i for i, r in enumerate(digest, 1) if r.paper.arxiv_id == arxiv_id), None)
    return Explanation(
        paper=paper,
        day=day,
        place=place,
        shown=digest[place - 1] if place else None,
        digest=tuple(digest),
        contributions=tuple(found),
        admitted=ranker.score(paper, view) is not None,
        notes=tuple(notes),
    )


def _view(ranker: Ranker, candidates: list[Paper], paper: Paper) -> Relevance | None:
    """The library's view of ``paper`` among the day's candidates, as :meth:`Ranker.rank`
    computes it (a similarity is relative to the whole day)."""
    scorer = ranker.relevance
    if scorer is None or paper.arxiv_id in scorer.rated_down:
        return None
    day = [p for p in candidates if p.arxiv_id not in scorer.rated_down]
    views = scorer.assess(day)
    return next(v for p, v in zip(day, views, strict=True) if p.arxiv_id == paper.arxiv_id)


def _triage(settings: Settings, store: Store, paper: Paper) -> list[Contribution]:
    relevance = settings.relevance
    if relevance is None or not relevance.triage.enabled:
        return []
    model = relevance.triage.model or settings.ai_summary.model
    asked = interests_hash(relevance.interests or "")
    key = (paper.arxiv_id, paper.version)
    judgement = store.cached_triage([key], model, asked).get(key)
    if judgement is None:
        return [Contribution("LLM triage", 0.0, "not judged (only the top_k papers are)")]
    points = relevance.triage.weight * (judgement.score - NEUTRAL)
    return [Contribution("LLM triage", points, f"{judgement.score}/10: {judgement.reason}")]


def render(explanation: Explanation) -> str:
    """The explanation as lines of plain text."""
    e = explanation
    paper = e.paper
    lines = [f"{paper.versioned_id}: {tex_as_text(paper.title)}"]
    day = e.day.isoformat() if e.day else "?"
    if e.shown is not None and e.place is not None:
        lines.append(
            f"In the digest of {day}: #{e.place} of {len(e.digest)}, score {e.shown.score:.1f}"
        )
        if e.shown.why:
            lines.append(f"Why: {tex_as_text(e.shown.why)}")
    elif e.admitted:
        below = (
            f": its {e.total:.1f} points rank it below the {len(e.digest)} papers shown (the "
            f"last one scored {e.digest[-1].score:.1f})"
            if e.digest
            else " (no digest of that day is published yet)"
        )
        lines.append(f"Not in the digest of {day}{below}")
    else:
        lines.append(
            f"Not in the digest of {day}: no keyword, no followed author, no corroborated "
            "library author, and a similarity below relevance.min_similarity (or excluded)"
        )
    lines.append("")
    width = max(len(c.signal) for c in e.contributions) if e.contributions else 8
    for c in e.contributions:
        lines.append(f"  {c.signal:<{width}}  {c.points:+6.1f}  {tex_as_text(c.detail)}")
    lines.append(f"  {'total':<{width}}  {e.total:+6.1f}")
    lines += [f"Note: {note}" for note in e.notes]
    weighed = dict.fromkeys(SETTINGS[c.signal] for c in e.contributions if c.signal in SETTINGS)
    lines.append("")
    lines.append("Settings that weigh these: " + "; ".join(weighed))
    return "\n".join(lines)
