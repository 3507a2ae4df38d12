"""ASGI entry for process managers (``uvicorn arxiv_digest.web.asgi:app``, several workers)
and serverless hosts: the config file comes from ``ARXIV_DIGEST_CONFIG``.

uvicorn has set up its own logging before it imports this module, so the access log's
query strings (signed rating links, readers' search words) are hidden here, on the
``uvicorn.access`` logger itself, as ``serve`` hides them in its log config.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from arxiv_digest import pipeline
from arxiv_digest.config import load_settings, resolve_config_path
from arxiv_digest.store import Store
from arxiv_digest.web.app import create_app
from arxiv_digest.web.logs import HideQueries


def build() -> Starlette:
    settings = load_settings()
    return create_app(
        settings,
        Store(settings.store.url),
        refresh=lambda: pipeline.run_configured(settings),
        config_dir=resolve_config_path(None).parent,
    )


def hide_access_queries() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideQueries) for f in access.filters):
        access.addFilter(HideQueries())


hide_access_queries()
app = build()
