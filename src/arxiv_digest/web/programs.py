"""What ``serve`` offers programs besides its pages: the JSON API at ``/api/v1``.

:func:`create_app <arxiv_digest.web.app.create_app>` adds :meth:`Programs.routes` to its
own and keeps :meth:`Programs.running` entered for its lifetime. The API is imported when
the service starts, not with this module: it reads the store through
:mod:`arxiv_digest.api.reader`, which uses :mod:`arxiv_digest.web.search`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.routing import BaseRoute, Mount

from arxiv_digest.api.tokens import api_token
from arxiv_digest.config import Settings
from arxiv_digest.store import Store

__all__ = ["API_PREFIX", "Programs"]

API_PREFIX = "/api/v1"


class Programs:
    def __init__(self, settings: Settings, store: Store, *, token: str | None = None) -> None:
        from arxiv_digest.web.api import JsonApi

        token = api_token() if token is None else (token or None)  # "": writes off
        self.api = JsonApi(settings, store, token=token)

    def routes(self) -> list[BaseRoute]:
        return [Mount(API_PREFIX, app=self.api.app())]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        yield
