"""Queries about single papers: the latest stored version or a given one, one paper or
many at once.

A paper looked up by id (``arxiv-digest summarize``) has no announcement row; its date and
type are the ones its source gave (``papers.listed_on``/``listed_as``, migration 0004).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select

from arxiv_digest.models import Paper
from arxiv_digest.store import schema
from arxiv_digest.store.rows import paper_from_row

ANNOUNCED: ColumnElement[Any] = func.coalesce(
    schema.announcements.c.announced, schema.papers.c.listed_on
)


def announced_papers() -> Select[Any]:
    """Paper versions with each of their announcements (or the date their source gave),
    as rows :func:`paper_from_row` reads; order by :data:`ANNOUNCED` for the latest."""
    p, a = schema.papers, schema.announcements
    return (
        select(
            p,
            ANNOUNCED.label("announced"),
            func.coalesce(a.c.announce_type, p.c.listed_as, "new").label("announce_type"),
        )
        .outerjoin(a, (a.c.arxiv_id == p.c.arxiv_id) & (a.c.version == p.c.version))
        .where(ANNOUNCED.is_not(None))
    )


LATEST_BATCH = 500  # ids per query: well under SQLite's and PostgreSQL's parameter limits


class PaperQueries:
    engine: Engine

    def paper(self, arxiv_id: str, version: int = 0) -> Paper | None:
        """A stored paper with its latest announcement: the latest version, or exactly
        ``version`` (None when that version is not stored: never another one instead)."""
        p = schema.papers
        query = (
            announced_papers()
            .where(p.c.arxiv_id == arxiv_id)
            .order_by(p.c.version.desc(), ANNOUNCED.desc())
            .limit(1)
        )
        if version:
            query = query.where(p.c.version == version)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return paper_from_row(row) if row else None

    def latest_papers(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        """:meth:`paper` of each id that is stored, in one query per ``LATEST_BATCH`` ids (a
        library of a thousand arXiv entries is read at every run)."""
        wanted = sorted(set(arxiv_ids))
        p = schema.papers
        found: dict[str, Paper] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), LATEST_BATCH):
                query = (
                    announced_papers()
                    .where(p.c.arxiv_id.in_(wanted[start : start + LATEST_BATCH]))
                    .order_by(p.c.arxiv_id, p.c.version.desc(), ANNOUNCED.desc())
                )
                for row in conn.execute(query).mappings():
                    if row["arxiv_id"] not in found:  # the first row: the latest
                        found[row["arxiv_id"]] = paper_from_row(row)
        return found
