"""A Zotero library read through the Zotero Web API v3, at every run.

``GET {base_url}/users/{id}/items`` (or ``/groups/{id}/…``, ``…/collections/{key}/items``)
with ``format=json``, 100 items a page (``start=``) until ``Total-Results`` is reached.
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
from typing import Any
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
    settings: Settings, client: httpx2.Client, *, sleep: Sleep | None = None
) -> list[LibraryPaper]:
    """The entries of every Zotero source of ``relevance.library``, in order."""
    entries: list[LibraryPaper] = []
    for source in settings.library:
        if source.kind == "zotero" and source.zotero is not None:
            entries.extend(read_zotero(source.zotero, client, settings, sleep=sleep))
    return entries


def read_zotero(
    source: ZoteroSource,
    client: httpx2.Client,
    settings: Settings,
    *,
    sleep: Sleep | None = None,
    page_size: int = PAGE_SIZE,
) -> list[LibraryPaper]:
    """Every item of the library (or collection) but attachments and notes; [] on error."""
    key = (os.environ.get(source.api_key_env) or "").strip() or None
    origin = describe(source)
    papers: list[LibraryPaper] = []
    try:
        for items in _pages(
            source, client, settings.http, key=key, sleep=sleep, page_size=page_size
        ):
            papers.extend(p for p in map(_paper, items, [origin] * len(items)) if p is not None)
    except (ZoteroError, FetchError) as exc:
        message = str(exc).replace(key, "***") if key else str(exc)
        read = f"; {len(papers)} items read before" if papers else ""
        log.warning("library: %s could not be read (%s)%s", origin, message, read)
        return papers
    log.info("library: %d items from %s", len(papers), origin)
    return papers


def _items_url(source: ZoteroSource) -> str:
    url = f"{str(source.base_url).rstrip('/')}/{source.library_type}s/"
    url += quote(source.library_id, safe="")
    if source.collection:
        url += "/collections/" + quote(source.collection, safe="")
    return url + "/items"


def _pages(
    source: ZoteroSource,
    client: httpx2.Client,
    http: HttpSettings,
    *,
    key: str | None,
    sleep: Sleep | None,
    page_size: int,
) -> Iterator[list[Any]]:
    url = _items_url(source)
    headers = {"Zotero-API-Version": "3"}
    if key:
        headers["Zotero-API-Key"] = key
    start = 0
    while True:
        params = {"format": "json", "limit": str(page_size), "start": str(start)}
        response = get(
            client, url, http, params=params, headers=headers, accept_status=_EXPLAINED, sleep=sleep
        )
        _check_status(response, source, key)
        try:
            items = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ZoteroError(f"the reply is not JSON: {exc}") from None
        if not isinstance(items, list):
            raise ZoteroError("the reply is not a list of items")
        yield items
        start += len(items)
        total = _int_header(response, "Total-Results")
        if not items or (start >= total if total is not None else len(items) < page_size):
            return
        wait = _int_header(response, "Backoff")
        if wait:
            (sleep or time.sleep)(min(float(wait), http.max_backoff))


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
