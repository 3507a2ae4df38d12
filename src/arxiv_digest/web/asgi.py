"""ASGI entry for process managers (``uvicorn arxiv_digest.web.asgi:app``, several workers)
and serverless hosts: the config file comes from ``ARXIV_DIGEST_CONFIG``."""

from __future__ import annotations

from starlette.applications import Starlette

from arxiv_digest import pipeline
from arxiv_digest.config import load_settings
from arxiv_digest.store import Store
from arxiv_digest.web.app import create_app


def build() -> Starlette:
    settings = load_settings()
    return create_app(
        settings,
        Store(settings.store.url),
        refresh=lambda: pipeline.run_configured(settings),
    )


app = build()
