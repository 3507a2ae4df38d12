"""Team mode in ``serve``: each member's pages and feeds at ``/p/NAME/...`` (the same routes,
ETags, 304s and headers as the config's own at ``/``), the team page at ``/team``, and the
token a private member's pages ask for.

A member's app is built on their views of the config and the store, with a snapshot cache
of its own, rendered the first time one of their pages is asked for. A private member's
app sits behind :class:`PrivateGate`: ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``
(for feed readers), compared in constant time with the environment variable the profile's
``token_env`` names; 401 without credentials, 403 with wrong ones, 404 when the variable
is not set (closed, never open). Signed rating links (``/p/NAME/rate/...``) pass without
the token: their signature binds the member already. The access log never shows a query
string (:mod:`arxiv_digest.web.logs`), so a ``?token=`` stays out of it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from arxiv_digest.clock import Clock
from arxiv_digest.config import Settings
from arxiv_digest.ratings import rating_secret
from arxiv_digest.store import Store
from arxiv_digest.team import Member, members
from arxiv_digest.team.page import render_team_page
from arxiv_digest.web.rating_links import RatingLinks
from arxiv_digest.web.snapshot import Asset, SiteCache

__all__ = ["PrivateGate", "team_health", "team_routes"]

log = logging.getLogger(__name__)
_PUBLIC_PREFIXES = ("/rate/",)  # signed links: the signature is their credential


def _bearer(header: str) -> str:
    scheme, _, credentials = header.partition(" ")
    return credentials.strip(" ") if scheme.lower() == "bearer" else ""


class PrivateGate:
    """Pure ASGI middleware: only requests carrying the member's token reach ``app``."""

    def __init__(self, app: ASGIApp, member: str, token_env: str) -> None:
        self.app = app
        self.member = member
        self.token_env = token_env

    def _status(self, scope: Scope) -> int | None:
        """None when the request may pass, else the status refusing it."""
        expected = os.environ.get(self.token_env, "").strip()
        if not expected:
            log.warning(
                "private profile %s: %s is not set, its pages stay closed",
                self.member,
                self.token_env,
            )
            return 404
        headers = dict(scope.get("headers") or [])
        given = _bearer(headers.get(b"authorization", b"").decode("latin-1"))
        if not given:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [""])[0]
        if not given:
            return 401
        ok = hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
        return None if ok else 403

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(_PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        status = self._status(scope)
        if status is None:
            await self.app(scope, receive, send)
            return
        messages = {401: "Token required", 403: "Forbidden", 404: "Not found"}
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="arxiv-digest"'
        response = JSONResponse({"error": messages[status]}, status, headers=headers)
        await response(scope, receive, send)


async def _error(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 404
    messages = {404: "Not found", 405: "Method not allowed"}
    return JSONResponse({"error": messages.get(code, "Error")}, code)


def member_app(
    member: Member, store: Store, *, check_every: float = 2.0, clock: Clock | None = None
) -> ASGIApp:
    """One member's pages and feeds, over their views of the config and store."""
    from arxiv_digest.web.app import _Endpoints  # the routes of "/", shared

    view, view_store = member.settings, member.store(store)
    cache = SiteCache(view, view_store, check_every=check_every)
    endpoints = _Endpoints(view, view_store, cache, None, "", clock=clock)
    rating = RatingLinks(view, view_store, rating_secret(), profile=member.name)
    routes = [r for r in endpoints.routes() if getattr(r, "path", "") != "/update-cache"]
    app: ASGIApp = Starlette(
        routes=[*routes, Route("/rate/{target:path}", rating.respond)],
        exception_handlers={HTTPException: _error},
    )
    if member.private and member.token_env:
        app = PrivateGate(app, member.name, member.token_env)
    return app


class _TeamPage:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def respond(self, request: Request) -> Response:
        from arxiv_digest.web.app import serve_asset

        body = render_team_page(self.settings, self.store)
        last = self.store.last_run()
        modified = last["started_at"] if last else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        if modified.tzinfo is None:  # SQLite keeps UTC without its zone
            modified = modified.replace(tzinfo=dt.UTC)
        return serve_asset(request, Asset.of(body, "text/html; charset=utf-8", modified))


def team_routes(
    settings: Settings, store: Store, *, check_every: float = 2.0, clock: Clock | None = None
) -> list[BaseRoute]:
    """``/team`` and every member's ``/p/NAME`` (none without profiles)."""
    team = members(settings)
    if not team:
        return []
    page = _TeamPage(settings, store)
    routes: list[BaseRoute] = [
        Route("/team", page.respond),
        Route("/team.html", page.respond),
    ]
    for member in team:
        app = member_app(member, store, check_every=check_every, clock=clock)
        routes.append(Mount(f"/{member.path.rstrip('/')}", app=app))
    return routes


def team_health(settings: Settings, store: Store) -> dict[str, Any]:
    """Each member's last run (papers, and their share of the summaries' calls, tokens and
    cost) and the whole run's bill: counts only, never a paper or an address."""
    out: dict[str, Any] = {}
    for member in members(settings):
        runs = member.store(store).runs(1)
        last = runs[0] if runs else None
        out[member.name] = None if last is None else _bill(last)
    own = store.runs(1)
    return {"members": out, "total": _bill(own[0]) if own else None}


def _bill(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": run["status"],
        "digest_date": run["digest_date"].isoformat() if run["digest_date"] else None,
        "papers": run["ranked"],
        "summary_calls": run["summaries_made"],
        "tokens_in": run["tokens_in"],
        "tokens_out": run["tokens_out"],
        "cost": run["cost"],
    }
