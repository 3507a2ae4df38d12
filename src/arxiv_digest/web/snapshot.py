"""The service's view of the store: the rendered site, rebuilt only when a run is recorded.

Requests read an immutable :class:`Snapshot` (bytes, gzip bytes, ETag); a daily run in
progress never shows half-written data, because a new snapshot replaces the old one in a
single assignment once it is complete. Every process builds the same bytes from the same
store, so ETags agree across workers and restarts.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from arxiv_digest.config import Settings
from arxiv_digest.models import DigestEntry, PublishedDigest
from arxiv_digest.publish.content import SiteContent, load_content
from arxiv_digest.publish.site import digest_page, render_site
from arxiv_digest.store import Store

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/feed+json; charset=utf-8",
}
FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str
    last_modified: str

    @classmethod
    def of(cls, body: bytes, content_type: str, modified: dt.datetime) -> Asset:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            content_type=content_type,
            etag=f'"{digest}"',
            last_modified=email.utils.format_datetime(modified.astimezone(dt.UTC), usegmt=True),
        )


def content_type_for(path: str) -> str:
    if path.endswith(".xml"):
        kind = path.split("/", 1)[0].removesuffix(".xml")
        return FEED_TYPES.get(kind, "application/xml; charset=utf-8")
    return CONTENT_TYPES.get(path[path.rfind(".") :], "application/octet-stream")


@dataclass(frozen=True)
class Snapshot:
    version: tuple[int, int]
    content: SiteContent
    assets: dict[str, Asset]
    entries: dict[str, DigestEntry] = field(default_factory=dict)  # arXiv id -> latest entry


def build_snapshot(settings: Settings, store: Store, version: tuple[int, int]) -> Snapshot:
    content = load_content(store, settings)
    modified = content.built_at
    assets = {
        path: Asset.of(body, content_type_for(path), modified)
        for path, body in render_site(content, settings).items()
    }
    entries: dict[str, DigestEntry] = {}
    for day in reversed(content.days):  # newest last, so it wins
        for entry in day.entries:
            entries[entry.ranked.paper.arxiv_id] = entry
    return Snapshot(version=version, content=content, assets=assets, entries=entries)


class SiteCache:
    """Hands out the current snapshot; looks at the store at most every ``check_every`` s."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        check_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.store = store
        self.check_every = check_every
        self.clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")
        self._paper_pages: dict[tuple[tuple[int, int], str], Asset] = {}

    def current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and self.clock() - self._checked < self.check_every:
            return snapshot
        with self._lock:
            if self._snapshot is not None and self.clock() - self._checked < self.check_every:
                return self._snapshot
            version = self.store.publication_version()
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = build_snapshot(self.settings, self.store, version)
                log.info("site snapshot rebuilt for store version %s", version)
            self._checked = self.clock()
            return self._snapshot

    def invalidate(self) -> None:
        self._checked = float("-inf")

    def paper_page(self, arxiv_id: str) -> Asset | None:
        snapshot = self.current()
        entry = snapshot.entries.get(arxiv_id)
        if entry is None:
            return None
        key = (snapshot.version, arxiv_id)
        page = self._paper_pages.get(key)
        if page is None:
            day = PublishedDigest(entry.ranked.paper.announced, snapshot.content.built_at, (entry,))
            body = digest_page(day, self.settings, root="../")
            page = Asset.of(body, CONTENT_TYPES[".html"], snapshot.content.built_at)
            self._paper_pages = {
                k: v for k, v in self._paper_pages.items() if k[0] == snapshot.version
            }
            self._paper_pages[key] = page
        return page
