"""Choosing and ordering the digest's papers. Pure functions: no database, no network.

1. :func:`select_candidates` keeps the wanted announcement types in monitored categories
   and drops repeats (``deduplication_methods``).
2. :class:`Ranker` scores each candidate: per keyword found in title+abstract
   ``scoring.keyword`` points, plus ``scoring.title`` if it is in the title (both times the
   keyword's weight), plus ``scoring.author`` per followed author. A paper needs a keyword
   or a followed author, no exclude keyword, and ``min_score``; a followed author's paper is
   always kept. Ties are broken by newer announcement, then arXiv id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from arxiv_digest.config import Settings
from arxiv_digest.match import Matcher
from arxiv_digest.models import Contribution, Paper, RankedPaper, digest_order, is_monitored
from arxiv_digest.relevance.embed import CachedEmbedder
from arxiv_digest.relevance.library import Library
from arxiv_digest.relevance.reasons import contributions as library_contributions
from arxiv_digest.relevance.scorer import Relevance, RelevanceScorer, explain

__all__ = ["Ranker", "digest_order", "display_category", "keep_best", "select_candidates"]


def display_category(paper: Paper, monitored: Collection[str]) -> str | None:
    """The primary category when monitored, else the first monitored one listed."""
    if is_monitored(paper.primary_category, monitored):
        return paper.primary_category
    return next((c for c in paper.categories if is_monitored(c, monitored)), None)


def _title_key(title: str) -> str:
    return " ".join(title.casefold().split())


def select_candidates(papers: Iterable[Paper], settings: Settings) -> list[Paper]:
    """Papers of the wanted announce types in monitored categories, without repeats.

    ``papers`` should come newest first: of two copies of a paper, the first is kept.
    """
    wanted_types = set(settings.announce_types)
    monitored = frozenset(settings.categories)
    methods = set(settings.deduplication_methods) if settings.enable_deduplication else set()
    seen: set[tuple[str, str]] = set()
    kept: list[Paper] = []
    for paper in papers:
        if paper.announce_type not in wanted_types:
            continue
        if display_category(paper, monitored) is None:
            continue
        if not methods:
            kept.append(paper)
            continue
        keys = {
            ("id", paper.arxiv_id),
            ("title", _title_key(paper.title)),
            ("link", paper.abs_url),
        }
        keys = {k for k in keys if k[0] in methods}
        if keys & seen:
            continue
        seen |= keys
        kept.append(paper)
    return kept


def _name_words(name: str) -> tuple[str, ...]:
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(re.findall(r"\w+", plain.casefold()))


@dataclass(frozen=True, slots=True)
class _Author:
    name: str
    words: tuple[str, ...]

    def matches(self, other: tuple[str, ...]) -> bool:
        """Same name ignoring case, accents and punctuation; "First Last" skips middle names."""
        if self.words == other:
            return True
        return (
            len(self.words) == 2
            and len(other) > 2
            and (self.words[0] == other[0] and self.words[-1] == other[-1])
        )


class Ranker:
    """Scores papers against one config; build it once, use it for many papers."""

    def __init__(
        self,
        settings: Settings,
        library: Library | None = None,
        *,
        vectors: CachedEmbedder | None = None,
    ) -> None:
        self.settings = settings
        self.monitored = frozenset(settings.categories)
        mode = settings.match
        self.keywords = Matcher(settings.keyword_terms, mode)
        self.weights = [k.weight for k in settings.keywords]
        self.excludes = Matcher(settings.exclude_keywords, mode)
        scope = settings.exclude_scope or ("all" if mode == "substring" else "title")
        self.exclude_title_only = scope == "title"
        self.authors = [_Author(a, _name_words(a)) for a in settings.authors]
        self.relevance = (
            RelevanceScorer(settings.relevance, library, vectors)
            if settings.relevance is not None and library is not None
            else None
        )

    def _followed(self, paper: Paper) -> tuple[str, ...]:
        if not self.authors:
            return ()
        names = [_name_words(a) for a in paper.authors]
        return tuple(a.name for a in self.authors if any(a.matches(n) for n in names))

    def _excluded(self, paper: Paper, full_text: str) -> bool:
        if not self.excludes.terms:
            return False
        text = paper.title if self.exclude_title_only else full_text
        return bool(self.excludes.found(self.excludes.prepare(text)))

    def score(self, paper: Paper, relevance: Relevance | None = None) -> RankedPaper | None:
        """The paper ranked, or None when it does not belong in the digest.

        ``relevance`` is the library's view of the paper (:meth:`rank` computes it for the
        whole day at once); without a library it is None and only keywords count.
        """
        category = display_category(paper, self.monitored)
        if category is None:
            return None
        followed = self._followed(paper)
        full_text = f"{paper.title} {paper.abstract}"
        in_text = self.keywords.found(self.keywords.prepare(full_text))
        library = self.relevance if relevance is not None else None
        admitted = library is not None and relevance is not None and library.admits(relevance)
        if not in_text and not followed and not admitted:
            return None
        if not followed and self._excluded(paper, full_text):
            return None
        in_title = (
            set(self.keywords.found(self.keywords.prepare(paper.title))) if in_text else set()
        )
        scoring = self.settings.scoring
        score = sum(self.weights[i] * scoring.keyword for i in in_text)
        score += sum(self.weights[i] * scoring.title for i in in_title)
        if library is not None and relevance is not None:
            score = library.settings.weights.keywords * score + library.points(relevance)
        score += scoring.author * len(followed)
        if not followed and score < self.settings.min_score:
            return None
        matched = tuple(self.keywords.terms[i] for i in in_text)
        why = explain(relevance, library, matched, followed)
        return RankedPaper(paper, round(score, 6), matched, category, followed, why)

    def contributions(self, paper: Paper, relevance: Relevance | None = None) -> list[Contribution]:
        """What each signal adds to the paper's score (their sum is :meth:`score`'s when the
        paper is admitted), whether or not it is admitted: ``arxiv-digest explain``."""
        scoring = self.settings.scoring
        in_text = self.keywords.found(self.keywords.prepare(f"{paper.title} {paper.abstract}"))
        in_title = set(self.keywords.found(self.keywords.prepare(paper.title)))
        library = self.relevance if relevance is not None else None
        scale = library.settings.weights.keywords if library is not None else 1.0
        found = []
        for i in in_text:
            points = self.weights[i] * (scoring.keyword + (scoring.title if i in in_title else 0))
            where = "title and abstract" if i in in_title else "abstract"
            found.append(
                Contribution("keywords", scale * points, f"{self.keywords.terms[i]} ({where})")
            )
        if not in_text:
            said = "none matched" if self.keywords.terms else "no keywords in the config"
            found.append(Contribution("keywords", 0.0, said))
        if library is not None and relevance is not None:
            found += library_contributions(library, relevance)
        found += [
            Contribution("followed authors", scoring.author, f"{name} (authors in the config)")
            for name in self._followed(paper)
        ]
        return found

    def rank(self, papers: Iterable[Paper], *, limit: int | None = None) -> list[RankedPaper]:
        """The digest: at most ``max_papers`` (or ``limit``) papers, plus any followed
        author's paper."""
        papers = list(papers)
        if self.relevance is not None and self.relevance.rated_down:
            papers = [p for p in papers if p.arxiv_id not in self.relevance.rated_down]
        views: list[Relevance | None] = (
            list(self.relevance.assess(papers)) if self.relevance else [None] * len(papers)
        )
        scored = [
            r
            for r in (self.score(p, v) for p, v in zip(papers, views, strict=True))
            if r is not None
        ]
        return keep_best(scored, self.settings.max_papers if limit is None else limit)


def keep_best(ranked: Iterable[RankedPaper], limit: int) -> list[RankedPaper]:
    """The ``limit`` best papers in digest order, every followed author's paper included."""
    ordered = sorted(ranked, key=digest_order)
    followed = [r for r in ordered if r.followed_authors]
    room = max(limit - len(followed), 0)
    others = [r for r in ordered if not r.followed_authors][:room]
    return sorted(followed + others, key=digest_order)
