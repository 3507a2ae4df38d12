"""Writing the site without rendering its whole history again every day.

What every new digest changes is rendered every time: the front page, the archive's index,
the category pages, the feeds. An old day's archive pages (``archive/DATE.html`` and its
expanded twin) are rendered only when what they show may have changed:

* the day is new, was published again, or its older or newer day changed (a new day
  changes the "newer" link of the one before it);
* one of its papers got a summary, or was announced again (its date and type change),
  after the site was last written;
* the renderer changed: the page settings (:func:`~arxiv_digest.publish.site.page_settings`),
  this package's templates and rendering code, or the libraries that make the HTML;
* a page is missing on disk.

What the site was last written from is in ``.arxiv-digest.json`` inside it, written in
the same switch as the pages, so the two always agree (a fresh clone of a fork's
repository has both). Without it (or when unreadable, or of another renderer), every page
is rendered. The result is byte for byte what :func:`~arxiv_digest.publish.site.render_site`
makes of the whole history; only the work differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import latex2mathml
import markdown_it
import nh3
from lxml import etree

import arxiv_digest
from arxiv_digest.config import Settings
from arxiv_digest.errors import PublishError, StoreError
from arxiv_digest.models import PublishedDigest
from arxiv_digest.publish.content import (
    EPOCH,
    ArchiveDay,
    History,
    SiteContent,
    load_days,
    site_content,
)
from arxiv_digest.publish.files import Switch
from arxiv_digest.publish.html import markdown_to_html, remember, text_sha
from arxiv_digest.publish.html import renderer as markdown_renderer
from arxiv_digest.publish.site import (
    day_path,
    neighbours,
    page_settings,
    render_common,
    render_days,
)
from arxiv_digest.publish.trends import WINDOW_DAYS
from arxiv_digest.store import Store
from arxiv_digest.store.site_index import (
    DayRecord,
    Marks,
    change_marks,
    matched_terms,
    published_index,
    touched_runs,
)

log = logging.getLogger(__name__)
MANIFEST = ".arxiv-digest.json"
FORMAT = 1
_PACKAGE = Path(arxiv_digest.__file__).parent
# The code a day's page depends on: its templates, the rendering, the models and matching
# it uses, and the store's reading of a published digest.
_RENDERING_CODE = (
    "templates/site/*",
    "publish/site.py",
    "publish/content.py",
    "publish/html.py",
    "publish/highlight.py",
    "publish/readme.py",
    "models.py",
    "match.py",
    "wordforms.py",
    "ratings.py",
    "store/published.py",
    "store/rows.py",
    "store/summaries.py",
)


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the site on disk was written from."""

    renderer: str
    marks: Marks
    days: dict[str, str]  # ISO date -> key of what its pages show
    files: tuple[str, ...]  # every other file written (not the days' pages), this one too

    @property
    def paths(self) -> set[str]:
        """Every file of the site that this manifest describes."""
        days = [dt.date.fromisoformat(day) for day in self.days]
        return {*self.files, *(day_path(day, x) for day in days for x in (False, True))}

    def dumps(self) -> bytes:
        document = {
            "format": FORMAT,
            "renderer": self.renderer,
            "summaries_through": self.marks.summaries.isoformat() if self.marks.summaries else None,
            "announced_through": self.marks.announced.isoformat() if self.marks.announced else None,
            "announced_rows": self.marks.announced_rows,
            "days": dict(sorted(self.days.items())),
            "files": sorted(self.files),
        }
        return (json.dumps(document, indent=1) + "\n").encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> Manifest | None:
        """None for anything but a manifest of this format: the site is then rendered whole."""
        try:
            document = json.loads(data)
            if document.get("format") != FORMAT:
                return None
            summaries, announced = document["summaries_through"], document["announced_through"]
            marks = Marks(
                dt.datetime.fromisoformat(summaries) if summaries else None,
                dt.date.fromisoformat(announced) if announced else None,
                int(document["announced_rows"]),
            )
            days = {str(k): str(v) for k, v in dict(document["days"]).items()}
            return cls(str(document["renderer"]), marks, days, tuple(map(str, document["files"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def read_manifest(site: Path, renderer: str, marks: Marks) -> Manifest | None:
    """The manifest of the site as it is, if it can be built on: written by this renderer,
    from a store that has not gone back since (a database restored from an older copy)."""
    try:
        manifest = Manifest.loads((site / MANIFEST).read_bytes())
    except OSError:
        return None
    if manifest is None or manifest.renderer != renderer or _ahead(manifest.marks, marks):
        return None
    return manifest


def _ahead(then: Marks, now: Marks) -> bool:
    """Whether the store had more at ``then`` than it has ``now``."""
    if then.summaries is not None and (now.summaries is None or then.summaries > now.summaries):
        return True
    return then.announced is not None and (now.announced is None or then.announced > now.announced)


def renderer_fingerprint(settings: Settings) -> str:
    """Changes whenever a page could come out differently from the same content."""
    digest = hashlib.sha256()
    digest.update(json.dumps(page_settings(settings), sort_keys=True).encode("utf-8"))
    digest.update(_rendering_code())
    return digest.hexdigest()


@cache
def _rendering_code() -> bytes:
    """The libraries' versions, and the rendering code as this process loaded it (read
    once: a team's every site is written with the same)."""
    parts = [
        f"{library.__name__} {getattr(library, '__version__', '')}\n".encode()
        for library in (jinja2, latex2mathml, markdown_it, nh3, etree)
    ]
    for pattern in _RENDERING_CODE:
        for path in sorted(_PACKAGE.glob(pattern)):
            if path.is_file():
                parts.append(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
                parts.append(path.read_bytes())
    return b"".join(parts)


def day_key(record: DayRecord, older: dt.date | None, newer: dt.date | None) -> str:
    """What a day's pages show besides its papers' later summaries and announcements:
    its published content (the fingerprint its run recorded), when that was first
    published, and the days its links lead to."""
    parts = [record.date, record.fingerprint, record.updated_at.isoformat(), older, newer]
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Plan:
    keys: dict[str, str]  # of every published day (ISO date -> :func:`day_key`)
    render: tuple[DayRecord, ...]  # the days whose pages are rendered, newest first


def plan(
    index: tuple[DayRecord, ...], site: Path, previous: Manifest | None, touched: set[int]
) -> Plan:
    """Which days' pages to render (all of them without a usable manifest)."""
    dates = [record.date for record in index]
    keys = {r.date.isoformat(): day_key(r, *neighbours(dates, n)) for n, r in enumerate(index)}
    if previous is None:
        return Plan(keys, index)
    present = _files_in(site)
    stale = tuple(
        record
        for record in index
        if keys[record.date.isoformat()] != previous.days.get(record.date.isoformat())
        or record.run_id in touched
        or not {day_path(record.date, x) for x in (False, True)} <= present
    )
    return Plan(keys, stale)


def _files_in(site: Path) -> set[str]:
    """The day pages on disk (one listing of the archive folder, not a stat per page)."""
    folder = site / day_path(dt.date.min).rsplit("/", 1)[0]
    try:
        with os.scandir(folder) as entries:
            return {f"{folder.name}/{e.name}" for e in entries if e.is_file()}
    except OSError:
        return set()


def _feed_days(index: tuple[DayRecord, ...], settings: Settings) -> tuple[DayRecord, ...]:
    """The days the feeds and category pages may show (``feeds.keep_days`` back from the
    newest digest, as :func:`~arxiv_digest.publish.content._retained` counts them)."""
    if not index:
        return ()
    oldest = index[0].date - dt.timedelta(days=settings.feeds.keep_days - 1)
    return tuple(record for record in index if record.date >= oldest)


def _history(store: Store, index: tuple[DayRecord, ...]) -> History:
    """The archive's lines, and the terms of the trends chart's window of days."""
    oldest = index[0].date - dt.timedelta(days=WINDOW_DAYS - 1) if index else dt.date.max
    window = [record for record in index if record.date >= oldest]
    terms = matched_terms(store, {record.run_id for record in window})
    return History(
        tuple(ArchiveDay(record.date, record.papers) for record in index),
        tuple((record.date, terms[record.run_id]) for record in window),
    )


def _load(store: Store, records: Iterable[DayRecord]) -> dict[dt.date, PublishedDigest]:
    wanted = sorted(set(records), key=lambda r: r.date, reverse=True)
    days = load_days(store, [(r.date, r.run_id, r.updated_at) for r in wanted])
    return {day.date: day for day in days}


def render_changes(
    store: Store, settings: Settings, site: Path
) -> tuple[dict[str, bytes], set[str]]:
    """The files to write (the manifest included) and the paths no longer in the site."""
    renderer = renderer_fingerprint(settings)
    index = published_index(store)
    runs = {record.run_id for record in index}
    marks = change_marks(store, runs)  # before reading: what is saved meanwhile counts next time
    previous = read_manifest(site, renderer, marks)
    touched = touched_runs(store, previous.marks, runs) if previous is not None else set()
    chosen = plan(index, site, previous, touched)
    feed_days = _feed_days(index, settings)
    loaded = _load(store, (*feed_days, *chosen.render))
    built_at = max((record.updated_at for record in index), default=EPOCH)
    content: SiteContent = site_content(
        store, settings, tuple(loaded[r.date] for r in feed_days), built_at
    )
    history = _history(store, index)
    summaries = {e.summary.text for d in loaded.values() for e in d.entries if e.summary}
    kept = _remember_summaries(store, summaries)
    files = render_common(content, history, settings)
    manifest = Manifest(renderer, marks, chosen.keys, (*files, MANIFEST))
    files.update(render_days([loaded[r.date] for r in chosen.render], history, settings))
    _keep_summaries(store, summaries - kept)
    files[MANIFEST] = manifest.dumps()
    gone = previous.paths - manifest.paths if previous is not None else set()
    return files, gone


def _remember_summaries(store: Store, texts: set[str]) -> set[str]:
    """Let the pages use the HTML an earlier run made of these summaries (Markdown);
    returns those the store keeps it for."""
    by_sha = {text_sha(text): text for text in texts}
    found = store.rendered_summaries(by_sha, markdown_renderer())
    remember({by_sha[sha]: html for sha, html in found.items()})
    return {by_sha[sha] for sha in found}


def _keep_summaries(store: Store, texts: set[str]) -> None:
    """Keep these summaries as the pages show them (rendered by now) for the next run and
    the history folder: a fresh runner renders none of them again. A store that cannot
    keep them only costs time."""
    if not texts or store.read_only:
        return
    try:
        store.save_rendered_summaries(
            {text_sha(text): markdown_to_html(text) for text in texts}, markdown_renderer()
        )
    except StoreError as exc:
        log.warning("summaries rendered as HTML not kept: %s", exc)


def stage_site(store: Store, settings: Settings, switch: Switch) -> list[str]:
    """Stage the site's new and changed files (and the removal of files no longer in it)
    in ``switch``; returns the paths that will change."""
    site = Path(settings.output.site_dir)
    files, gone = render_changes(store, settings, site)
    return switch.stage_tree(files, site, remove=gone)


def publish_sites(sites: Iterable[tuple[Store, Settings]]) -> list[PublishError | None]:
    """Rewrite several sites (a team's), each in a switch of its own as
    :func:`~arxiv_digest.pipeline.publish_site` does, one after the other; but a site's
    files go to disk while the next is rendered (its switch is committed before the next
    is staged). Returns each site's failure (None: written), in order; a site that fails
    leaves the others written."""
    outcomes: list[PublishError | None] = []
    pending: tuple[int, Switch, Path] | None = None

    def finish() -> None:
        nonlocal pending
        if pending is None:
            return
        n, switch, _ = pending
        pending = None
        try:
            switch.commit()
        except PublishError as exc:
            outcomes[n] = exc
        finally:
            switch.discard()

    try:
        for store, settings in sites:
            site = Path(settings.output.site_dir)
            outcomes.append(None)
            if pending is not None and pending[2] == site:
                finish()  # the same site twice: rendered from what the first wrote
            files, gone = render_changes(store, settings, site)
            finish()
            switch = Switch()
            try:
                switch.stage_tree(files, site, remove=gone)
            except PublishError as exc:
                outcomes[-1] = exc
                switch.discard()
                continue
            pending = (len(outcomes) - 1, switch, site)
    finally:
        finish()  # what was staged whole is written, as one site after the other would be
    return outcomes
