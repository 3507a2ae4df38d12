"""Read-only lookups for the JSON API and the MCP server (:mod:`arxiv_digest.api`): how many
papers each published digest has, the digests that listed one paper, the stored summary
of a paper version with the model and prompt that made it, stored papers by title.

Plain functions over a :class:`Store`, like :mod:`arxiv_digest.store.site_index`: they
read, never write, and report a database failure as one :class:`StoreError` line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import StoreError
from arxiv_digest.models import Paper, Summary
from arxiv_digest.store import schema
from arxiv_digest.store.papers import ANNOUNCED, announced_papers
from arxiv_digest.store.repo import Store
from arxiv_digest.store.rows import one_line, paper_from_row, summary_from_row, utc

__all__ = [
    "Listing",
    "PublishedDay",
    "StoredSummary",
    "listings",
    "papers_titled",
    "published_days",
    "stored_summaries",
]

_T = TypeVar("_T")
TITLE_CANDIDATES = 200  # rows holding the title's longest word, compared in Python


@dataclass(frozen=True, slots=True)
class PublishedDay:
    """A published digest as :meth:`Store.published_runs` names it, with its paper count."""

    date: dt.date
    run_id: int
    updated_at: dt.datetime
    papers: int


@dataclass(frozen=True, slots=True)
class Listing:
    """One paper's place in one published digest."""

    date: dt.date
    rank: int  # from 1
    version: int
    score: float
    matched: tuple[str, ...]
    category: str
    why: str


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """A summary with what made it: the model, the prompt's hash, when."""

    summary: Summary
    prompt_hash: str
    created_at: dt.datetime


def _reading(store: Store, action: str, query: Callable[[], _T]) -> _T:
    try:
        return query()
    except SQLAlchemyError as exc:
        raise StoreError(f"store {store.safe_url}: cannot {action}: {one_line(exc)}") from None


def published_days(store: Store) -> tuple[PublishedDay, ...]:
    """Every published digest, newest first, with how many papers it lists."""
    published = store.published_runs()
    counts = _reading(
        store, "count the published papers", lambda: _counts(store, [r for _, r, _ in published])
    )
    return tuple(
        PublishedDay(day, run_id, updated, counts.get(run_id, 0))
        for day, run_id, updated in published
    )


def _counts(store: Store, run_ids: Collection[int]) -> dict[int, int]:
    k = schema.rankings.c
    query = select(k.run_id, func.count()).where(k.run_id.in_(run_ids)).group_by(k.run_id)
    with store.engine.connect() as conn:
        return {int(run_id): int(count) for run_id, count in conn.execute(query)}


def listings(store: Store, arxiv_id: str) -> tuple[Listing, ...]:
    """Every published digest that listed this paper (any version), newest first."""
    days = {run_id: day for day, run_id, _ in store.published_runs()}

    def read() -> tuple[Listing, ...]:
        k = schema.rankings.c
        query = select(schema.rankings).where(k.arxiv_id == arxiv_id, k.run_id.in_(days))
        with store.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        found = [
            Listing(
                date=days[row["run_id"]],
                rank=int(row["rank"]),
                version=row["version"],
                score=row["score"],
                matched=tuple(json.loads(row["matched"])),
                category=row["category"],
                why=row["why"],
            )
            for row in rows
        ]
        return tuple(sorted(found, key=lambda listing: listing.date, reverse=True))

    return _reading(store, "read where a paper was listed", read)


def stored_summaries(
    store: Store, papers: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], StoredSummary]:
    """The most recent summary of each paper version (as :meth:`Store.latest_summaries`
    chooses it), with its prompt hash and time."""

    def read() -> dict[tuple[str, int], StoredSummary]:
        return {
            key: StoredSummary(summary_from_row(row), row["prompt_hash"], utc(row["created_at"]))
            for key, row in store.latest_summary_rows(papers).items()
        }

    return _reading(store, "read summaries", read)


def papers_titled(store: Store, title: str, *, limit: int = 3) -> list[Paper]:
    """Stored papers (latest versions) whose title is ``title``, ignoring case and spacing;
    a title cut short with "…" (as a why line quotes a long one) matches by its beginning."""
    wanted = _title_key(title.removesuffix("…"))
    cut = title.endswith("…")
    words = wanted.split()
    if not words:
        return []
    longest = max(words, key=len)

    def read() -> list[Paper]:
        p = schema.papers
        pattern = "%" + longest.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = (
            announced_papers()
            .where(p.c.title.ilike(pattern, escape="\\"))
            .order_by(p.c.arxiv_id, p.c.version.desc(), ANNOUNCED.desc())
            .limit(TITLE_CANDIDATES)
        )
        found: dict[str, Paper] = {}
        with store.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                key = _title_key(row["title"])
                same = key.startswith(wanted) if cut else key == wanted
                if same and row["arxiv_id"] not in found:  # the first row: the latest
                    found[row["arxiv_id"]] = paper_from_row(row)
        return list(found.values())[:limit]

    return _reading(store, "look papers up by title", read)


def _title_key(title: str) -> str:
    return " ".join(title.casefold().split())
