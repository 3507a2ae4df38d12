"""Queries about the reader's ratings: one +1/-1 per paper, whatever its version.

Rating a paper again with the same value changes nothing (not even the time), so a link
opened twice, or fetched first by a mail scanner, leaves the same state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, delete, select

from arxiv_digest.models import RATING_SOURCES, Rating
from arxiv_digest.store import schema
from arxiv_digest.store.rows import upsert, utc


def _rating_from_row(row: Any) -> Rating:
    return Rating(row.arxiv_id, row.value, utc(row.rated_at), row.source)


class RatingQueries:
    """One reader's ratings: ``profile`` ("" for the config's own reader) is whose."""

    engine: Engine
    profile: str

    def rate(self, arxiv_id: str, value: int, source: str, now: dt.datetime) -> Rating:
        """Record +1 or -1 for a paper (an id without version); returns the stored rating."""
        if value not in (1, -1):
            raise ValueError(f"a rating is +1 or -1, not {value!r}")
        if source not in RATING_SOURCES:
            raise ValueError(f"unknown rating source {source!r}")
        if now.tzinfo is None:
            raise ValueError("the rating time must be timezone-aware")
        r = schema.ratings.c
        with self.engine.begin() as conn:
            mine = (r.profile == self.profile) & (r.arxiv_id == arxiv_id)
            row = conn.execute(select(schema.ratings).where(mine)).first()
            if row is not None and row.value == value:
                return _rating_from_row(row)
            rating = Rating(arxiv_id, value, utc(now), source)
            values = {
                "profile": self.profile,
                "arxiv_id": arxiv_id,
                "value": value,
                "rated_at": now,
                "source": source,
            }
            upsert(conn, schema.ratings, [values])
        return rating

    def clear_rating(self, arxiv_id: str) -> bool:
        """Forget a paper's rating; False when it had none."""
        r = schema.ratings.c
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(schema.ratings).where(r.profile == self.profile, r.arxiv_id == arxiv_id)
            )
        return bool(result.rowcount)

    def rating(self, arxiv_id: str) -> Rating | None:
        r = schema.ratings.c
        with self.engine.connect() as conn:
            mine = (r.profile == self.profile) & (r.arxiv_id == arxiv_id)
            row = conn.execute(select(schema.ratings).where(mine)).first()
        return _rating_from_row(row) if row is not None else None

    def ratings(self) -> list[Rating]:
        """Every rating, the newest first."""
        r = schema.ratings.c
        query = (
            select(schema.ratings)
            .where(r.profile == self.profile)
            .order_by(r.rated_at.desc(), r.arxiv_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_rating_from_row(row) for row in rows]
