"""How many distinct papers each author name signs a month: the statistics that tell a rare
name (most likely one person) from a common one (many), for the library's author matches
(:mod:`arxiv_digest.relevance.authors`).

``name_counts`` holds, per folded name ("rui li") and month, the papers first announced
that month (``new`` and ``cross`` announcements) that carry the name; ``name_days`` the
announcement days already counted, with their number of announcements. :meth:`count_names`
adds each new day once (a day's names are read, counted and added: a run's work is one
day), and counts a month again from scratch when one of its counted days has changed (a
backfill added to it). Only the last :data:`MONTHS` months are kept. Both tables are made
again from the announcements, so an export leaves them out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.engine import Connection

from arxiv_digest.names import count_names, monthly_rates, name_stat_key
from arxiv_digest.store import schema
from arxiv_digest.store.rows import upsert

log = logging.getLogger(__name__)
MONTHS = 12  # months of history a rate is taken over
FIRST_APPEARANCES = ("new", "cross")
_IN_BATCH = 500  # names per IN (...) query


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _oldest_month(latest: dt.date) -> str:
    months = latest.year * 12 + latest.month - 1 - (MONTHS - 1)
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


class NameQueries:
    engine: Engine

    def count_names(self) -> int:
        """Bring the name statistics up to the announcements; returns the days counted."""
        a = schema.announcements.c
        with self.engine.begin() as conn:
            stored: dict[dt.date, int] = dict(
                conn.execute(
                    select(a.announced, func.count())
                    .where(a.announce_type.in_(FIRST_APPEARANCES))
                    .group_by(a.announced)
                ).all()
            )
            if not stored:
                return 0
            oldest = _oldest_month(max(stored))
            stored = {d: n for d, n in stored.items() if month_of(d) >= oldest}
            d = schema.name_days.c
            counted = dict(conn.execute(select(d.day, d.announcements)).all())
            changed = {month_of(day) for day, n in counted.items() if stored.get(day) != n}
            stale = [day for day in counted if month_of(day) in changed or month_of(day) < oldest]
            if stale or changed:
                conn.execute(delete(schema.name_days).where(d.day.in_(stale)))
                gone = changed | {month_of(day) for day in stale}
                conn.execute(delete(schema.name_counts).where(schema.name_counts.c.month.in_(gone)))
                conn.execute(delete(schema.name_counts).where(schema.name_counts.c.month < oldest))
                counted = {day: n for day, n in counted.items() if day not in set(stale)}
            new = sorted(day for day in stored if day not in counted)
            for day in new:
                _add_day(conn, day, stored[day])
        if new:
            log.info("name statistics: %d announcement days counted", len(new))
        return len(new)

    def name_rates(self, names: Iterable[str]) -> dict[str, float]:
        """Papers a month each name signs over the counted history (:data:`MONTHS` months at
        most), by :func:`name_stat_key`; names without any paper are left out."""
        keys = sorted({key for name in names if (key := name_stat_key(name))})
        c = schema.name_counts.c
        with self.engine.connect() as conn:
            days = conn.scalar(select(func.count()).select_from(schema.name_days)) or 0
            counts: dict[str, int] = {}
            for start in range(0, len(keys), _IN_BATCH):
                batch = keys[start : start + _IN_BATCH]
                rows = conn.execute(
                    select(c.name, func.sum(c.papers)).where(c.name.in_(batch)).group_by(c.name)
                ).all()
                counts.update((name, int(total)) for name, total in rows)
        return monthly_rates(counts, int(days)) if days else {}


def _add_day(conn: Connection, day: dt.date, announcements: int) -> None:
    """Count the names of the papers first announced on ``day`` into its month."""
    a, p = schema.announcements.c, schema.papers.c
    rows = conn.execute(
        select(p.arxiv_id, p.authors)
        .join(
            schema.announcements,
            (a.arxiv_id == p.arxiv_id) & (a.version == p.version),
        )
        .where(a.announced == day, a.announce_type.in_(FIRST_APPEARANCES))
    ).all()
    authors: dict[str, Sequence[str]] = {}
    for arxiv_id, listed in rows:
        try:
            names = json.loads(listed)
        except (TypeError, ValueError):
            continue
        if isinstance(names, list):
            authors[arxiv_id] = [str(n) for n in names]
    counts = count_names(authors.values())
    month = month_of(day)
    _add_counts(conn, month, counts)
    upsert(conn, schema.name_days, [{"day": day, "announcements": announcements}])


def _add_counts(conn: Connection, month: str, counts: Counter[str]) -> None:
    c = schema.name_counts.c
    names = sorted(counts)
    known: dict[str, int] = defaultdict(int)
    for start in range(0, len(names), _IN_BATCH):
        batch = names[start : start + _IN_BATCH]
        known.update(
            conn.execute(select(c.name, c.papers).where(c.month == month, c.name.in_(batch))).all()
        )
    rows = [{"name": n, "month": month, "papers": known[n] + counts[n]} for n in names]
    for start in range(0, len(rows), 1000):
        upsert(conn, schema.name_counts, rows[start : start + 1000])
