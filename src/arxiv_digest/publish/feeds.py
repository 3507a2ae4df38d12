"""RSS 2.0 and Atom (feedgen) and JSON Feed 1.1 (plain JSON) of the retained digest entries.

Every date comes from the data: the same store renders byte-identical feeds, so ETags
stay stable and feed readers are not told that nothing changed.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from functools import lru_cache

from feedgen.feed import FeedGenerator

from arxiv_digest.config import Settings
from arxiv_digest.models import DigestEntry
from arxiv_digest.publish.html import markdown_to_html
from arxiv_digest.publish.readme import format_score
from arxiv_digest.ratings import rating_links

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
RATING_SAMPLE = "2001.00001"  # an id whose rating link stands for all (a cache key)


def item_date(entry: DigestEntry) -> dt.datetime:
    announced = entry.ranked.paper.announced
    return dt.datetime(announced.year, announced.month, announced.day, tzinfo=dt.UTC)


def item_html(entry: DigestEntry, settings: Settings) -> str:
    """The item body: abstract, score and matched terms, links (rating links with the
    secret and ``site_url``), and the AI summary. Cached: an entry is in up to six feeds
    (RSS, Atom and JSON, overall and of its category)."""
    sample = rating_links(settings.site_url, RATING_SAMPLE)  # changes with the secret
    urls = (str(settings.arxiv.abs_url), str(settings.arxiv.pdf_url), settings.site_url)
    return _item_html(entry, urls, tuple(sorted(sample.items())) if sample else None)


@lru_cache(maxsize=1024)
def _item_html(entry: DigestEntry, urls: tuple[str, str, str | None], _rating: object) -> str:
    abs_url, pdf_url, site_url = urls
    ranked = entry.ranked
    paper = ranked.paper
    parts = [
        f"<p>{html.escape(paper.abstract)}</p>",
        f"<p><strong>Score</strong>: {format_score(ranked.score)}"
        + (
            f" · <strong>Matched</strong>: {html.escape(', '.join(ranked.matched))}"
            if ranked.matched
            else ""
        )
        + f" · <strong>Category</strong>: {html.escape(ranked.category)}</p>",
        *([f"<p><strong>Why</strong>: {html.escape(ranked.why)}</p>"] if ranked.why else []),
        f'<p><a href="{abs_url}/{paper.arxiv_id}">abs</a> · '
        f'<a href="{pdf_url}/{paper.versioned_id}">PDF</a></p>',
    ]
    rate = rating_links(site_url, paper.arxiv_id)
    if rate is not None:
        up, down = (html.escape(rate[action]) for action in ("up", "down"))
        links = f'<a href="{up}">👍</a> · <a href="{down}">👎</a>'
        parts.append(f"<p><strong>Rate</strong>: {links}</p>")
    if entry.summary is not None:
        parts.append(f"<h3>AI summary (by {html.escape(entry.summary.model)})</h3>")
        if entry.summary.note:
            parts.append(f"<p><em>{html.escape(entry.summary.note)}</em></p>")
        parts.append(markdown_to_html(entry.summary.text))
    return "\n".join(parts)


def _description(settings: Settings) -> str:
    return f"New arXiv papers in {', '.join(settings.categories)}, ranked by relevance."


def _base_url(settings: Settings) -> str:
    if settings.site_url:
        return settings.site_url.rstrip("/")
    return f"{settings.arxiv.abs_url.rsplit('/', 1)[0]}/list/{'+'.join(settings.categories)}/new"


def _generator(
    entries: Sequence[DigestEntry], settings: Settings, title: str, path: str, built_at: dt.datetime
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.load_extension("dc")
    feed.title(title)
    _point_at(feed, settings, path)
    feed.description(_description(settings))
    feed.language("en")
    feed.generator("arxiv-digest")
    feed.lastBuildDate(built_at)
    feed.updated(built_at)
    for entry in entries:
        paper = entry.ranked.paper
        link = f"{settings.arxiv.abs_url}/{paper.arxiv_id}"
        item = feed.add_entry(order="append")
        item.id(link)
        item.title(paper.title)
        item.link(href=link)
        for author in paper.authors:
            item.author({"name": author})
            item.dc.dc_creator(author)
        for category in paper.categories:
            item.category(term=category)
        body = item_html(entry, settings)
        item.description(body)
        item.content(body, type="html")
        item.published(item_date(entry))
        item.updated(item_date(entry))
        item.guid(link, permalink=True)  # versionless: a new version is not a new item
    return feed


def _point_at(feed: FeedGenerator, settings: Settings, path: str) -> None:
    """The feed's id and links, for the feed published at ``path``."""
    base = _base_url(settings)
    feed.id(f"{base}/{path}" if settings.site_url else base)
    feed.link(href=base if not settings.site_url else f"{base}/", rel="alternate", replace=True)
    if settings.site_url:
        feed.link(href=f"{base}/{path}", rel="self")


def rss_and_atom(
    entries: Sequence[DigestEntry],
    settings: Settings,
    title: str,
    paths: tuple[str, str],
    built_at: dt.datetime,
) -> tuple[bytes, bytes]:
    """:func:`rss` and :func:`atom` (at ``paths``), from one generator: building it is
    most of the cost of either."""
    rss_path, atom_path = paths
    feed = _generator(entries, settings, title, rss_path, built_at)
    rss_bytes = bytes(feed.rss_str(pretty=True))
    _point_at(feed, settings, atom_path)
    return rss_bytes, bytes(feed.atom_str(pretty=True))


def rss(
    entries: Sequence[DigestEntry], settings: Settings, title: str, path: str, built_at: dt.datetime
) -> bytes:
    return bytes(_generator(entries, settings, title, path, built_at).rss_str(pretty=True))


def atom(
    entries: Sequence[DigestEntry], settings: Settings, title: str, path: str, built_at: dt.datetime
) -> bytes:
    return bytes(_generator(entries, settings, title, path, built_at).atom_str(pretty=True))


def json_feed(
    entries: Sequence[DigestEntry], settings: Settings, title: str, path: str, built_at: dt.datetime
) -> bytes:
    base = _base_url(settings)
    document: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": f"{base}/" if settings.site_url else base,
        "description": _description(settings),
        "language": "en",
        "items": [
            {
                "id": f"{settings.arxiv.abs_url}/{e.ranked.paper.arxiv_id}",
                "url": f"{settings.arxiv.abs_url}/{e.ranked.paper.arxiv_id}",
                "title": e.ranked.paper.title,
                "content_html": item_html(e, settings),
                "summary": e.ranked.paper.abstract,
                "date_published": item_date(e).isoformat(),
                "authors": [{"name": a} for a in e.ranked.paper.authors],
                "tags": list(e.ranked.paper.categories),
            }
            for e in entries
        ],
    }
    if settings.site_url:
        document["feed_url"] = f"{base}/{path}"
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
