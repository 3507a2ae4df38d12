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
from dataclasses import dataclass

from arxiv_digest.config import Settings
from arxiv_digest.models import Paper
from arxiv_digest.publish.content import SiteContent, appearances, load_content
from arxiv_digest.publish.site import paper_page, render_site
from arxiv_digest.store import Store

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/feed+json; charset=utf-8",
}
PAPER_PAGES_KEPT = 1024
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


def build_snapshot(settings: Settings, store: Store, version: tuple[int, int]) -> Snapshot:
    content = load_content(store, settings)
    modified = content.built_at
    assets = {
        path: Asset.of(body, content_type_for(path), modified)
        for path, body in render_site(content, settings).items()
    }
    return Snapshot(version=version, content=content, assets=assets)


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
        self._paper_pages: dict[tuple[tuple[int, int], str, int], Asset] = {}

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

    def paper_page(self, arxiv_id: str, version: int = 0) -> Asset | None:
        """The page of any stored paper: its latest version, or ``version`` if stored.

        Pages are kept for the current snapshot only (at most ``PAPER_PAGES_KEPT``, so a
        crawler cannot fill the memory); a missing paper is looked up again every time.
        """
        snapshot = self.current()
        key = (snapshot.version, arxiv_id, version)
        page = self._paper_pages.get(key)
        if page is not None:
            return page
        paper = self.store.paper(arxiv_id, version)
        if paper is None:
            return None
        page = self._render_paper(snapshot, paper)
        kept = {k: v for k, v in self._paper_pages.items() if k[0] == snapshot.version}
        self._paper_pages = {**(kept if len(kept) < PAPER_PAGES_KEPT else {}), key: page}
        return page

    def _render_paper(self, snapshot: Snapshot, paper: Paper) -> Asset:
        key = (paper.arxiv_id, paper.version)
        summary = self.store.latest_summaries([key]).get(key)
        listed = appearances(snapshot.content, paper.arxiv_id)
        root = "../" * (1 + paper.arxiv_id.count("/"))  # old-style ids: /papers/hep-th/9901001
        body = paper_page(paper, summary, listed, self.settings, root)
        return Asset.of(body, CONTENT_TYPES[".html"], snapshot.content.built_at)
