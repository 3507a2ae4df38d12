"""Queries about what was published: the digests the site, feeds and service show."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine, func, select

from arxiv_digest.models import RankedPaper
from arxiv_digest.store import schema
from arxiv_digest.store.rows import paper_from_row, utc


class PublicationQueries:
    engine: Engine
    profile: str  # whose digests (see Store.for_profile)

    def published_runs(
        self, since: dt.date | None = None
    ) -> list[tuple[dt.date, int, dt.datetime]]:
        """Per digest day, newest first: (day, its last published run, when that content was
        first published that day). Timestamps come from the data, so renders are repeatable."""
        r = schema.runs.c
        query = (
            select(r.id, r.digest_date, r.fingerprint, r.started_at)
            .where(r.status == "ok", r.fingerprint.is_not(None), r.digest_date.is_not(None))
            .where(r.profile == self.profile)
            .order_by(r.id)
        )
        if since is not None:
            query = query.where(r.digest_date >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        last: dict[dt.date, tuple[int, str]] = {}
        for run_id, day, fingerprint, _ in rows:
            last[day] = (run_id, fingerprint)
        first_seen: dict[dt.date, dt.datetime] = {}
        for _, day, fingerprint, started in rows:
            if fingerprint == last[day][1] and day not in first_seen:
                first_seen[day] = utc(started)
        return [(day, last[day][0], first_seen[day]) for day in sorted(last, reverse=True)]

    def ranking(self, run_id: int) -> list[RankedPaper]:
        k, p, a = schema.rankings, schema.papers, schema.announcements
        query = (
            select(
                p, a.c.announced, a.c.announce_type, k.c.score, k.c.matched, k.c.category, k.c.why
            )
            .join(p, (p.c.arxiv_id == k.c.arxiv_id) & (p.c.version == k.c.version))
            .join(a, (a.c.arxiv_id == p.c.arxiv_id) & (a.c.version == p.c.version))
            .where(k.c.run_id == run_id)
            .order_by(k.c.rank, a.c.announced.desc())
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        ranked: dict[tuple[str, int], RankedPaper] = {}
        for row in rows:
            key = (row["arxiv_id"], row["version"])
            if key not in ranked:  # the latest announcement of that version
                matched = tuple(json.loads(row["matched"]))
                ranked[key] = RankedPaper(
                    paper_from_row(row), row["score"], matched, row["category"], why=row["why"]
                )
        return list(ranked.values())

    def publication_version(self) -> tuple[int, int]:
        """Changes whenever something new was published: (last published run, summaries).

        An empty run counts: after one on a day arXiv did not announce, the front page
        says so (:func:`arxiv_digest.watch.site_notice`).
        """
        r = schema.runs.c
        with self.engine.connect() as conn:
            last = conn.scalar(select(func.max(r.id)).where(r.status.in_(("ok", "empty"))))
            summaries = conn.scalar(select(func.count()).select_from(schema.summaries))
        return (int(last or 0), int(summaries or 0))
