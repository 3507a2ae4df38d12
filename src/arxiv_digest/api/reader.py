"""What the JSON API and the MCP server read and write, over the store only.

One :class:`Reader` answers both, so ``/api/v1/`` and the MCP tools give the same papers,
summaries, ratings and search results. Nothing here reaches the network: no arXiv, no LLM.
Parameters arrive checked (:mod:`arxiv_digest.api.params`); a missing digest or paper is
``None``, for the caller to say so in its own way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from arxiv_digest.api.models import (
    DigestDay,
    DigestList,
    DigestPaper,
    DigestSummary,
    Listing,
    PaperDetail,
    RatingCleared,
    RatingList,
    RatingOut,
    SearchResults,
    SummaryOut,
)
from arxiv_digest.api.params import search_parameter
from arxiv_digest.config import Settings
from arxiv_digest.errors import SearchError
from arxiv_digest.models import RATING_VALUES, Paper, RankedPaper, Rating
from arxiv_digest.store import Store
from arxiv_digest.store.lookups import Listing as StoredListing
from arxiv_digest.store.lookups import (
    PublishedDay,
    StoredSummary,
    listings,
    papers_titled,
    published_days,
    stored_summaries,
)
from arxiv_digest.web.search import SearchRequest, page_json

__all__ = ["Explanation", "Reader", "Reason"]

Clock = Callable[[], dt.datetime]
LIKED_SHOWN = 5  # papers rated 👍 named behind "like papers you rated 👍"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of a why line, with the stored papers it points at."""

    text: str
    papers: tuple[Paper, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a paper was picked, from what the store recorded when it was."""

    paper: Paper
    listing: Listing | None  # its latest published listing; None if never listed
    reasons: tuple[Reason, ...]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Reader:
    """The store, as the API and the MCP server show it."""

    def __init__(self, settings: Settings, store: Store, *, clock: Clock = _utc_now) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock

    # digests

    def digests(self, *, page: int, limit: int) -> DigestList:
        days = published_days(self.store)
        start = (page - 1) * limit
        shown = days[start : start + limit]

        def link(number: int) -> str:
            query = {"limit": str(limit), **({"page": str(number)} if number > 1 else {})}
            return f"digests?{urlencode(query)}"

        return DigestList(
            digests=[self._day_summary(day) for day in shown],
            total=len(days),
            offset=start,
            limit=limit,
            previous=link(page - 1) if page > 1 else None,
            next=link(page + 1) if start + limit < len(days) else None,
        )

    @staticmethod
    def _day_summary(day: PublishedDay) -> DigestSummary:
        return DigestSummary(
            date=day.date,
            updated_at=day.updated_at,
            papers=day.papers,
            api=f"digests/{day.date.isoformat()}",
        )

    def digest(self, date: dt.date | None = None) -> DigestDay | None:
        """The digest of ``date``, or the latest one; None when there is none."""
        days = published_days(self.store)
        index = next(
            (i for i, d in enumerate(days) if date is None or d.date == date),
            None,
        )
        if index is None:
            return None
        day = days[index]
        ranked = self.store.ranking(day.run_id)
        summaries = stored_summaries(self.store, [_key(r.paper) for r in ranked])
        ratings = {r.arxiv_id: r.value for r in self.store.ratings()}
        return DigestDay(
            date=day.date,
            updated_at=day.updated_at,
            papers=[
                self._digest_paper(rank, r, summaries.get(_key(r.paper)), ratings)
                for rank, r in enumerate(ranked, start=1)
            ],
            newer=days[index - 1].date.isoformat() if index > 0 else None,
            older=days[index + 1].date.isoformat() if index + 1 < len(days) else None,
        )

    def _digest_paper(
        self,
        rank: int,
        ranked: RankedPaper,
        summary: StoredSummary | None,
        ratings: Mapping[str, int],
    ) -> DigestPaper:
        paper = ranked.paper
        rating = ratings.get(paper.arxiv_id)
        return DigestPaper(
            rank=rank,
            arxiv_id=paper.arxiv_id,
            version=paper.version,
            title=paper.title,
            authors=list(paper.authors),
            primary_category=paper.primary_category,
            categories=list(paper.categories),
            category=ranked.category,
            announced=paper.announced,
            score=round(ranked.score, 4),
            matched=list(ranked.matched),
            why=ranked.why,
            summary=_summary(summary),
            rating="up" if rating == 1 else "down" if rating == -1 else None,
            url=paper.abs_url,
            pdf_url=self.pdf_url(paper),
            api=f"papers/{paper.versioned_id}",
        )

    def pdf_url(self, paper: Paper) -> str:
        return f"{self.settings.arxiv.pdf_url}/{paper.versioned_id}"

    # papers

    def paper(self, arxiv_id: str, version: int = 0) -> PaperDetail | None:
        paper = self.store.paper(arxiv_id, version)
        if paper is None:
            return None
        summary = stored_summaries(self.store, [_key(paper)]).get(_key(paper))
        rating = self.store.rating(arxiv_id)
        return PaperDetail(
            arxiv_id=paper.arxiv_id,
            version=paper.version,
            versioned_id=paper.versioned_id,
            title=paper.title,
            authors=list(paper.authors),
            abstract=paper.abstract,
            primary_category=paper.primary_category,
            categories=list(paper.categories),
            announce_type=paper.announce_type,
            announced=paper.announced,
            url=paper.abs_url,
            pdf_url=self.pdf_url(paper),
            summary=_summary(summary),
            digests=[_listing(listing) for listing in listings(self.store, arxiv_id)],
            rating=_rating(rating) if rating else None,
        )

    def explain(self, arxiv_id: str) -> Explanation | None:
        """The paper's latest listing and its why line, each reason with the stored papers
        behind it: the library paper it is "similar to", the papers rated 👍 it is "like"."""
        paper = self.store.paper(arxiv_id)
        if paper is None:
            return None
        listed = listings(self.store, arxiv_id)
        if not listed:
            return Explanation(paper, None, ())
        latest = _listing(listed[0])
        reasons = tuple(self._reason(text) for text in latest.why.split("; ") if text)
        return Explanation(paper, latest, reasons)

    def _reason(self, text: str) -> Reason:
        if text.startswith("similar to “") and text.endswith("”"):
            title = text.removeprefix("similar to “").removesuffix("”")
            return Reason(text, tuple(papers_titled(self.store, title)))
        if text == "like papers you rated 👍":
            liked = [r.arxiv_id for r in self.store.ratings() if r.value > 0][:LIKED_SHOWN]
            found = self.store.latest_papers(liked)
            return Reason(text, tuple(found[i] for i in liked if i in found))
        return Reason(text)

    # search

    def search(self, query: Mapping[str, str], *, path: str = "search") -> SearchResults:
        """The search of ``/search.json``, with its parameters and its answer's shape;
        page links relative to ``path``. Raises :class:`BadParameter`."""
        try:
            wanted = SearchRequest.parse(query)
            if not wanted.query:
                raise SearchError("q is required: the words to search for")
            found = wanted.run(self.store)
        except SearchError as exc:
            raise search_parameter(exc) from None
        links = {
            "previous": wanted.link(path, wanted.page - 1) if wanted.page > 1 else None,
            "next": wanted.link(path, wanted.page + 1) if found.has_next else None,
        }
        return SearchResults.model_validate(page_json(found, links))

    # ratings

    def ratings(self) -> RatingList:
        return RatingList(ratings=[_rating(r) for r in self.store.ratings()])

    def rate(self, arxiv_id: str, vote: str, source: str) -> RatingOut | RatingCleared:
        """Record ``up`` or ``down`` for a paper (any version), or ``clear`` its rating."""
        if vote == "clear":
            cleared = self.store.clear_rating(arxiv_id)
            return RatingCleared(arxiv_id=arxiv_id, rating=None, cleared=cleared)
        return _rating(self.store.rate(arxiv_id, RATING_VALUES[vote], source, self.clock()))


def _key(paper: Paper) -> tuple[str, int]:
    return (paper.arxiv_id, paper.version)


def _summary(stored: StoredSummary | None) -> SummaryOut | None:
    if stored is None:
        return None
    summary = stored.summary
    return SummaryOut(
        text=summary.text,
        model=summary.model,
        prompt_hash=stored.prompt_hash,
        input=summary.input_mode,
        note=summary.note,
        created_at=stored.created_at,
    )


def _listing(listing: StoredListing) -> Listing:
    return Listing(
        date=listing.date,
        rank=listing.rank,
        version=listing.version,
        score=round(listing.score, 4),
        category=listing.category,
        matched=list(listing.matched),
        why=listing.why,
    )


def _rating(rating: Rating) -> RatingOut:
    return RatingOut(
        arxiv_id=rating.arxiv_id,
        rating="up" if rating.value > 0 else "down",
        value=1 if rating.value > 0 else -1,
        rated_at=rating.rated_at,
        source=rating.source,
    )
