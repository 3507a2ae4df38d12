"""A Zotero library read through the Zotero Web API v3, at every run, incrementally.

The first read is ``GET {base_url}/users/{id}/items`` (or ``/groups/{id}/…``,
``…/collections/{key}/items``) with ``format=json``, 100 items a page (``start=``) until
``Total-Results`` is reached. With a store, the items and the library's version
(``Last-Modified-Version``) are kept, and later runs ask only what changed:
``items?since=V`` with ``If-Modified-Since-Version: V`` (one 304 when nothing did), then
``deleted?since=V`` for the items removed. For a collection the changes are asked of the
whole library and an item that left the collection is dropped. When Zotero cannot be
reached, the library of the last read is used, with a warning.
Attachments, notes and annotations are skipped; the rest becomes :class:`LibraryPaper`
entries keyed like the file entries (arXiv id from ``archiveID``, ``url``, ``extra`` or an
arXiv ``DOI``), so a paper both in a file and in Zotero counts once.

The API key comes from the environment variable named by ``api_key_env`` and is sent only
as the ``Zotero-API-Key`` header: never in a URL, a log line or an error. Without a key the
request goes out anyway (public group libraries need none).

Never fatal: a library that cannot be read (network after retries, 403, 404, a reply that
is not Zotero's JSON) is one warning naming it, and the run goes on with the rest of the
library. A read that would not end (a server that ignores ``start=`` or announces more
items than :class:`ReadLimits` allows, or one past its deadline) is stopped the same way,
with what was read (never stored: the next run reads again) or the last read. Each item is
checked for the fields read here: one that is not shaped like Zotero's is skipped, and one
whose date is no date ("0000-00-00") kept without it, all counted in one warning; the
stored read is checked again when it is used, so no item can stop a later run.

Requests go through ``sources.http.get`` (retries per ``http`` settings, honouring
``Retry-After``/``Backoff``, each request's deadline); a ``Backoff`` on a successful page is
waited out before the next one, as Zotero asks.

Plain ``httpx2`` rather than pyzotero: pyzotero 1.16 requires ``bibtexparser<2`` (we pin
2.1) and has no base-URL setting, and this is the project's HTTP stack already.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx2

from arxiv_digest.config import HttpSettings, Settings, ZoteroSource
from arxiv_digest.errors import FetchError
from arxiv_digest.relevance.library import LibraryPaper, arxiv_id_in, make_entry
from arxiv_digest.retry import Sleep
from arxiv_digest.sources.http import Response, get
from arxiv_digest.sources.text import clean_name, clean_prose

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the API's maximum
SKIPPED_TYPES = frozenset({"attachment", "note", "annotation"})
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_YEAR = re.compile(r"\b(\d{4})\b")
_EXPLAINED = frozenset({403, 404})  # statuses answered with what to do about them


class ZoteroError(Exception):
    """The library could not be read; the message is safe to log (no key in it)."""


def describe(source: ZoteroSource) -> str:
    """How messages name the library: "Zotero group 456, collection ABCD"."""
    name = f"Zotero {source.library_type} library {source.library_id}"
    return f"{name}, collection {source.collection}" if source.collection else name


def read_zotero_sources(
    settings: Settings,
    client: httpx2.Client,
    *,
    store: LibrarySyncStore | None = None,
    sleep: Sleep | None = None,
) -> list[LibraryPaper]:
    """The entries of every Zotero source of ``relevance.library``, in order."""
    entries: list[LibraryPaper] = []
    for source in settings.library:
        if source.kind == "zotero" and source.zotero is not None:
            entries.extend(read_zotero(source.zotero, client, settings, store=store, sleep=sleep))
    return entries


class LibrarySyncStore(Protocol):
    def library_snapshot(self, source: str) -> tuple[int, dict[str, Any]] | None: ...

    def save_library_snapshot(
        self, source: str, version: int, items: dict[str, Any], now: dt.datetime
    ) -> None: ...


def sync_key(source: ZoteroSource) -> str:
    """What the store keeps this library's last read under (no key in it)."""
    return f"zotero:{_items_url(source)}"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Where one library's read stops, whatever the server says: a server that ignores
    ``start=`` or announces a billion items must not hold the run."""

    max_items: int = 100_000  # 1,000 pages of 100
    deadline: float = 600.0  # seconds for the whole read, all pages and retries
    clock: Callable[[], float] = time.monotonic


def read_zotero(
    source: ZoteroSource,
    client: httpx2.Client,
    settings: Settings,
    *,
    store: LibrarySyncStore | None = None,
    sleep: Sleep | None = None,
    page_size: int = PAGE_SIZE,
    limits: ReadLimits = ReadLimits(),
) -> list[LibraryPaper]:
    """Every item of the library (or collection) but attachments and notes; what could be
    read (or the last read's items) on error, with one warning."""
    key = (os.environ.get(source.api_key_env) or "").strip() or None
    reader = _Reader(
        source, client, settings.http, key=key, sleep=sleep, page_size=page_size, limits=limits
    )
    snapshot = store.library_snapshot(sync_key(source)) if store is not None else None
    items: dict[str, Any] = {}
    try:
        if snapshot is None:
            version = reader.everything(items)
        else:
            items = dict(snapshot[1])
            version = reader.changes(snapshot[0], items)
    except (ZoteroError, FetchError) as exc:
        reader.flaws.report(reader.origin)
        return _papers(_fallback(exc, reader, items, snapshot), reader.origin)
    reader.flaws.report(reader.origin)
    if store is not None and version is not None:
        store.save_library_snapshot(sync_key(source), version, items, dt.datetime.now(dt.UTC))
    papers = _papers(items, reader.origin)
    log.info("library: %d items from %s", len(papers), reader.origin)
    return papers


def _fallback(
    exc: Exception,
    reader: _Reader,
    items: dict[str, Any],
    snapshot: tuple[int, dict[str, Any]] | None,
) -> dict[str, Any]:
    """What a failed or stopped read leaves to rank by, said in one warning: the last
    read if there is one, else what was read before the failure."""
    message = str(exc).replace(reader.key, "***") if reader.key else str(exc)
    if snapshot is not None:
        items = snapshot[1]
        kept = f"; using its last read (version {snapshot[0]}, {len(items)} items)"
    else:
        kept = f"; {len(items)} items read before" if items else ""
    failed = "was not read in full" if isinstance(exc, _Unfinished) else "could not be read"
    log.warning("library: %s %s (%s)%s", reader.origin, failed, message, kept)
    return items


def _papers(items: dict[str, Any], origin: str) -> list[LibraryPaper]:
    """The papers of ``items``; an item that is not Zotero's (a store written by an
    earlier version, or damaged) is left out, never a crash."""
    papers = [p for item in items.values() if (p := _paper(item, origin)) is not None]
    broken = sum(1 for item in items.values() if _problem(item) is not None)
    if broken:
        log.warning("library: %s: %d stored items are not Zotero items, left out", origin, broken)
    return papers


@dataclass
class _Flaws:
    """Items of a reply that could not be used as they are, for one warning per read."""

    skipped: dict[str, list[str | None]] = field(default_factory=dict)  # keys by problem
    undated: list[str] = field(default_factory=list)  # 'Y0 "0000-00-00"'

    def skip(self, item: Any, problem: str) -> None:
        key = item.get("key") if isinstance(item, dict) else None
        self.skipped.setdefault(problem, []).append(key if isinstance(key, str) else None)

    def report(self, origin: str) -> None:
        parts = []
        if self.skipped:
            count = sum(map(len, self.skipped.values()))
            found = "; ".join(f"{why}: {_named(keys)}" for why, keys in self.skipped.items())
            parts.append(f"{count} items skipped, not shaped like Zotero items ({found})")
        if self.undated:
            dates = _named(list(self.undated))
            parts.append(f"{len(self.undated)} items kept without their date ({dates})")
        if parts:
            log.warning("library: %s: %s", origin, "; ".join(parts))


def _named(keys: list[str | None]) -> str:
    """The keys, three at most ("K1, K2, K3 and 2 more"); a count if none has one."""
    shown = [k for k in keys if k][:3]
    rest = len(keys) - len(shown)
    if not shown:
        return f"{rest} item{'s' if rest > 1 else ''}"
    return ", ".join(shown) + (f" and {rest} more" if rest else "")


class _Unfinished(ZoteroError):
    """The read was stopped before the server said it was complete."""


class _Reader:
    """The requests of one library's read; items are collected by their Zotero key."""

    def __init__(
        self,
        source: ZoteroSource,
        client: httpx2.Client,
        http: HttpSettings,
        *,
        key: str | None,
        sleep: Sleep | None,
        page_size: int,
        limits: ReadLimits,
    ) -> None:
        self.source, self.client, self.http, self.sleep = source, client, http, sleep
        self.page_size, self.limits = page_size, limits
        self.started = limits.clock()
        self.origin = describe(source)
        self.headers = {"Zotero-API-Version": "3"} | ({"Zotero-API-Key": key} if key else {})
        self.key = key
        self.flaws = _Flaws()

    def everything(self, items: dict[str, Any]) -> int | None:
        """Read every item into ``items``; the library's version (None if not given)."""
        version = None
        for page, response in self._pages(_items_url(self.source), {}):
            version = version or _int_header(response, "Last-Modified-Version")
            items.update((key, item) for key, item in self._checked(page) if _kept(item))
        return version

    def changes(self, since: int, items: dict[str, Any]) -> int:
        """Apply to ``items`` what changed since version ``since``; the new version. A
        changed item that is not shaped like Zotero's is skipped: its last good read stays."""
        version = since
        changed = self._pages(
            _library_url(self.source) + "/items",
            {"since": str(since)},
            {"If-Modified-Since-Version": str(since)},
        )
        for page, response in changed:
            if response.status == 304:
                return since
            version = max(version, _int_header(response, "Last-Modified-Version") or since)
            for key, item in self._checked(page):
                if _kept(item) and self._inside(item):
                    items[key] = item
                else:
                    items.pop(key, None)
        for key in self._deleted(since):
            items.pop(key, None)
        return version

    def _inside(self, item: dict[str, Any]) -> bool:
        collection = self.source.collection
        return collection is None or collection in (item["data"].get("collections") or [])

    def _checked(self, page: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The page's items shaped like Zotero's, by key; the others noted as flaws."""
        for item in page:
            problem = _problem(item)
            if problem is not None:
                self.flaws.skip(item, problem)
                continue
            if _kept(item) and _bad_date(item["data"]):
                self.flaws.undated.append(f"{item['key']} {json.dumps(item['data']['date'])}")
            yield item["key"], item

    def _deleted(self, since: int) -> list[str]:
        response = self._get(_library_url(self.source) + "/deleted", {"since": str(since)})
        reply = _json(response)
        found = reply.get("items") if isinstance(reply, dict) else None
        return [k for k in found if isinstance(k, str)] if isinstance(found, list) else []

    def _get(
        self, url: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> Response:
        """One request (with its retries), unless the read's deadline has passed."""
        if self.limits.clock() - self.started > self.limits.deadline:
            raise _Unfinished(f"stopped after {self.limits.deadline:g} s, the read's deadline")
        response = get(
            self.client,
            url,
            self.http,
            params=params,
            headers=self.headers | (headers or {}),
            accept_status=_EXPLAINED,
            sleep=self.sleep,
        )
        _check_status(response, self.source, self.key)
        return response

    def _pages(
        self, url: str, extra: dict[str, str], headers: dict[str, str] | None = None
    ) -> Iterator[tuple[list[Any], Response]]:
        """Each page until the server's total (or a short page). A page that brings no item
        not already read ends the read: complete if it is short, else unfinished (the server
        ignores ``start=``), as are reads past ``max_items`` or the deadline."""
        start, seen = 0, set[str]()
        while True:
            params = {"format": "json", "limit": str(self.page_size), "start": str(start), **extra}
            response = self._get(url, params, headers)
            if response.status == 304:
                yield [], response
                return
            items = _json(response)
            if not isinstance(items, list):
                raise ZoteroError("the reply is not a list of items")
            keys = {
                i["key"] for i in items if isinstance(i, dict) and isinstance(i.get("key"), str)
            }
            if start and items and keys <= seen:
                if len(items) < self.page_size:
                    return  # start= ignored, but the whole answer fits in the page: all read
                raise _Unfinished(
                    f"the page at start={start} brings no item not read before: "
                    "the server does not page"
                )
            seen |= keys
            yield items, response
            start += len(items)
            total = _int_header(response, "Total-Results")
            if not items or (start >= total if total is not None else len(items) < self.page_size):
                return
            self._check_size(start, total)
            self._back_off(response)

    def _check_size(self, read: int, total: int | None) -> None:
        most = self.limits.max_items
        if total is not None and total > most:
            raise _Unfinished(f"the server announces {total} items, more than {most} read at most")
        if read >= most:
            raise _Unfinished(f"more than {most} items, the most read")

    def _back_off(self, response: Response) -> None:
        wait = _int_header(response, "Backoff")
        if wait:
            (self.sleep or time.sleep)(min(float(wait), self.http.max_backoff))


_TEXT_FIELDS = ("itemType", "title", "abstractNote", "date", "archiveID", "url", "extra", "DOI")


def _problem(item: Any) -> str | None:
    """Why ``item`` is not shaped like a Zotero item (the fields read here), or None."""
    if not isinstance(item, dict):
        return "not an object"
    if not isinstance(item.get("key"), str) or not item["key"]:
        return "no key"
    data = item.get("data")
    return _data_problem(data) if isinstance(data, dict) else "no data"


def _data_problem(data: dict[str, Any]) -> str | None:
    for name in _TEXT_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], str):
            return f"{name} is not text"
    for name in ("creators", "collections"):
        if data.get(name) is not None and not isinstance(data[name], list):
            return f"{name} is not a list"
    if not all(isinstance(c, str) for c in data.get("collections") or []):
        return "collections holds something else than collection keys"
    return None


def _kept(item: dict[str, Any]) -> bool:
    """A paper, not an attachment, a note or an annotation (``item`` has no problem)."""
    return item["data"].get("itemType") not in SKIPPED_TYPES


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZoteroError(f"the reply is not JSON: {exc}") from None


def _library_url(source: ZoteroSource) -> str:
    url = f"{str(source.base_url).rstrip('/')}/{source.library_type}s/"
    return url + quote(source.library_id, safe="")


def _items_url(source: ZoteroSource) -> str:
    url = _library_url(source)
    if source.collection:
        url += "/collections/" + quote(source.collection, safe="")
    return url + "/items"


def _check_status(response: Response, source: ZoteroSource, key: str | None) -> None:
    status = response.status
    if status < 400:
        return
    if status == 403 and key is None:
        detail = (
            f"set {source.api_key_env} to a key with read access "
            "(zotero.org/settings/keys); only public groups can be read without one"
        )
    elif status == 403:
        detail = f"the key in {source.api_key_env} has no read access to this library"
    elif status == 404:
        detail = "no such library or collection: check library_id, library_type, collection"
    else:
        detail = "unexpected answer"
    raise ZoteroError(f"HTTP {status}: {detail}")


def _int_header(response: Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _authors(creators: Any) -> tuple[str, ...]:
    names = []
    for creator in creators if isinstance(creators, list) else []:
        if not isinstance(creator, dict) or creator.get("creatorType", "author") != "author":
            continue
        full = creator.get("name") or " ".join(
            str(creator[part]) for part in ("firstName", "lastName") if creator.get(part)
        )
        if full:
            names.append(clean_name(str(full)))
    return tuple(names)


def _parsed_date(value: str) -> dt.date | None:
    """Zotero's free-form date: "2024-01-15", "2024-01", "January 2024", "2024"; None when
    it names none ("n.d."), ValueError for one no calendar has ("0000-00-00")."""
    full = _DATE.match(value.strip())
    if full:
        year, month, day = (int(part) if part else 1 for part in full.groups())
    elif found := _YEAR.search(value):
        year, month, day = int(found.group(1)), 1, 1
    else:
        return None
    if year < dt.MINYEAR:
        raise ValueError(f"year {year}")
    try:
        return dt.date(year, month, day)
    except ValueError:  # "2024-00-00": Zotero's year alone
        return dt.date(year, 1, 1)


def _date(value: str) -> dt.date | None:
    try:
        return _parsed_date(value)
    except ValueError:
        return None


def _bad_date(data: dict[str, Any]) -> bool:
    try:
        _parsed_date(data.get("date") or "")
    except ValueError:
        return True
    return False


def _paper(item: Any, origin: str) -> LibraryPaper | None:
    if _problem(item) is not None or not _kept(item):
        return None
    data = item["data"]
    text = {k: data.get(k) or "" for k in ("archiveID", "url", "extra", "DOI")}
    return make_entry(
        title=clean_prose(data.get("title") or ""),
        abstract=clean_prose(data.get("abstractNote") or ""),
        authors=_authors(data.get("creators")),
        arxiv_id=arxiv_id_in(" ".join(text.values())),
        doi=text["DOI"],
        added=_date(data.get("date") or ""),
        origin=origin,
    )
