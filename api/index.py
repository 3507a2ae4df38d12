"""Vercel entry point: the service over the store committed to the repository, read-only.

Vercel's Python runtime serves the ASGI ``app`` below; ``vercel.json`` routes every path
to it and sets, for the function, ARXIV_DIGEST_CONFIG=config.json and
ARXIV_DIGEST_STORE_URL to open data/arxiv-digest.sqlite read-only. The daily GitHub
workflow commits the store; each push redeploys with the new digest.
"""

from arxiv_digest.web.asgi import app

__all__ = ["app"]
