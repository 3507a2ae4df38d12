"""Vercel entry point: the service over the history the daily workflow commits.

Vercel's Python runtime serves the ASGI ``app`` below; ``vercel.json`` routes every path
to it and sets, for the function, ARXIV_DIGEST_CONFIG=config.json and
ARXIV_DIGEST_STORE_URL to a database in /tmp (the one writable folder), which a cold start
fills from data/history (``store.history_dir``). Each daily push redeploys with the new
digest.
"""

from arxiv_digest.web.asgi import app

__all__ = ["app"]
