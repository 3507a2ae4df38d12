"""Queries about library syncs: a remote library (Zotero) as last read, and its version."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import Engine, select

from arxiv_digest.store import schema
from arxiv_digest.store.rows import upsert

log = logging.getLogger(__name__)


class LibrarySyncQueries:
    engine: Engine

    def library_snapshot(self, source: str) -> tuple[int, dict[str, Any]] | None:
        """(version, items by key) of the last read of ``source``; None if there is none
        or it cannot be read back (the items are checked by their reader)."""
        s = schema.library_sync.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.version, s["items"]).where(s.source == source)  # .items is a method
            ).first()
        if row is None:
            return None
        try:
            items = json.loads(row[1])
        except (TypeError, ValueError):
            items = None
        if not isinstance(items, dict) or not isinstance(row[0], int):
            log.warning("library: the stored read of %s is damaged; reading it in full", source)
            return None
        return row[0], items

    def save_library_snapshot(
        self, source: str, version: int, items: dict[str, Any], now: dt.datetime
    ) -> None:
        values = {
            "source": source,
            "version": version,
            "items": json.dumps(items, ensure_ascii=False),  # in the library's order
            "synced_at": now,
        }
        with self.engine.begin() as conn:
            upsert(conn, schema.library_sync, [values])
