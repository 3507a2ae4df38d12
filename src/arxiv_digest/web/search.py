"""``GET /search?q=...`` (a page) and ``GET /search.json?q=...``: search every stored paper.

Parameters, all optional but ``q`` (an empty one is ignored, as a form sends it):
``q`` words, ``"phrases"``, ``-excluded``, ``a OR b``; ``category`` (cs.LG, or an archive:
cs); ``from`` / ``to`` announcement days (YYYY-MM-DD); ``shown`` yes | no (listed in a
published digest); ``rated`` any | up | down | none; ``sort`` relevance | newest; ``page``
(from 1); ``limit`` (1-100, 20). Anything invalid is a 400 with one short sentence: the
page keeps the form filled in. What the reader typed is only ever shown as escaped text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from arxiv_digest.config import Settings
from arxiv_digest.errors import SearchError, StoreError
from arxiv_digest.models import SearchHit, SearchPage
from arxiv_digest.publish.site import render_page
from arxiv_digest.store import Store
from arxiv_digest.store.search import MAX_OFFSET, RATED, SORTS

log = logging.getLogger(__name__)
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
PER_PAGE = 20
FIELDS = ("q", "category", "from", "to", "shown", "rated", "sort", "limit")
SHOWN = {"yes": True, "no": False}
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER = re.compile(r"[0-9]{1,6}")  # not str.isdigit(): "²" and "①" are digits int() refuses


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """The query string, checked: what the store's search is called with."""

    query: str
    params: dict[str, str]  # as given (non-empty), to fill the form and build page links
    page: int
    limit: int
    category: str | None
    since: dt.date | None
    until: dt.date | None
    shown: bool | None
    rated: str | None
    sort: str

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> SearchRequest:
        """Raises :class:`SearchError` naming the first parameter that is wrong."""
        params = {k: query[k].strip() for k in (*FIELDS, "page") if query.get(k, "").strip()}
        limit = _number(params, "limit", PER_PAGE)
        page = _number(params, "page", 1)
        if page < 1 or (page - 1) * limit > MAX_OFFSET:
            raise SearchError(f"page is from 1 to {MAX_OFFSET // max(limit, 1) + 1}")
        shown = params.get("shown")
        if shown is not None and shown not in SHOWN:
            raise SearchError("shown is yes or no")
        rated = params.get("rated")
        if rated is not None and rated not in RATED:
            raise SearchError(f"rated is one of {', '.join(RATED)}")
        sort = params.get("sort", "relevance")
        if sort not in SORTS:
            raise SearchError(f"sort is one of {', '.join(SORTS)}")
        return cls(
            query=params.get("q", ""),
            params={k: v for k, v in params.items() if k != "page"},
            page=page,
            limit=limit,
            category=params.get("category"),
            since=_day(params, "from"),
            until=_day(params, "to"),
            shown=SHOWN[shown] if shown is not None else None,
            rated=rated,
            sort=sort,
        )

    def run(self, store: Store) -> SearchPage:
        return store.search(
            self.query,
            limit=self.limit,
            offset=(self.page - 1) * self.limit,
            category=self.category,
            since=self.since,
            until=self.until,
            shown=self.shown,
            rated=self.rated,
            sort=self.sort,
        )

    def link(self, path: str, page: int) -> str:
        """This search's page ``page`` (relative to the site root)."""
        return f"{path}?{urlencode({**self.params, **({'page': page} if page > 1 else {})})}"


def _number(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not NUMBER.fullmatch(raw):
        raise SearchError(f"{name} is a whole number")
    return int(raw)


def _day(params: dict[str, str], name: str) -> dt.date | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise SearchError(f"{name} is a day: YYYY-MM-DD") from None


def hit_json(hit: SearchHit) -> dict[str, Any]:
    paper = hit.paper
    return {
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "title_html": hit.title.html,
        "authors": list(paper.authors),
        "primary_category": paper.primary_category,
        "categories": list(paper.categories),
        "announced": paper.announced.isoformat(),
        "score": round(hit.score, 4),
        "snippet": hit.snippet.text,
        "snippet_html": hit.snippet.html,
        "snippet_from": hit.snippet_from,
        "shown_on": hit.shown_on.isoformat() if hit.shown_on else None,
        "rating": hit.rating,
        "url": paper.abs_url,
        "page": f"papers/{paper.arxiv_id}",
    }


def page_json(found: SearchPage, links: dict[str, str | None] | None = None) -> dict[str, Any]:
    """One page of results as ``/search.json`` and ``arxiv-digest search --json`` give it."""
    return {
        "query": found.query,
        "total": found.total,
        "total_capped": found.capped,
        "offset": found.offset,
        "limit": found.limit,
        **(links or {}),
        "results": [hit_json(hit) for hit in found.hits],
    }


class SearchPages:
    """The two endpoints, over the store the service reads."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def routes(self) -> list[Route]:
        return [Route("/search", self.html), Route("/search.json", self.json)]

    def json(self, request: Request) -> Response:
        try:
            wanted = SearchRequest.parse(request.query_params)
            if not wanted.query:
                raise SearchError("q is required: the words to search for")
            found = wanted.run(self.store)
        except SearchError as exc:
            return JSONResponse({"error": str(exc)}, 400, headers=HEADERS)
        except StoreError as exc:
            log.error("search failed: %s", exc)
            return JSONResponse({"error": "search is unavailable"}, 503, headers=HEADERS)
        links = {
            "previous": wanted.link("search.json", wanted.page - 1) if wanted.page > 1 else None,
            "next": wanted.link("search.json", wanted.page + 1) if found.has_next else None,
        }
        return JSONResponse(page_json(found, links), headers=HEADERS)

    def html(self, request: Request) -> Response:
        wanted: SearchRequest | None = None
        found: SearchPage | None = None
        try:
            wanted = SearchRequest.parse(request.query_params)
            if wanted.query:
                found = wanted.run(self.store)
        except SearchError as exc:
            return self._page(400, wanted, None, str(exc), request)
        except StoreError as exc:
            log.error("search failed: %s", exc)
            return self._page(503, wanted, None, "Search is unavailable right now.", request)
        return self._page(200, wanted, found, "", request)

    def _page(
        self,
        status: int,
        wanted: SearchRequest | None,
        found: SearchPage | None,
        error: str,
        request: Request,
    ) -> Response:
        # A request that did not parse still gets its form back, as typed (escaped).
        given = wanted.params if wanted else {k: request.query_params.get(k, "") for k in FIELDS}
        query = given.get("q", "")
        title = f"{query} · Search" if query else "Search"
        body = render_page(
            "search.html.j2",
            self.settings,
            "",
            page_title=f"{title} · {self.settings.feeds.title}",
            form={k: given.get(k, "")[:300] for k in FIELDS},
            error=error,
            found=found,
            previous=wanted.link("search", wanted.page - 1) if wanted and wanted.page > 1 else "",
            next=wanted.link("search", wanted.page + 1)
            if wanted and found and found.has_next
            else "",
            page_number=wanted.page if wanted else 1,
            rated_choices=RATED,
            sort_choices=SORTS,
        )
        return HTMLResponse(body, status_code=status, headers=HEADERS)


def search_routes(settings: Settings, store: Store) -> list[Route]:
    return SearchPages(settings, store).routes()
