"""Queries about AI summaries: the cache the summarizer reads and writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import StoreError
from arxiv_digest.models import Summary
from arxiv_digest.store import schema
from arxiv_digest.store.rows import one_line, summary_from_row, upsert, utc

# A reader's summaries: (model, prompt hash), as the summarizer stores them.
SummaryChoice = tuple[str, str]


class SummaryQueries:
    engine: Engine
    # Whose summaries :meth:`latest_summaries` prefers (a team member's view of the store
    # sets their model and prompt): a paper two members picked may hold one in each
    # member's language.
    preferred_summaries: SummaryChoice | None = None

    def cached_summaries(
        self, papers: Iterable[tuple[str, int]], model: str, prompt_hash: str, input_mode: str
    ) -> dict[tuple[str, int], Summary]:
        """Summaries already paid for, by (arXiv id, version)."""
        rows = self._cached_rows(papers, model, prompt_hash, input_mode)
        return {key: summary_from_row(row) for key, row in rows.items()}

    def fallback_times(
        self, papers: Iterable[tuple[str, int]], model: str, prompt_hash: str, input_mode: str
    ) -> dict[tuple[str, int], tuple[dt.datetime, dt.datetime]]:
        """(when it was made, when its full text was last tried), in UTC, for each cached
        summary with a note (made from the abstract because the full text was unavailable):
        the summarizer retries the full text while the first is recent and the second old.
        Replacing one by a full-text summary clears its note, so it is not retried again."""
        rows = self._cached_rows(papers, model, prompt_hash, input_mode, with_note=True)
        return {key: _fallback_times(row) for key, row in rows.items()}

    def mark_fulltext_tried(
        self,
        papers: Iterable[tuple[str, int]],
        model: str,
        prompt_hash: str,
        input_mode: str,
        when: dt.datetime,
    ) -> None:
        """Record a new try at the full text of these papers' summaries from the abstract."""
        c = schema.summaries.c
        keys = [and_(c.arxiv_id == arxiv_id, c.version == version) for arxiv_id, version in papers]
        if not keys:
            return
        query = (
            update(schema.summaries)
            .where(
                c.model == model,
                c.prompt_hash == prompt_hash,
                c.input_mode == input_mode,
                c.note != "",
                or_(*keys),
            )
            .values(fulltext_tried_at=when)
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(query)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record a full-text retry: {one_line(exc)}") from None

    def _cached_rows(
        self,
        papers: Iterable[tuple[str, int]],
        model: str,
        prompt_hash: str,
        input_mode: str,
        *,
        with_note: bool = False,
    ) -> dict[tuple[str, int], Any]:
        wanted = set(papers)
        if not wanted:
            return {}
        c = schema.summaries.c
        query = select(schema.summaries).where(
            c.model == model,
            c.prompt_hash == prompt_hash,
            c.input_mode == input_mode,
            c.arxiv_id.in_(sorted({arxiv_id for arxiv_id, _ in wanted})),
        )
        if with_note:
            query = query.where(c.note != "")
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {
            (row["arxiv_id"], row["version"]): row
            for row in rows
            if (row["arxiv_id"], row["version"]) in wanted
        }

    def save_summary(self, summary: Summary, prompt_hash: str, created_at: dt.datetime) -> None:
        row = {
            "arxiv_id": summary.arxiv_id,
            "version": summary.version,
            "model": summary.model,
            "prompt_hash": prompt_hash,
            "input_mode": summary.input_mode,
            "text": summary.text,
            "note": summary.note,
            "tokens_in": summary.tokens_in,
            "tokens_out": summary.tokens_out,
            "created_at": created_at,
        }
        try:
            with self.engine.begin() as conn:
                upsert(conn, schema.summaries, [row])
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot save the summary of {summary.arxiv_id}: {one_line(exc)}"
            ) from None

    def latest_summaries(self, papers: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Summary]:
        """The most recent summary of each paper version made with this view's
        :attr:`preferred_summaries`, else the most recent whatever model or prompt made it."""
        rows = self.latest_summary_rows(papers, prefer=self.preferred_summaries)
        return {key: summary_from_row(row) for key, row in rows.items()}

    def latest_summary_rows(
        self, papers: Iterable[tuple[str, int]], *, prefer: SummaryChoice | None = None
    ) -> dict[tuple[str, int], Any]:
        """The stored row of each paper version's most recent summary (made by ``prefer``'s
        model and prompt, when there is one)."""
        wanted = set(papers)
        if not wanted:
            return {}
        c = schema.summaries.c
        query = (
            select(schema.summaries)
            .where(c.arxiv_id.in_(sorted({arxiv_id for arxiv_id, _ in wanted})))
            .order_by(c.created_at)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        found, preferred = {}, {}
        for row in rows:  # oldest first: later rows replace earlier ones
            key = (row["arxiv_id"], row["version"])
            if key in wanted:
                found[key] = row
                if (row["model"], row["prompt_hash"]) == prefer:
                    preferred[key] = row
        return found | preferred


def _fallback_times(row: Any) -> tuple[dt.datetime, dt.datetime]:
    made = utc(row["created_at"])
    tried = row["fulltext_tried_at"]
    return made, made if tried is None else utc(tried)
