"""Queries about summaries already rendered as HTML (``summary_html``), by the SHA-256 of
their Markdown and the renderer that made them (publish/html.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Engine, select

from arxiv_digest.store import schema
from arxiv_digest.store.rows import batches, upsert


class RenderedQueries:
    engine: Engine

    def rendered_summaries(self, shas: Collection[str], renderer: str) -> dict[str, str]:
        """The HTML of these Markdown texts (by SHA-256) that ``renderer`` made."""
        h = schema.summary_html.c
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in batches(sorted(set(shas))):
                query = select(h.text_sha, h.html).where(
                    h.text_sha.in_(chunk), h.renderer == renderer
                )
                found.update((row.text_sha, row.html) for row in conn.execute(query))
        return found

    def save_rendered_summaries(self, html: Mapping[str, str], renderer: str) -> None:
        """Keep the HTML of these Markdown texts (by SHA-256), as ``renderer`` made it."""
        rows = [{"text_sha": k, "renderer": renderer, "html": v} for k, v in html.items()]
        with self.engine.begin() as conn:
            for chunk in batches(rows):
                upsert(conn, schema.summary_html, chunk)
