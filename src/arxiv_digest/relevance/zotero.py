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
library. Requests go through ``sources.http.get`` (retries per ``http`` settings, honouring
``Retry-After``/``Backoff``, the total deadline); a ``Backoff`` on a successful page is
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
from collections.abc import Iterator
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


def read_zotero(
    source: ZoteroSource,
    client: httpx2.Client,
    settings: Settings,
    *,
    store: LibrarySyncStore | None = None,
    sleep: Sleep | None = None,
    page_size: int = PAGE_SIZE,
) -> list[LibraryPaper]:
    """Every item of the library (or collection) but attachments and notes; what could be
    read (or the last read's items) on error, with one warning."""
    key = (os.environ.get(source.api_key_env) or "").strip() or None
    reader = _Reader(source, client, settings.http, key=key, sleep=sleep, page_size=page_size)
    snapshot = store.library_snapshot(sync_key(source)) if store is not None else None
    items: dict[str, Any] = {}
    try:
        if snapshot is None:
            version = reader.everything(items)
        else:
            items = dict(snapshot[1])
            version = reader.changes(snapshot[0], items)
    except (ZoteroError, FetchError) as exc:
        message = str(exc).replace(key, "***") if key else str(exc)
        if snapshot is not None:
            items = snapshot[1]
            kept = f"; using its last read (version {snapshot[0]}, {len(items)} items)"
        else:
            kept = f"; {len(items)} items read before" if items else ""
        log.warning("library: %s could not be read (%s)%s", reader.origin, message, kept)
        return _papers(items, reader.origin)
    if store is not None and version is not None:
        store.save_library_snapshot(sync_key(source), version, items, dt.datetime.now(dt.UTC))
    papers = _papers(items, reader.origin)
    log.info("library: %d items from %s", len(papers), reader.origin)
    return papers


def _papers(items: dict[str, Any], origin: str) -> list[LibraryPaper]:
    return [p for item in items.values() if (p := _paper(item, origin)) is not None]


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
    ) -> None:
        self.source, self.client, self.http, self.sleep = source, client, http, sleep
        self.page_size = page_size
        self.origin = describe(source)
        self.headers = {"Zotero-API-Version": "3"} | ({"Zotero-API-Key": key} if key else {})
        self.key = key

    def everything(self, items: dict[str, Any]) -> int | None:
        """Read every item into ``items``; the library's version (None if not given)."""
        version = None
        for page, response in self._pages(_items_url(self.source), {}):
            version = version or _int_header(response, "Last-Modified-Version")
            items.update((i["key"], i) for i in page if _kept(i))
        return version

    def changes(self, since: int, items: dict[str, Any]) -> int:
        """Apply to ``items`` what changed since version ``since``; the new version."""
        collection = self.source.collection
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
            for item in page:
                key = item.get("key") if isinstance(item, dict) else None
                if not isinstance(key, str):
                    continue
                data = item.get("data") if isinstance(item.get("data"), dict) else {}
                inside = collection is None or collection in (data.get("collections") or [])
                if _kept(item) and inside:
                    items[key] = item
                else:
                    items.pop(key, None)
        for key in self._deleted(since):
            items.pop(key, None)
        return version

    def _deleted(self, since: int) -> list[str]:
        url = _library_url(self.source) + "/deleted"
        response = get(
            self.client,
            url,
            self.http,
            params={"since": str(since)},
            headers=self.headers,
            accept_status=_EXPLAINED,
            sleep=self.sleep,
        )
        _check_status(response, self.source, self.key)
        found = _json(response).get("items") if isinstance(_json(response), dict) else None
        return [k for k in found if isinstance(k, str)] if isinstance(found, list) else []

    def _pages(
        self, url: str, extra: dict[str, str], headers: dict[str, str] | None = None
    ) -> Iterator[tuple[list[Any], Response]]:
        start = 0
        while True:
            params = {"format": "json", "limit": str(self.page_size), "start": str(start), **extra}
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
            if response.status == 304:
                yield [], response
                return
            items = _json(response)
            if not isinstance(items, list):
                raise ZoteroError("the reply is not a list of items")
            yield items, response
            start += len(items)
            total = _int_header(response, "Total-Results")
            if not items or (start >= total if total is not None else len(items) < self.page_size):
                return
            wait = _int_header(response, "Backoff")
            if wait:
                (self.sleep or time.sleep)(min(float(wait), self.http.max_backoff))


def _kept(item: Any) -> bool:
    data = item.get("data") if isinstance(item, dict) else None
    return (
        isinstance(data, dict)
        and isinstance(item.get("key"), str)
        and data.get("itemType") not in SKIPPED_TYPES
    )


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
    return int(value) if value.isdigit() else None


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


def _date(value: str) -> dt.date | None:
    """Zotero's free-form date: "2024-01-15", "2024-01", "January 2024", "2024"."""
    full = _DATE.match(value.strip())
    if full:
        year, month, day = (int(part) if part else 1 for part in full.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return dt.date(year, 1, 1)
    year_only = _YEAR.search(value)
    return dt.date(int(year_only.group(1)), 1, 1) if year_only else None


def _paper(item: Any, origin: str) -> LibraryPaper | None:
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict) or data.get("itemType") in SKIPPED_TYPES:
        return None
    text = {k: str(data.get(k) or "") for k in ("archiveID", "url", "extra", "DOI")}
    return make_entry(
        title=clean_prose(str(data.get("title") or "")),
        abstract=clean_prose(str(data.get("abstractNote") or "")),
        authors=_authors(data.get("creators")),
        arxiv_id=arxiv_id_in(" ".join(text.values())),
        doi=text["DOI"],
        added=_date(str(data.get("date") or "")),
        origin=origin,
    )
