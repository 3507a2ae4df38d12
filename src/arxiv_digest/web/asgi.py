"""ASGI entry for process managers (``uvicorn arxiv_digest.web.asgi:app``, several workers)
and serverless hosts: the config file comes from ``ARXIV_DIGEST_CONFIG``.

uvicorn has set up its own logging before it imports this module, so the access log's
query strings (signed rating links, readers' search words) are hidden here, on the
``uvicorn.access`` logger itself, as ``serve`` hides them in its log config.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from arxiv_digest.config import Settings, load_settings, resolve_config_path
from arxiv_digest.errors import RunInProgress
from arxiv_digest.publish.history import restore_history
from arxiv_digest.store import Store
from arxiv_digest.team.scheduled import run_configured
from arxiv_digest.web.app import create_app
from arxiv_digest.web.logs import HideQueries

log = logging.getLogger(__name__)


def build() -> Starlette:
    settings = load_settings()
    store = Store(settings.store.url)
    catch_up(settings, store)
    return create_app(
        settings,
        store,
        refresh=lambda: run_configured(settings),
        config_dir=resolve_config_path(None).parent,
    )


def catch_up(settings: Settings, store: Store) -> None:
    """Load the history folder's days the store lacks (``store.history_dir``).

    A serverless cold start (Vercel) has only what the repository holds: the committed
    history, and a new database in its temporary folder. While a run holds the store, the
    run loads them itself.
    """
    if settings.store.history_dir is None or store.read_only:
        return
    try:
        with store.exclusive_run():
            restore_history(settings, store)
    except RunInProgress:
        log.info("a run holds the store: it loads the history folder itself")


def hide_access_queries() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideQueries) for f in access.filters):
        access.addFilter(HideQueries())


hide_access_queries()
app = build()
