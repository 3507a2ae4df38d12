"""The published days without their papers, and what changed since a given moment: what
the static site needs to re-render only the pages whose content changed
(:mod:`arxiv_digest.publish.incremental`).

Each query reads short columns only (ids, dates, counts, timestamps); none reads a paper's
text or a summary, so the cost of a daily run does not grow with the history it keeps.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Table, exists, func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import StoreError
from arxiv_digest.store import schema
from arxiv_digest.store.repo import Store
from arxiv_digest.store.rows import one_line, utc

__all__ = ["DayRecord", "Marks", "change_marks", "matched_terms", "published_index", "touched_runs"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class DayRecord:
    """A published day as :meth:`Store.published_runs` gives it, with the fingerprint of
    its content (a hash of its README, recorded by the run) and its number of papers."""

    date: dt.date
    run_id: int
    updated_at: dt.datetime
    fingerprint: str
    papers: int


@dataclass(frozen=True, slots=True)
class Marks:
    """How far the ranked papers' history went at one moment: their newest summary, their
    newest announcement day and how many announcements of them that day had. What was
    saved after these is what changed since."""

    summaries: dt.datetime | None
    announced: dt.date | None
    announced_rows: int = 0  # on the day ``announced``


def _reading(store: Store, action: str, query: Callable[[], _T]) -> _T:
    try:
        return query()
    except SQLAlchemyError as exc:
        raise StoreError(f"store {store.safe_url}: cannot {action}: {one_line(exc)}") from None


def published_index(store: Store) -> tuple[DayRecord, ...]:
    """Every published day, newest first (the runs :meth:`Store.published_runs` names)."""
    published = store.published_runs()
    runs = [run_id for _, run_id, _ in published]
    fingerprints, counts = _reading(
        store, "read the published days", lambda: _run_facts(store, runs)
    )
    return tuple(
        DayRecord(day, run_id, updated, fingerprints[run_id], counts.get(run_id, 0))
        for day, run_id, updated in published
    )


def _run_facts(store: Store, runs: Collection[int]) -> tuple[dict[int, str], dict[int, int]]:
    """Per published run (of this store's reader only, not every profile's): its
    fingerprint, and how many papers its ranking holds (each paper once:
    :meth:`Store.save_ranking` stores a digest's papers in rank order)."""
    if not runs:
        return {}, {}
    r, k = schema.runs.c, schema.rankings.c
    query = (
        select(r.id, r.fingerprint, func.count(k.run_id))
        .select_from(schema.runs.outerjoin(schema.rankings, k.run_id == r.id))
        .where(r.id.in_(sorted(runs)))
        .group_by(r.id, r.fingerprint)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {row[0]: row[1] for row in rows}, {int(row[0]): int(row[2]) for row in rows}


def matched_terms(store: Store, run_ids: Collection[int]) -> dict[int, tuple[tuple[str, ...], ...]]:
    """Per run, the keyword terms each of its papers matched, in rank order (the trends
    chart counts these; :meth:`Store.ranking` reads the same column)."""
    if not run_ids:
        return {}
    k = schema.rankings.c
    query = (
        select(k.run_id, k.matched).where(k.run_id.in_(sorted(run_ids))).order_by(k.run_id, k.rank)
    )

    def read() -> dict[int, tuple[tuple[str, ...], ...]]:
        found: dict[int, list[tuple[str, ...]]] = {run_id: [] for run_id in run_ids}
        with store.engine.connect() as conn:
            for run_id, matched in conn.execute(query):
                found[run_id].append(tuple(json.loads(matched)))
        return {run_id: tuple(terms) for run_id, terms in found.items()}

    return _reading(store, "read the matched terms", read)


def _shown(table: Table, runs: Collection[int], *, by_paper: bool = False) -> ColumnElement[bool]:
    """Whether a row of ``table`` (summaries, announcements) is about a paper of the
    digests these published ``runs`` show: a store rebuilt from its history files holds
    all of these (not every candidate, nor runs whose digest was replaced), so marks read
    from them are the same in both. ``by_paper``: look the paper's rankings up by its id
    (``run_id + 0`` keeps SQLite from scanning every ranking of ``runs`` instead, for
    each row: a cost that grows with the history)."""
    k, t = schema.rankings.c, table.c
    run = k.run_id + 0 if by_paper else k.run_id
    return (
        exists()
        .where(k.arxiv_id == t.arxiv_id, k.version == t.version, run.in_(sorted(runs)))
        .correlate(table)
    )


def change_marks(store: Store, runs: Collection[int]) -> Marks:
    """How far the summaries and announcements of the published ``runs``' papers go, now
    (the newest rows first, down to one such paper's: no scan of every digest)."""
    s, a = schema.summaries.c, schema.announcements.c
    newest = (
        select(s.created_at)
        .where(_shown(schema.summaries, runs))
        .order_by(s.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest = (
        select(a.announced)
        .where(_shown(schema.announcements, runs, by_paper=True))
        .order_by(a.announced.desc())
        .limit(1)
        .scalar_subquery()
    )

    def read() -> Marks:
        with store.engine.connect() as conn:  # both in one statement
            summarized, day = conn.execute(select(newest, latest)).one()
            rows = _rows_on(conn, runs, day)
        return Marks(utc(summarized) if summarized is not None else None, day, rows)

    return _reading(store, "read what changed", read)


def _rows_on(conn: Connection, runs: Collection[int], day: dt.date | None) -> int:
    """How many of these runs' papers were announced on ``day`` (from the runs' rankings:
    a look-up of each, not a search of them for each of the day's announcements)."""
    if day is None:
        return 0
    a, k = schema.announcements.c, schema.rankings.c
    papers = (
        select(k.arxiv_id, k.version)
        .join(schema.announcements, (a.arxiv_id == k.arxiv_id) & (a.version == k.version))
        .where(a.announced == day, k.run_id.in_(sorted(runs)))
        .distinct()
        .subquery()
    )
    return int(conn.scalar(select(func.count()).select_from(papers)) or 0)


def touched_runs(store: Store, since: Marks, runs: Collection[int]) -> set[int]:
    """Those of the published ``runs`` whose papers got a summary after ``since``, or an
    announcement after it (a later listing changes the date and type a digest shows): on
    a later day, or on its day if that day has more of them now."""
    k, s, a = schema.rankings.c, schema.summaries.c, schema.announcements.c
    summarized = select(s.arxiv_id, s.version)
    if since.summaries is not None:
        summarized = summarized.where(s.created_at > _stored_time(store, since.summaries))

    def read() -> set[int]:
        listed = select(a.arxiv_id, a.version)
        with store.engine.connect() as conn:
            if since.announced is not None:
                grown = _rows_on(conn, runs, since.announced) != since.announced_rows
                later = a.announced >= since.announced if grown else a.announced > since.announced
                listed = listed.where(later)
            return {
                int(run_id)
                for changed in (summarized, listed)
                for (run_id,) in conn.execute(
                    select(k.run_id)
                    .where(k.run_id.in_(sorted(runs)), tuple_(k.arxiv_id, k.version).in_(changed))
                    .distinct()
                )
            }

    return _reading(store, "read what changed", read)


def _stored_time(store: Store, when: dt.datetime) -> dt.datetime:
    """``when`` as the store compares it: SQLite keeps UTC times without their zone."""
    when = when.astimezone(dt.UTC)
    return when.replace(tzinfo=None) if store.engine.dialect.name == "sqlite" else when
