"""Queries about embedding vectors: one per (text key, embedder), so a rerun embeds nothing.

A vector is stored as little-endian float32 bytes with its dimension; a row whose bytes do
not match its dimension (a truncated write) is ignored, and the text embedded again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from arxiv_digest.store import schema
from arxiv_digest.store.rows import batches, upsert

if TYPE_CHECKING:  # numpy loads with the first vector: opening a store needs none
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]

_FLOAT32 = "<f4"  # little-endian float32
_FLOAT32_SIZE = 4


class VectorQueries:
    engine: Engine

    def cached_vectors(self, keys: Sequence[str], embedder: str) -> dict[str, Vector]:
        """The stored vectors of ``keys`` by ``embedder``; keys without one are left out."""
        import numpy as np

        v = schema.vectors.c
        wanted = sorted(set(keys))
        found: dict[str, Vector] = {}
        with self.engine.connect() as conn:
            for chunk in batches(wanted):
                query = select(v.key, v.dim, v.vector).where(
                    v.embedder == embedder, v.key.in_(chunk)
                )
                for row in conn.execute(query):
                    data = bytes(row.vector)
                    if len(data) != row.dim * _FLOAT32_SIZE:
                        continue
                    found[row.key] = np.frombuffer(data, dtype=_FLOAT32).astype(np.float32)
        return found

    def save_vectors(
        self, vectors: Mapping[str, Vector], embedder: str, now: dt.datetime | None = None
    ) -> None:
        """Store (or replace) the vectors of these keys by ``embedder``."""
        import numpy as np

        created = now or dt.datetime.now(dt.UTC)
        rows = [
            {
                "key": key,
                "embedder": embedder,
                "dim": int(vector.shape[0]),
                "vector": np.asarray(vector, dtype=_FLOAT32).tobytes(),
                "created_at": created,
            }
            for key, vector in vectors.items()
        ]
        with self.engine.begin() as conn:
            for chunk in batches(rows):
                upsert(conn, schema.vectors, chunk)
