"""What ``serve`` offers programs besides its pages: the JSON API at ``/api/v1`` and the MCP
server at ``/mcp``, with the same write token (``ARXIV_DIGEST_API_TOKEN``).

:func:`create_app <arxiv_digest.web.app.create_app>` adds :meth:`Programs.routes` to its
own and keeps :meth:`Programs.running` entered for its lifetime (the MCP transport needs a
task group). Both are imported when the service starts, not with this module: they read
the store through :mod:`arxiv_digest.api.reader`, which uses :mod:`arxiv_digest.web.search`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.routing import BaseRoute, Mount, Route

from arxiv_digest.api.tokens import api_token
from arxiv_digest.config import Settings
from arxiv_digest.store import Store

__all__ = ["API_PREFIX", "MCP_PATH", "Programs"]

API_PREFIX = "/api/v1"
MCP_PATH = "/mcp"


class Programs:
    def __init__(self, settings: Settings, store: Store, *, token: str | None = None) -> None:
        from arxiv_digest.assistant.server import McpHttp, Permission, build_server
        from arxiv_digest.web.api import JsonApi

        token = api_token() if token is None else (token or None)  # "": writes off
        self.api = JsonApi(settings, store, token=token)
        self.mcp = McpHttp(build_server(settings, store, Permission(token=token)), token)

    def routes(self) -> list[BaseRoute]:
        return [Mount(API_PREFIX, app=self.api.app()), Route(MCP_PATH, self.mcp)]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.mcp.running():
            yield
