"""Read-only queries about single papers, for the service's paper pages.

:func:`paper_version` takes an engine so the web service can use it on any store; the
:class:`PaperQueries` mixin offers it as a ``Store`` method once mixed in.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from arxiv_digest.models import Paper
from arxiv_digest.store import schema
from arxiv_digest.store.rows import paper_from_row


def paper_version(engine: Engine, arxiv_id: str, version: int) -> Paper | None:
    """One stored version of a paper, with its latest announcement; None if not stored.

    ``Store.paper`` gives the latest version only, so ``/papers/2411.18135v1`` of a paper
    now at v2 needs this; a version never stored must stay a 404, not the latest one.
    """
    p, a = schema.papers, schema.announcements
    query = (
        select(p, a.c.announced, a.c.announce_type)
        .join(a, (a.c.arxiv_id == p.c.arxiv_id) & (a.c.version == p.c.version))
        .where(p.c.arxiv_id == arxiv_id, p.c.version == version)
        .order_by(a.c.announced.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return paper_from_row(row) if row else None


class PaperQueries:
    engine: Engine

    def paper_version(self, arxiv_id: str, version: int) -> Paper | None:
        """One stored version of a paper, with its latest announcement; None if not stored."""
        return paper_version(self.engine, arxiv_id, version)
