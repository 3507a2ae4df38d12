"""The web service: the digest, its feeds and archive, from the store only.

Routes (the original's first): ``/``, ``/rss``, ``/rss/{category}``, ``/config``,
``/health``, ``/update-cache`` (POST, bearer token); then ``/atom``, ``/atom/{category}``,
``/feed.json``, ``/feed/{category}.json``, ``/archive``, ``/archive/{date}``,
``/papers/{arxiv_id}``, ``/style.css``; ``/index-expanded.html``, ``/archive/{date}-expanded``,
``/category/{category}.html`` (and ``-expanded.html``); ``/search`` and ``/search.json``
(see :mod:`arxiv_digest.web.search`); ``/rate/{arxiv_id}/{action}`` (signed rating links,
see :mod:`arxiv_digest.web.rating_links`); ``/api/v1/...`` (JSON API) and ``/mcp`` (MCP
server), see :mod:`arxiv_digest.web.programs`. No request ever reaches arXiv; an unknown
category is a 404. Errors are a short message; details go to the server log only.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hmac
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arxiv_digest.clock import Clock, make_clock
from arxiv_digest.config import Settings
from arxiv_digest.config.delivery import EmailSettings
from arxiv_digest.delivery.dispatch import channel_label, configured_channels, missing_secrets
from arxiv_digest.publish.site import EXPANDED
from arxiv_digest.ratings import rating_secret
from arxiv_digest.sources.text import split_arxiv_id
from arxiv_digest.store import Store
from arxiv_digest.watch import arxiv_day, day_state, degraded_reason
from arxiv_digest.web.programs import Programs
from arxiv_digest.web.rating_links import RatingLinks
from arxiv_digest.web.redact import mask_urls, relevance_paths
from arxiv_digest.web.search import search_routes
from arxiv_digest.web.snapshot import Asset, SiteCache
from arxiv_digest.web.team import team_health, team_routes

log = logging.getLogger(__name__)
ADMIN_TOKEN_ENV = "ARXIV_DIGEST_ADMIN_TOKEN"
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",  # 'self': the search form (GET)
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
CACHE_CONTROL = "public, max-age=300, must-revalidate"
HEALTHY_RUNS = ("ok", "empty")  # failed, interrupted: degraded
HEALTH_RUNS = 20  # runs /health looks back over for the last finished one
Refresh = Callable[[], object]


class SecurityHeaders:
    """Pure ASGI middleware (cheap on the hot path) adding the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def _not_modified(request: Request, asset: Asset) -> bool:
    tags = request.headers.get("if-none-match")
    if tags is not None:
        return (
            asset.etag in {t.strip().removeprefix("W/") for t in tags.split(",")}
            or tags.strip() == "*"
        )
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return _http_date(since) >= _http_date(asset.last_modified)
        except (TypeError, ValueError):
            return False
    return False


def _http_date(value: str) -> dt.datetime:
    """An HTTP date as an aware UTC datetime.

    ``-0000`` ("zone unknown", RFC 5322) parses to a naive datetime, which cannot be
    compared with an aware one; HTTP dates are always UTC, so it is read as UTC.
    """
    parsed = email.utils.parsedate_to_datetime(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def serve_asset(request: Request, asset: Asset | None) -> Response:
    if asset is None:
        raise HTTPException(404)
    headers = {
        "ETag": asset.etag,
        "Last-Modified": asset.last_modified,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if _not_modified(request, asset):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, headers=headers, media_type=asset.content_type)
    return Response(asset.body, headers=headers, media_type=asset.content_type)


class _Endpoints:
    """The request handlers, over one snapshot cache of the store."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        cache: SiteCache,
        refresh: Refresh | None,
        token: str,
        *,
        config_dir: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or make_clock(settings.schedule)
        self.store = store
        self.cache = cache
        self.refresh = refresh
        self.token = token
        self.config_dir = config_dir
        self.categories = set(settings.categories)
        self.refreshing = threading.Lock()

    def asset(self, path: str) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            return serve_asset(request, self.cache.current().assets.get(path))

        return endpoint

    def category_feed(self, kind: str, ext: str) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            category = str(request.path_params["category"]).removesuffix(f".{ext}")
            if category not in self.categories:
                raise HTTPException(404, f"{category!r} is not a monitored category")
            return serve_asset(request, self.cache.current().assets.get(f"{kind}/{category}.{ext}"))

        return endpoint

    def archive_day(self, request: Request) -> Response:
        """``/archive/2026-04-27`` (or ``.html``) and its expanded twin ``2026-04-27-expanded``."""
        page = str(request.path_params["day"]).removesuffix(".html")
        try:
            dt.date.fromisoformat(page.removesuffix(EXPANDED))
        except ValueError:
            raise HTTPException(404) from None
        return serve_asset(request, self.cache.current().assets.get(f"archive/{page}.html"))

    def category_page(self, request: Request) -> Response:
        """``/category/cs.AI.html`` and ``/category/cs.AI-expanded.html``."""
        page = str(request.path_params["page"]).removesuffix(".html")
        if page.removesuffix(EXPANDED) not in self.categories:
            raise HTTPException(404)
        return serve_asset(request, self.cache.current().assets.get(f"category/{page}.html"))

    def paper(self, request: Request) -> Response:
        """``/papers/2411.18135`` (latest stored version) or ``/papers/2411.18135v2``.

        Only these canonical forms: one URL per page, and relative links stay right.
        """
        raw = str(request.path_params["arxiv_id"])
        try:
            arxiv_id, version = split_arxiv_id(raw)
        except ValueError:
            raise HTTPException(404) from None
        if raw != (f"{arxiv_id}v{version}" if version else arxiv_id):
            raise HTTPException(404)
        return serve_asset(request, self.cache.paper_page(arxiv_id, version))

    def health(self, request: Request) -> Response:
        """Always 200 while the service serves; ``status`` tells how the last run ended.

        A failed or interrupted run leaves the previous digest served, and restarting the
        service would not fix arXiv or the LLM, so a container health check (HTTP status)
        must not fail on it; monitors read ``status`` ("ok" or "degraded") instead, and
        ``reason``. An announcement day without its digest is degraded too; ``arxiv`` says
        whether arXiv announced today (see :mod:`arxiv_digest.watch`).
        """
        runs = self.store.runs(HEALTH_RUNS)
        finished = next((r for r in runs if r["status"] != "running"), None)
        snapshot = self.cache.current()
        latest = snapshot.content.latest
        state = day_state(self.settings, self.store, self.clock())
        status = "degraded" if state.missing else _health_status(runs, finished)
        body: dict[str, Any] = {
            "status": status,
            "reason": degraded_reason(state, finished) if status == "degraded" else None,
            "arxiv": arxiv_day(state),
            "last_run": _run_summary(finished),
            "running": _in_progress(runs),
            "papers_stored": self.store.count_papers(),
            "latest_digest": latest.date.isoformat() if latest else None,
            "feeds": sorted(p for p in snapshot.assets if p.endswith((".xml", ".json"))),
        }
        if self.settings.profiles:  # team mode: each member's papers and bill, and the total
            body["team"] = team_health(self.settings, self.store)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def config(self, request: Request) -> Response:
        return JSONResponse(
            public_config(self.settings, self.config_dir), headers={"Cache-Control": "no-store"}
        )

    def update_cache(self, request: Request) -> Response:
        if not self.token:
            return JSONResponse({"error": f"disabled: set {ADMIN_TOKEN_ENV} to enable"}, 403)
        given = _bearer_token(request.headers.get("authorization", ""))
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return JSONResponse(
                {"error": "unauthorized"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        if self.refresh is None:
            self.cache.invalidate()
            self.cache.current()
            return JSONResponse({"status": "reloaded from the store"})
        if not self.refreshing.acquire(blocking=False):
            return JSONResponse({"status": "a refresh is already running"}, 409)
        threading.Thread(target=self._refresh, name="refresh", daemon=True).start()
        return JSONResponse({"status": "refresh started"}, 202)

    def _refresh(self) -> None:
        try:
            assert self.refresh is not None
            self.refresh()
        except Exception:
            log.exception("refresh failed")
        finally:
            self.cache.invalidate()
            self.refreshing.release()

    def routes(self) -> list[Route]:
        page = self.asset
        return [
            Route("/", page("index.html")),
            Route("/index.html", page("index.html")),
            Route("/index-expanded.html", page("index-expanded.html")),
            Route("/category/{page}", self.category_page),
            Route("/style.css", page("style.css")),
            Route("/favicon.svg", page("favicon.svg")),
            Route("/favicon.ico", page("favicon.svg")),
            Route("/rss", page("rss.xml")),
            Route("/rss.xml", page("rss.xml")),
            Route("/rss/{category}", self.category_feed("rss", "xml")),
            Route("/atom", page("atom.xml")),
            Route("/atom.xml", page("atom.xml")),
            Route("/atom/{category}", self.category_feed("atom", "xml")),
            Route("/feed.json", page("feed.json")),
            Route("/feed/{category}", self.category_feed("feed", "json")),
            Route("/archive", page("archive/index.html")),
            Route("/archive/", page("archive/index.html")),
            Route("/archive/index.html", page("archive/index.html")),
            Route("/archive/{day}", self.archive_day),
            Route("/papers/{arxiv_id:path}", self.paper),
            Route("/health", self.health),
            Route("/config", self.config),
            Route("/update-cache", self.update_cache, methods=["POST"]),
        ]


def _bearer_token(header: str) -> str:
    """The credentials of ``Authorization: Bearer …``, "" for another scheme (whose name, as
    RFC 7235 has it, is case-insensitive: ``bearer`` is Bearer)."""
    scheme, _, credentials = header.partition(" ")
    return credentials.strip(" ") if scheme.lower() == "bearer" else ""


async def _error(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 404
    messages = {404: "Not found", 405: "Method not allowed"}
    return JSONResponse({"error": messages.get(code, "Error")}, code)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("error serving %s", request.url.path, exc_info=exc)
    return JSONResponse({"error": "Internal server error"}, 500)


def create_app(
    settings: Settings,
    store: Store,
    *,
    refresh: Refresh | None = None,
    admin_token: str | None = None,
    check_every: float = 2.0,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
    config_dir: Path | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """The ASGI app. ``refresh`` runs the daily pipeline (for ``POST /update-cache``);
    ``config_dir``, the config file's folder, is what ``/config`` shows file paths from."""
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV, "")
    cache = SiteCache(settings, store, check_every=check_every)
    endpoints = _Endpoints(
        settings, store, cache, refresh, token, config_dir=config_dir, clock=clock
    )

    programs = Programs(settings, store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if on_startup:
            on_startup()
        try:
            async with programs.running():
                yield
        finally:
            if on_shutdown:
                on_shutdown()

    rating = RatingLinks(settings, store, rating_secret())
    app = Starlette(
        routes=[
            *endpoints.routes(),
            Route("/rate/{target:path}", rating.respond),
            *team_routes(settings, store, check_every=check_every, clock=clock),
            *search_routes(settings, store),
            *programs.routes(),
        ],
        exception_handlers={HTTPException: _error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    return app


def _health_status(runs: list[dict[str, Any]], finished: dict[str, Any] | None) -> str:
    """ "ok" when the last finished run was ok or empty (or none ever ran), else "degraded".

    Rows still marked running are skipped: one may be live. But a whole window of them
    means runs keep dying before they finish (only one run can be live at a time).
    """
    if finished is None:
        return "degraded" if len(runs) >= HEALTH_RUNS else "ok"
    return "ok" if finished["status"] in HEALTHY_RUNS else "degraded"


def _in_progress(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest run, if it has not finished (it may also have died: the next run says)."""
    if not runs or runs[0]["status"] != "running":
        return None
    return {"started_at": _iso(runs[0]["started_at"])}


def _run_summary(last: dict[str, Any] | None) -> dict[str, Any] | None:
    if last is None:
        return None
    return {
        "started_at": _iso(last["started_at"]),
        "finished_at": _iso(last["finished_at"]),
        "status": last["status"],
        "papers_ranked": last["ranked"],
    }


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def public_config(settings: Settings, config_dir: Path | None = None) -> dict[str, Any]:
    """The config without anything secret: no database password, no key (only its name), no
    credentials in a URL, file paths relative to ``config_dir`` (see :mod:`.redact`)."""
    data = settings.model_dump(
        mode="json", exclude={"fetch_ratings", "display_limit", "profiles", "profiles_dir"}
    )
    # Team mode: who is on the team, not what they read or where it is sent.
    data["profiles"] = [
        {"name": name, "private": bool(getattr(profile, "private", False))}
        for name, profile in settings.profiles.items()
    ]
    data["store"] = {"backend": settings.store.url.split(":", 1)[0]}
    data["output"] = {
        "readme": settings.output.readme.name,
        "site_dir": settings.output.site_dir.name,
    }
    summary = data["ai_summary"]
    summary.pop("prompt_file", None)
    summary["api_key_set"] = bool(os.environ.get(settings.ai_summary.api_key_env))
    data["delivery"] = _public_delivery(settings)
    if data["relevance"] is not None:
        data["relevance"] = relevance_paths(data["relevance"], config_dir)
    return dict(mask_urls(data))


def _public_delivery(settings: Settings) -> dict[str, Any] | None:
    """Which channels are set up and whether their secrets are there; no address, host,
    chat id or webhook (a public page need not tell who reads the digest, or where)."""
    delivery = settings.delivery
    if delivery is None:
        return None
    channels = [
        {
            "channel": channel_label(channel),
            "type": "email" if isinstance(channel, EmailSettings) else channel.type,
            "secrets_set": not missing_secrets(channel),
        }
        for channel in configured_channels(delivery)
    ]
    return {
        "channels": channels,
        "send_empty": delivery.send_empty,
        "max_items": delivery.max_items,
    }
