"""The arXiv API (``export.arxiv.org/api/query``): Atom pages, for backfilling the store.

Both response formats are read: the current one and the one before Nov 2025 (opensearch
namespaces declared inline, ``scheme`` on ``primary_category``). The API does not say when
a paper was announced, so :func:`announcement_day` derives the day it was first announced
(as new) from its first submission and arXiv's schedule; the metadata is the latest
version's.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx2
from lxml import etree

from arxiv_digest.config import Settings
from arxiv_digest.errors import FeedError, FetchError
from arxiv_digest.models import Paper, is_monitored
from arxiv_digest.sources import http
from arxiv_digest.sources.text import clean_name, clean_prose, clean_text, split_arxiv_id
from arxiv_digest.sources.xml import convert_each, parse_xml

log = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
EASTERN = ZoneInfo("America/New_York")
SUBMISSION_DEADLINE = dt.time(14, 0)
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ApiPage:
    total: int
    start: int
    papers: tuple[Paper, ...]
    entries: int = 0  # entries on the page, readable or not: where the next page starts


def _next_weekday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def announcement_day(submitted: dt.datetime) -> dt.date:
    """The date of the daily feed that lists a version submitted at ``submitted``.

    arXiv closes submissions at 14:00 US Eastern on weekdays and announces that evening;
    the feed carrying it is dated the next weekday. Holidays are not modelled.
    """
    local = submitted.astimezone(EASTERN)
    deadline_day = local.date()
    if local.weekday() >= 5 or local.time() >= SUBMISSION_DEADLINE:
        deadline_day = _next_weekday(deadline_day)
    return _next_weekday(deadline_day)


def _timestamp(entry: etree._Element, tag: str) -> dt.datetime | None:
    text = entry.findtext(f"{ATOM}{tag}")
    if not text:
        return None
    return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))


def _announce_type(primary: str, monitored: Collection[str] | None) -> str:
    """What the daily feed of the monitored categories called the first announcement.

    A paper whose primary category is not monitored reached the query by a cross-listing:
    the feed listed it as ``cross``. Without categories (a lookup by id) it is ``new``.
    """
    if monitored is None or is_monitored(primary, monitored):
        return "new"
    return "cross"


def _entry_to_paper(entry: etree._Element, monitored: Collection[str] | None = None) -> Paper:
    """One entry as a Paper; ValueError when it cannot be read (the caller skips it)."""
    arxiv_id, version = split_arxiv_id(entry.findtext(f"{ATOM}id") or "")
    categories = tuple(term for c in entry.findall(f"{ATOM}category") if (term := c.get("term")))
    primary_el = entry.find(f"{ARXIV}primary_category")
    primary = primary_el.get("term", "") if primary_el is not None else ""
    primary = primary or (categories[0] if categories else "")
    # The day it was first announced (as new), whatever its current version: that is the day
    # a digest would have listed it, and the order the API sorts by (submittedDate).
    stamp = _timestamp(entry, "published") or _timestamp(entry, "updated")
    if stamp is None:
        raise ValueError(f"entry {arxiv_id} has no date")
    authors = tuple(clean_name(a.findtext(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author"))
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=clean_prose(entry.findtext(f"{ATOM}title")),
        authors=tuple(a for a in authors if a),
        abstract=clean_prose(entry.findtext(f"{ATOM}summary")),
        primary_category=primary,
        categories=categories or ((primary,) if primary else ()),
        announce_type=_announce_type(primary, monitored),
        announced=announcement_day(stamp),
    )


def _api_error(entry: etree._Element) -> str | None:
    entry_id = entry.findtext(f"{ATOM}id") or ""
    if "/api/errors" in entry_id:
        return clean_text(entry.findtext(f"{ATOM}summary")) or "unknown error"
    return None


def parse_api(
    content: bytes, content_type: str = "", monitored: Collection[str] | None = None
) -> ApiPage:
    """One page of API results; ``monitored`` (the configured categories) tells which papers
    were announced as ``new`` and which as ``cross``. Unreadable entries are skipped with one
    counted warning."""
    root = parse_xml(content, content_type)
    if root.tag != f"{ATOM}feed":
        raise FeedError(f"expected an Atom feed from the arXiv API, got <{root.tag}>")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        message = _api_error(entry)
        if message:
            raise FeedError(f"the arXiv API reported an error: {message}")
    papers = tuple(convert_each(entries, lambda e: _entry_to_paper(e, monitored), "API entries"))
    try:
        total = int(root.findtext(f"{OPENSEARCH}totalResults") or len(papers))
        start = int(root.findtext(f"{OPENSEARCH}startIndex") or 0)
    except ValueError as exc:
        raise FeedError(f"unreadable API page: {exc}") from None
    return ApiPage(total=total, start=start, papers=papers, entries=len(entries))


def category_query(categories: list[str]) -> str:
    return " OR ".join(f"cat:{c}" for c in categories)


class ApiClient:
    """Pages through recent submissions, one request per ``api_delay`` seconds at most."""

    def __init__(
        self,
        client: httpx2.Client,
        settings: Settings,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self.sleep = sleep if sleep is not None else time.sleep
        self.clock = clock
        self._last_request: float | None = None

    def _pace(self) -> None:
        delay = self.settings.arxiv.api_delay
        if self._last_request is not None:
            remaining = self._last_request + delay - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        self._last_request = self.clock()

    def _query(self, params: dict[str, str]) -> ApiPage:
        self._pace()
        response = http.get(
            self.client,
            self.settings.arxiv.api_url,
            self.settings.http,
            params=params,
            accept_status=frozenset({400}),
            sleep=self.sleep,
        )
        page = parse_api(response.content, response.content_type, self.settings.categories)
        if response.status == 400:
            raise FetchError("the arXiv API rejected the query (HTTP 400)")
        return page

    def page(self, start: int, size: int = PAGE_SIZE) -> ApiPage:
        """One page of the monitored categories' submissions, newest first."""
        return self._query(
            {
                "search_query": category_query(self.settings.categories),
                "sortBy": "submittedDate",
                "sortOrder": "descending",
                "start": str(start),
                "max_results": str(size),
            }
        )

    def by_ids(self, ids: list[str]) -> list[Paper]:
        """The papers with these ids (a version suffix selects that version)."""
        return list(self._query({"id_list": ",".join(ids), "max_results": str(len(ids))}).papers)

    def _page_with_entries(self, start: int, expected: int) -> ApiPage:
        """The page at ``start``, asked again while arXiv answers it empty too early.

        The API is known to return an empty page before ``totalResults`` now and then;
        it is retried ``http.retries`` times, waiting ``http.backoff`` seconds, doubling.
        """
        policy = self.settings.http
        page = self.page(start)
        for attempt in range(policy.retries):
            if page.entries or start >= max(expected, page.total):
                break
            wait = min(policy.backoff * 2**attempt, policy.max_backoff)
            log.info("API page at %d came back empty; asking again in %.1f s", start, wait)
            self.sleep(wait)
            page = self.page(start)
        return page

    def recent(self, since: dt.date) -> Iterator[Paper]:
        """Papers announced on or after ``since``, newest first, page by page."""
        start = 0
        expected = 0  # totalResults as first announced: an empty page may claim 0
        while True:
            page = self._page_with_entries(start, expected)
            expected = max(expected, page.total)
            log.info("API page at %d: %d of %d entries", start, len(page.papers), expected)
            for paper in page.papers:
                if paper.announced >= since:
                    yield paper
            if not page.entries:
                if start < expected:
                    log.warning(
                        "the arXiv API kept answering an empty page at %d of %d results: "
                        "stopped early, up to %d results were not fetched",
                        start,
                        expected,
                        expected - start,
                    )
                return
            if page.papers and page.papers[-1].announced < since:
                return
            start += page.entries
            if start >= expected:
                return
