"""arXiv's daily RSS feed: one request for every monitored category, parsed with lxml.

Item description format: ``arXiv:2512.14082v1 Announce Type: new \\nAbstract: ...``.
Items of the older format have no ``<pubDate>``: the channel's date applies.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import httpx2
from lxml import etree

from arxiv_digest.config import Settings
from arxiv_digest.errors import FeedError
from arxiv_digest.models import ANNOUNCE_TYPES, Paper, Validators
from arxiv_digest.retry import Sleep
from arxiv_digest.sources import http
from arxiv_digest.sources.text import clean_prose, split_arxiv_id, split_authors
from arxiv_digest.sources.xml import convert_each, parse_xml

ARXIV_NS = "http://arxiv.org/schemas/atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
_ANNOUNCE_TAG = f"{{{ARXIV_NS}}}announce_type"
_CREATOR_TAG = f"{{{DC_NS}}}creator"
_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*"
    r"(?:Abstract:\s*)?(?P<abstract>.*)$",
    re.S,
)


@dataclass(frozen=True, slots=True)
class RssFeed:
    date: dt.date | None
    papers: tuple[Paper, ...]


def feed_url(settings: Settings) -> str:
    return f"{settings.arxiv.rss_url}/{'+'.join(settings.categories)}"


@lru_cache(maxsize=64)  # a feed repeats the same few dates on every item
def _rfc822_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        # The date as arXiv wrote it, in its own zone: "Mon, 27 Apr 2026 00:00:00 -0400".
        return email.utils.parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError):
        return None


def _children(item: etree._Element) -> tuple[dict[str, str], list[str]]:
    """One pass over an item: text of each child by tag, and the categories in order."""
    fields: dict[str, str] = {}
    categories: list[str] = []
    for child in item:
        text = child.text or ""
        if child.tag == "category":
            category = text.strip()
            if category:
                categories.append(category)
        else:
            fields.setdefault(str(child.tag), text)
    return fields, categories


def _item_to_paper(item: etree._Element, channel_date: dt.date | None) -> Paper:
    """One item as a Paper; ValueError when it cannot be read (the caller skips it)."""
    fields, categories = _children(item)
    description = fields.get("description", "")
    match = _DESCRIPTION.match(description)
    raw_id = match.group("id") if match else (fields.get("guid") or fields.get("link", ""))
    arxiv_id, version = split_arxiv_id(raw_id)
    announce = fields.get(_ANNOUNCE_TAG) or (match.group("type") if match else "new")
    announce = announce.strip()
    if announce not in ANNOUNCE_TYPES:
        raise ValueError(f"item {arxiv_id}: unknown announce type {announce!r}")
    announced = _rfc822_date(fields.get("pubDate")) or channel_date
    if announced is None:
        raise ValueError(f"item {arxiv_id}: neither the item nor the channel has a date")
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=clean_prose(fields.get("title")),
        authors=split_authors(fields.get(_CREATOR_TAG, "")),
        abstract=clean_prose(match.group("abstract") if match else description),
        primary_category=categories[0] if categories else "",
        categories=tuple(categories),
        announce_type=announce,
        announced=announced,
    )


def parse_rss(content: bytes, content_type: str = "") -> RssFeed:
    """Parse one arXiv RSS response; raise FeedError on anything that is not such a feed.

    Items that cannot be read are skipped with one counted warning (see ``convert_each``).
    """
    root = parse_xml(content, content_type)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise FeedError(f"expected an RSS 2.0 document, got <{root.tag}>")
    channel_date = _rfc822_date(channel.findtext("pubDate")) or _rfc822_date(
        channel.findtext("lastBuildDate")
    )
    papers = convert_each(
        channel.iterfind("item"), lambda item: _item_to_paper(item, channel_date), "RSS items"
    )
    return RssFeed(date=channel_date, papers=tuple(papers))


def merge_listings(papers: Sequence[Paper]) -> list[Paper]:
    """One entry per paper version, keeping its strongest announcement.

    A paper can be listed once per monitored category it belongs to (as ``new`` in its
    primary category and ``cross`` in another); it must be kept as ``new``.
    """
    strength = {t: i for i, t in enumerate(ANNOUNCE_TYPES)}
    kept: dict[tuple[str, int], Paper] = {}
    for paper in papers:
        key = (paper.arxiv_id, paper.version)
        held = kept.get(key)
        if held is None or strength[paper.announce_type] < strength[held.announce_type]:
            kept[key] = paper
    return list(kept.values())


def fetch_rss(
    client: httpx2.Client,
    settings: Settings,
    validators: Validators | None = None,
    sleep: Sleep | None = None,
) -> tuple[http.Response, RssFeed | None]:
    """Poll the feed once (conditionally); the feed is None when arXiv says "not modified"."""
    url = feed_url(settings)
    response = http.get(client, url, settings.http, validators=validators, sleep=sleep)
    if response.not_modified:
        return response, None
    return response, parse_rss(response.content, response.content_type)
