"""Queries about days without a digest: the notices sent for them, and the runs that tell
a quiet day or a missed one.

A team member's channels are recorded as "NAME/label", as their deliveries are
(:data:`~arxiv_digest.store.deliveries.PROFILE_SEPARATOR`): alice's "email" and the lab's
"email" are told once each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from arxiv_digest.models import NOTICE_STATUSES, NoticeRecord
from arxiv_digest.store import schema
from arxiv_digest.store.deliveries import PROFILE_SEPARATOR
from arxiv_digest.store.rows import upsert, utc


def _record_from_row(row: Any) -> NoticeRecord:
    return NoticeRecord(
        day=row.day,
        channel=row.channel.rpartition(PROFILE_SEPARATOR)[2],
        status=row.status,
        text=row.text,
        attempts=row.attempts,
        error=row.error,
        updated_at=utc(row.updated_at),
    )


class NoticeQueries:
    engine: Engine
    profile: str  # whose channels (see Store.for_profile)

    def _notice_key(self, label: str) -> str:
        return f"{self.profile}{PROFILE_SEPARATOR}{label}" if self.profile else label

    def _my_notices(self) -> ColumnElement[bool]:
        channel = schema.notices.c.channel
        if self.profile:
            return channel.startswith(f"{self.profile}{PROFILE_SEPARATOR}", autoescape=True)
        return ~channel.contains(PROFILE_SEPARATOR)

    def save_notice(self, record: NoticeRecord) -> None:
        if record.status not in NOTICE_STATUSES:
            raise ValueError(f"unknown notice status {record.status!r}")
        values = {
            "day": record.day,
            "channel": self._notice_key(record.channel),
            "status": record.status,
            "text": record.text,
            "attempts": record.attempts,
            "error": record.error,
            "updated_at": record.updated_at,
        }
        with self.engine.begin() as conn:
            upsert(conn, schema.notices, [values])

    def notice(self, day: dt.date, channel: str) -> NoticeRecord | None:
        n = schema.notices.c
        key = self._notice_key(channel)
        query = select(schema.notices).where(n.day == day, n.channel == key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _record_from_row(row) if row is not None else None

    def notices(self, since: dt.date | None = None) -> list[NoticeRecord]:
        """Every notice record of this reader's channels, the newest day first, channels by
        name."""
        n = schema.notices.c
        query = select(schema.notices).where(self._my_notices())
        query = query.order_by(n.day.desc(), n.channel)
        if since is not None:
            query = query.where(n.day >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_record_from_row(row) for row in rows]

    def first_run_at(self) -> dt.datetime | None:
        """When the first run this store knows of started: no digest was due before."""
        with self.engine.connect() as conn:
            value = conn.scalar(select(func.min(schema.runs.c.started_at)))
        return utc(value) if value is not None else None

    def quiet_since_published(self) -> dt.datetime | None:
        """When the newest run that found arXiv's feed empty started, if no digest was
        published after it began (None otherwise): the site says why nothing is new."""
        r = schema.runs.c
        with self.engine.connect() as conn:
            published = conn.scalar(select(func.max(r.id)).where(r.status == "ok"))
            empty = select(r.id, r.started_at).where(r.status == "empty")
            if published is not None:
                empty = empty.where(r.id > published)
            row = conn.execute(empty.order_by(r.id.desc()).limit(1)).first()
        return utc(row.started_at) if row is not None else None
