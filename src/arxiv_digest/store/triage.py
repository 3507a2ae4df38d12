"""Queries about LLM triage: one judgement per (paper version, model, interests hash), so
the same paper is never asked twice about the same interests by the same model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select, tuple_

from arxiv_digest.store import schema
from arxiv_digest.store.rows import batches, upsert


@dataclass(frozen=True, slots=True)
class Judgement:
    """An LLM's verdict on one paper version: 0 (off topic) to 10 (exactly what you want)."""

    arxiv_id: str
    version: int
    score: int
    reason: str
    tokens_in: int = 0
    tokens_out: int = 0


class TriageQueries:
    engine: Engine

    def cached_triage(
        self, keys: Sequence[tuple[str, int]], model: str, interests_hash: str
    ) -> dict[tuple[str, int], Judgement]:
        """The stored judgements of these (arXiv id, version) pairs; the others left out."""
        t = schema.triage.c
        wanted = sorted(set(keys))
        found: dict[tuple[str, int], Judgement] = {}
        with self.engine.connect() as conn:
            for chunk in batches(wanted):
                query = select(
                    t.arxiv_id, t.version, t.score, t.reason, t.tokens_in, t.tokens_out
                ).where(
                    t.model == model,
                    t.interests_hash == interests_hash,
                    tuple_(t.arxiv_id, t.version).in_(chunk),
                )
                for row in conn.execute(query):
                    found[(row.arxiv_id, row.version)] = Judgement(
                        row.arxiv_id, row.version, row.score, row.reason, row.tokens_in,
                        row.tokens_out,
                    )  # fmt: skip
        return found

    def save_triage(
        self,
        judgement: Judgement,
        model: str,
        interests_hash: str,
        now: dt.datetime | None = None,
    ) -> None:
        """Store (or replace) one judgement, the moment it arrives."""
        row = {
            "arxiv_id": judgement.arxiv_id,
            "version": judgement.version,
            "model": model,
            "interests_hash": interests_hash,
            "score": judgement.score,
            "reason": judgement.reason,
            "tokens_in": judgement.tokens_in,
            "tokens_out": judgement.tokens_out,
            "created_at": now or dt.datetime.now(dt.UTC),
        }
        with self.engine.begin() as conn:
            upsert(conn, schema.triage, [row])
