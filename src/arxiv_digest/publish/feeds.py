"""RSS 2.0 and Atom (feedgen) and JSON Feed 1.1 (plain JSON) of the retained digest entries.

Every date comes from the data: the same store renders byte-identical feeds, so ETags
stay stable and feed readers are not told that nothing changed.

An entry's XML is the same in every feed that holds it (the overall one and its
categories', RSS and Atom), so :func:`rss_and_atom` makes each once (:func:`_entry_xml`)
and puts it into each feed feedgen writes without its entries.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from functools import lru_cache

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

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


_Urls = tuple[str, str, str | None]  # abs_url, pdf_url, site_url
_Rating = tuple[tuple[str, str], ...] | None  # a sample rating link: changes with the secret


def _item_key(settings: Settings) -> tuple[_Urls, _Rating]:
    """What of ``settings`` an entry's item is made with."""
    sample = rating_links(settings.site_url, RATING_SAMPLE)
    urls = (str(settings.arxiv.abs_url), str(settings.arxiv.pdf_url), settings.site_url)
    return urls, tuple(sorted(sample.items())) if sample else None


def item_html(entry: DigestEntry, settings: Settings) -> str:
    """The item body: abstract, score and matched terms, links (rating links with the
    secret and ``site_url``), and the AI summary. Cached: an entry is in up to six feeds
    (RSS, Atom and JSON, overall and of its category)."""
    return _item_html(entry, *_item_key(settings))


@lru_cache(maxsize=1024)
def _item_html(entry: DigestEntry, urls: _Urls, _rating: _Rating) -> str:
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
    feed.register_extension("dc", DcExtension, DcEntryExtension)  # as load_extension("dc")
    feed.title(title)
    _point_at(feed, settings, path)
    feed.description(_description(settings))
    feed.language("en")
    feed.generator("arxiv-digest")
    feed.lastBuildDate(built_at)
    feed.updated(built_at)
    for entry in entries:
        feed.add_entry(_feed_entry(entry, *_item_key(settings)), order="append")
    return feed


def _feed_entry(entry: DigestEntry, urls: _Urls, rating: _Rating) -> FeedEntry:
    paper = entry.ranked.paper
    link = f"{urls[0]}/{paper.arxiv_id}"
    item = FeedEntry()
    # As load_extension("dc"), without its failed import of a module dc_entry each time
    item.register_extension("dc", DcEntryExtension, atom=True, rss=True)
    item.id(link)
    item.title(paper.title)
    item.link(href=link)
    for author in paper.authors:
        item.author({"name": author})
        item.dc.dc_creator(author)
    for category in paper.categories:
        item.category(term=category)
    body = _item_html(entry, urls, rating)
    item.description(body)
    item.content(body, type="html")
    item.published(item_date(entry))
    item.updated(item_date(entry))
    item.guid(link, permalink=True)  # versionless: a new version is not a new item
    return item


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
    """:func:`rss` and :func:`atom` (at ``paths``), byte for byte: both from one generator
    without entries, each entry's XML (:func:`_entry_xml`, made once) put in."""
    rss_path, atom_path = paths
    feed = _generator((), settings, title, rss_path, built_at)
    bare_rss = bytes(feed.rss_str(pretty=True))
    _point_at(feed, settings, atom_path)
    bare_atom = bytes(feed.atom_str(pretty=True))
    key = _item_key(settings)
    made = [_entry_xml(entry, *key) for entry in entries]
    if not bare_rss.endswith(_RSS_END) or not bare_atom.endswith(_ATOM_END) or None in made:
        feed = _generator(entries, settings, title, rss_path, built_at)  # not as expected
        rss_bytes = bytes(feed.rss_str(pretty=True))
        _point_at(feed, settings, atom_path)
        return rss_bytes, bytes(feed.atom_str(pretty=True))
    items = [pair for pair in made if pair is not None]
    return (
        b"".join([bare_rss[: -len(_RSS_END)], *(rss for rss, _ in items), _RSS_END]),
        b"".join([bare_atom[: -len(_ATOM_END)], *(atom for _, atom in items), _ATOM_END]),
    )


# How a feed written with pretty=True ends: its entries go just before.
_RSS_END = b"  </channel>\n</rss>\n"
_ATOM_END = b"</feed>\n"
# The namespaces feedgen declares on a feed's root, with the dc extension.
_ATOM = "http://www.w3.org/2005/Atom"
_RSS_NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "atom": _ATOM,
    "content": "http://purl.org/rss/1.0/modules/content/",
}


@lru_cache(maxsize=1024)
def _entry_xml(entry: DigestEntry, urls: _Urls, rating: _Rating) -> tuple[bytes, bytes] | None:
    """The entry's RSS item and Atom entry as feedgen writes them in a feed: each in a
    root as feedgen makes it (the same namespaces declared), after a first child, and
    cut out. None if that root is not written as expected."""
    item = _feed_entry(entry, urls, rating)
    rss = etree.Element("rss", version="2.0", nsmap=_RSS_NAMESPACES)
    channel = etree.SubElement(rss, "channel")
    etree.SubElement(channel, "title")
    atom = etree.Element("feed", xmlns=_ATOM, nsmap={"dc": _RSS_NAMESPACES["dc"]})
    etree.SubElement(atom, "id")
    parts = []
    for root, parent, element, end in (
        (rss, channel, item.rss_entry(), _RSS_END),
        (atom, atom, item.atom_entry(), _ATOM_END),
    ):
        bare = etree.tostring(root, pretty_print=True, encoding="UTF-8")
        parent.append(element)
        whole = etree.tostring(root, pretty_print=True, encoding="UTF-8")
        head = bare[: -len(end)]
        if not (bare.endswith(end) and whole.startswith(head) and whole.endswith(end)):
            return None
        parts.append(whole[len(head) : -len(end)])
    return parts[0], parts[1]


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
    """The JSON Feed, as ``json.dumps(document, ensure_ascii=False, indent=2)`` writes it;
    each item written once (:func:`_json_item`) for every feed that holds it."""
    base = _base_url(settings)
    document: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": f"{base}/" if settings.site_url else base,
        "description": _description(settings),
        "language": "en",
        "items": [],
    }
    if settings.site_url:
        document["feed_url"] = f"{base}/{path}"
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if entries:
        key = _item_key(settings)
        items = ",\n".join(_json_item(entry, *key) for entry in entries)
        # No string in JSON holds a line break: this is the top level's "items" only.
        text = text.replace('\n  "items": []', f'\n  "items": [\n{items}\n  ]', 1)
    return text.encode("utf-8")


@lru_cache(maxsize=1024)
def _json_item(entry: DigestEntry, urls: _Urls, rating: _Rating) -> str:
    """One item of the feed's "items", indented as it is there (two levels down)."""
    paper = entry.ranked.paper
    item = {
        "id": f"{urls[0]}/{paper.arxiv_id}",
        "url": f"{urls[0]}/{paper.arxiv_id}",
        "title": paper.title,
        "content_html": _item_html(entry, urls, rating),
        "summary": paper.abstract,
        "date_published": item_date(entry).isoformat(),
        "authors": [{"name": a} for a in paper.authors],
        "tags": list(paper.categories),
    }
    text = json.dumps(item, ensure_ascii=False, indent=2)
    return "\n".join(f"    {line}" for line in text.split("\n"))
