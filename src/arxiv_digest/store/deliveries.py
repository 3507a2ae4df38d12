"""Queries about delivery: what each channel received of each day's digest.

The e-mail recipients still due (``DeliveryRecord.pending``: refused for now while the
others took the message) are kept in the ``error`` column, one per line after the error's
one line: an address holds no line break, and the list is almost always empty, which a
column of its own would not be worth a migration for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.sql.elements import ColumnElement

from arxiv_digest.models import DELIVERY_STATUSES, DeliveryRecord
from arxiv_digest.store import schema
from arxiv_digest.store.rows import upsert, utc


def _record_from_row(row: Any) -> DeliveryRecord:
    error, *pending = row.error.split("\n")
    return DeliveryRecord(
        digest_date=row.digest_date,
        channel=row.channel.rpartition(PROFILE_SEPARATOR)[2],
        status=row.status,
        messages_sent=row.messages_sent,
        messages_total=row.messages_total,
        attempts=row.attempts,
        error=error,
        updated_at=utc(row.updated_at),
        pending=tuple(pending),
    )


def _error_column(record: DeliveryRecord) -> str:
    if any("\n" in text for text in (record.error, *record.pending)):
        raise ValueError("a delivery error or pending recipient is one line")
    return "\n".join((record.error, *record.pending))


# A team member's channels are recorded as "NAME/label" (a label is [\w.-]+, never "/"):
# the config's own reader keeps its plain labels, and its rows stay as they were.
PROFILE_SEPARATOR = "/"


class DeliveryQueries:
    engine: Engine
    profile: str  # whose channels (see Store.for_profile)

    def _channel_key(self, label: str) -> str:
        return f"{self.profile}{PROFILE_SEPARATOR}{label}" if self.profile else label

    def _mine(self) -> ColumnElement[bool]:
        channel = schema.deliveries.c.channel
        if self.profile:
            return channel.startswith(f"{self.profile}{PROFILE_SEPARATOR}", autoescape=True)
        return ~channel.contains(PROFILE_SEPARATOR)

    def save_delivery(self, record: DeliveryRecord) -> None:
        if record.status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {record.status!r}")
        values = {
            "digest_date": record.digest_date,
            "channel": self._channel_key(record.channel),
            "status": record.status,
            "messages_sent": record.messages_sent,
            "messages_total": record.messages_total,
            "attempts": record.attempts,
            "error": _error_column(record),
            "updated_at": record.updated_at,
        }
        with self.engine.begin() as conn:
            upsert(conn, schema.deliveries, [values])

    def delivery(self, digest_date: dt.date, channel: str) -> DeliveryRecord | None:
        d = schema.deliveries.c
        key = self._channel_key(channel)
        query = select(schema.deliveries).where(d.digest_date == digest_date, d.channel == key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _record_from_row(row) if row is not None else None

    def deliveries(self, since: dt.date | None = None) -> list[DeliveryRecord]:
        """Every delivery record, the newest digest first, channels by name."""
        d = schema.deliveries.c
        query = select(schema.deliveries).where(self._mine())
        query = query.order_by(d.digest_date.desc(), d.channel)
        if since is not None:
            query = query.where(d.digest_date >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_record_from_row(row) for row in rows]
