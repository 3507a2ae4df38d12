"""What the site, the feeds and the service show, read from the store in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from arxiv_digest.config import Settings
from arxiv_digest.models import DigestEntry, PublishedDigest
from arxiv_digest.rank import is_monitored
from arxiv_digest.store import Store


@dataclass(frozen=True, slots=True)
class SiteContent:
    days: tuple[PublishedDigest, ...]  # newest first
    feed: tuple[DigestEntry, ...]  # retained entries, newest announcement first
    built_at: dt.datetime  # from the data, never the clock: same store, same bytes

    @property
    def latest(self) -> PublishedDigest | None:
        return self.days[0] if self.days else None

    def feed_for(self, category: str) -> tuple[DigestEntry, ...]:
        return tuple(
            e
            for e in self.feed
            if any(is_monitored(c, [category]) for c in e.ranked.paper.categories)
        )


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def load_content(store: Store, settings: Settings) -> SiteContent:
    published = store.published_runs()
    rankings = [(date, updated, store.ranking(run_id)) for date, run_id, updated in published]
    keys = {(r.paper.arxiv_id, r.paper.version) for _, _, ranked in rankings for r in ranked}
    summaries = store.latest_summaries(keys)
    days = tuple(
        PublishedDigest(
            date=date,
            updated_at=updated,
            entries=tuple(
                DigestEntry(r, summaries.get((r.paper.arxiv_id, r.paper.version))) for r in ranked
            ),
        )
        for date, updated, ranked in rankings
    )
    return SiteContent(days=days, feed=_retained(days, settings), built_at=_built_at(days))


def _retained(days: tuple[PublishedDigest, ...], settings: Settings) -> tuple[DigestEntry, ...]:
    if not days:
        return ()
    oldest = days[0].date - dt.timedelta(days=settings.feeds.keep_days - 1)
    seen: set[str] = set()
    kept: list[DigestEntry] = []
    for day in days:
        if day.date < oldest:
            break
        for entry in day.entries:
            if entry.ranked.paper.arxiv_id not in seen:
                seen.add(entry.ranked.paper.arxiv_id)
                kept.append(entry)
    return tuple(kept[: settings.feeds.max_items])


def _built_at(days: tuple[PublishedDigest, ...]) -> dt.datetime:
    return max((d.updated_at for d in days), default=EPOCH)
