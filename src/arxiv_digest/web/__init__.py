"""The web service: Starlette app over the store, plus its built-in daily scheduler."""

from arxiv_digest.web.app import create_app

__all__ = ["create_app"]
