"""What the site, the feeds and the service show, read from the store in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from arxiv_digest.config import Settings
from arxiv_digest.models import DigestEntry, PublishedDigest, is_monitored
from arxiv_digest.publish.trends import DayTerms, day_terms
from arxiv_digest.store import Store
from arxiv_digest.watch import site_notice


@dataclass(frozen=True, slots=True)
class SiteContent:
    days: tuple[PublishedDigest, ...]  # newest first
    feed: tuple[DigestEntry, ...]  # retained entries, newest announcement first
    built_at: dt.datetime  # from the data, never the clock: same store, same bytes
    notice: str | None = None  # why nothing newer: "arXiv did not announce on ... (holiday)"

    @property
    def latest(self) -> PublishedDigest | None:
        return self.days[0] if self.days else None

    def feed_for(self, category: str, settings: Settings) -> tuple[DigestEntry, ...]:
        """One category's feed, retained on its own over every published digest.

        Cutting it from the overall feed instead would leave a category only what the
        overall ``max_items`` happened to keep of it (5 of 47 papers, once).
        """
        return _retained(self.days, settings, category)


@dataclass(frozen=True, slots=True)
class Appearance:
    """A paper's place in one published digest, for its own page."""

    date: dt.date
    rank: int
    score: float
    version: int
    category: str
    matched: tuple[str, ...] = ()  # the keyword terms that digest matched


def appearances(content: SiteContent, arxiv_id: str) -> tuple[Appearance, ...]:
    """Every published digest that listed this paper (any version), newest first."""
    return tuple(
        Appearance(
            day.date,
            rank,
            e.ranked.score,
            e.ranked.paper.version,
            e.ranked.category,
            e.ranked.matched,
        )
        for day in content.days
        for rank, e in enumerate(day.entries, start=1)
        if e.ranked.paper.arxiv_id == arxiv_id
    )


@dataclass(frozen=True, slots=True)
class CategoryDay:
    """One digest's papers in one category, each with its rank in that digest."""

    date: dt.date
    entries: tuple[tuple[int, DigestEntry], ...]


def category_days(
    content: SiteContent, category: str, settings: Settings
) -> tuple[CategoryDay, ...]:
    """The papers of ``category``'s feed (see :meth:`SiteContent.feed_for`), grouped by the
    digest that listed them, newest first: the category's page shows what its feed holds."""
    kept = {e.ranked.paper.arxiv_id for e in content.feed_for(category, settings)}
    groups: list[CategoryDay] = []
    for day in content.days:
        entries = []
        for rank, entry in enumerate(day.entries, start=1):
            if entry.ranked.paper.arxiv_id in kept:
                kept.discard(entry.ranked.paper.arxiv_id)  # its newest listing only
                entries.append((rank, entry))
        if entries:
            groups.append(CategoryDay(day.date, tuple(entries)))
        if not kept:
            break
    return tuple(groups)


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class ArchiveDay:
    """A published day as the archive lists it."""

    date: dt.date
    papers: int


@dataclass(frozen=True, slots=True)
class History:
    """Every published day, newest first, as the archive, the trends chart and each day
    page's older and newer links see it: no papers, so it is cheap to read whole."""

    days: tuple[ArchiveDay, ...]
    terms: tuple[DayTerms, ...]  # each paper's terms, of (at least) the trends' window

    @property
    def dates(self) -> tuple[dt.date, ...]:
        return tuple(day.date for day in self.days)

    @classmethod
    def of(cls, days: Sequence[PublishedDigest]) -> History:
        return cls(
            tuple(ArchiveDay(day.date, len(day.entries)) for day in days),
            tuple(day_terms(day) for day in days),
        )


def load_content(store: Store, settings: Settings) -> SiteContent:
    days = published_days(store)
    return site_content(store, settings, days, _built_at(days))


def site_content(
    store: Store, settings: Settings, days: tuple[PublishedDigest, ...], built_at: dt.datetime
) -> SiteContent:
    """What the front page, the category pages and the feeds show of ``days`` (newest
    first: every published day, or at least those of the feeds' ``keep_days``)."""
    return SiteContent(
        days=days,
        feed=_retained(days, settings),
        built_at=built_at,
        notice=site_notice(store),
    )


def published_days(store: Store, since: dt.date | None = None) -> tuple[PublishedDigest, ...]:
    """Every published digest (from ``since`` on), newest first, with its summaries."""
    return load_days(store, store.published_runs(since))


def load_days(
    store: Store, published: Iterable[tuple[dt.date, int, dt.datetime]]
) -> tuple[PublishedDigest, ...]:
    """The digests of these published runs (day, run, first published), in that order,
    with their summaries."""
    rankings = [(date, updated, store.ranking(run_id)) for date, run_id, updated in published]
    keys = {(r.paper.arxiv_id, r.paper.version) for _, _, ranked in rankings for r in ranked}
    summaries = store.latest_summaries(keys)
    return tuple(
        PublishedDigest(
            date=date,
            updated_at=updated,
            entries=tuple(
                DigestEntry(r, summaries.get((r.paper.arxiv_id, r.paper.version))) for r in ranked
            ),
        )
        for date, updated, ranked in rankings
    )


def _retained(
    days: tuple[PublishedDigest, ...], settings: Settings, category: str | None = None
) -> tuple[DigestEntry, ...]:
    """The newest entry of each paper over the last ``keep_days`` days of digests (counted
    from the newest digest), at most ``max_items``; only papers listed in ``category`` if
    one is given. A paper's newest entry decides whether it is in the category."""
    if not days:
        return ()
    oldest = days[0].date - dt.timedelta(days=settings.feeds.keep_days - 1)
    seen: set[str] = set()
    kept: list[DigestEntry] = []
    for day in days:
        if day.date < oldest:
            break
        for entry in day.entries:
            if entry.ranked.paper.arxiv_id in seen:
                continue
            seen.add(entry.ranked.paper.arxiv_id)
            if category is None or _listed_in(entry, category):
                kept.append(entry)
        if len(kept) >= settings.feeds.max_items:
            break
    return tuple(kept[: settings.feeds.max_items])


def _listed_in(entry: DigestEntry, category: str) -> bool:
    return any(is_monitored(c, [category]) for c in entry.ranked.paper.categories)


def _built_at(days: tuple[PublishedDigest, ...]) -> dt.datetime:
    return max((d.updated_at for d in days), default=EPOCH)
