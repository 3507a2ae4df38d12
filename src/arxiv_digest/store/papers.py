"""Queries about single papers: the latest stored version or a given one.

A paper looked up by id (``arxiv-digest summarize``) has no announcement row; its date and
type are the ones its source gave (``papers.listed_on``/``listed_as``, migration 0004).
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from arxiv_digest.models import Paper
from arxiv_digest.store import schema
from arxiv_digest.store.rows import paper_from_row


class PaperQueries:
    engine: Engine

    def paper(self, arxiv_id: str, version: int = 0) -> Paper | None:
        """A stored paper with its latest announcement: the latest version, or exactly
        ``version`` (None when that version is not stored: never another one instead)."""
        p, a = schema.papers, schema.announcements
        announced = func.coalesce(a.c.announced, p.c.listed_on)
        query = (
            select(
                p,
                announced.label("announced"),
                func.coalesce(a.c.announce_type, p.c.listed_as, "new").label("announce_type"),
            )
            .outerjoin(a, (a.c.arxiv_id == p.c.arxiv_id) & (a.c.version == p.c.version))
            .where(p.c.arxiv_id == arxiv_id, announced.is_not(None))
            .order_by(p.c.version.desc(), announced.desc())
            .limit(1)
        )
        if version:
            query = query.where(p.c.version == version)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return paper_from_row(row) if row else None
