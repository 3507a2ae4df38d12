"""One digest as every channel sees it: plain values, in rank order, links made.

The e-mail and chat formatters render this and nothing else, so they cannot disagree on
what a digest holds, and they are tested without a store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from arxiv_digest.config import Settings
from arxiv_digest.models import DigestEntry, PublishedDigest
from arxiv_digest.publish.readme import format_score
from arxiv_digest.ratings import rating_links
from arxiv_digest.sources.text import tex_as_text


@dataclass(frozen=True, slots=True)
class OutlineItem:
    rank: int  # 1-based, as in the README
    arxiv_id: str
    title: str
    abs_url: str
    pdf_url: str
    authors: tuple[str, ...]
    category: str
    score: str  # already formatted, as in the README ("7.5")
    matched: tuple[str, ...]
    why: str  # one line, may be empty
    abstract: str
    summary: str | None  # the AI summary as the model wrote it (Markdown, untrusted)
    summary_model: str | None
    rate_up: str | None  # signed 👍 link, or None without site_url + secret
    rate_down: str | None


@dataclass(frozen=True, slots=True)
class Outline:
    date: dt.date  # the digest's latest announcement day
    title: str  # "arXiv digest 2026-04-27"
    items: tuple[OutlineItem, ...]  # at most delivery.max_items
    total: int  # papers in the digest before the cut to max_items
    site_url: str | None  # the full digest online, when configured
    categories: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def omitted(self) -> int:
        return self.total - len(self.items)


def outline_item(rank: int, entry: DigestEntry, settings: Settings) -> OutlineItem:
    ranked = entry.ranked
    paper = ranked.paper
    rate = rating_links(settings.site_url, paper.arxiv_id) or {}
    return OutlineItem(
        rank=rank,
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        abs_url=f"{settings.arxiv.abs_url}/{paper.arxiv_id}",
        pdf_url=f"{settings.arxiv.pdf_url}/{paper.versioned_id}",
        authors=paper.authors,
        category=ranked.category,
        score=format_score(ranked.score),
        matched=ranked.matched,
        why=tex_as_text(ranked.why),  # a chat line shows no math
        abstract=paper.abstract,
        summary=entry.summary.text if entry.summary else None,
        summary_model=entry.summary.model if entry.summary else None,
        rate_up=rate.get("up"),
        rate_down=rate.get("down"),
    )


def make_outline(digest: PublishedDigest, settings: Settings, max_items: int) -> Outline:
    entries = digest.entries[:max_items]
    return Outline(
        date=digest.date,
        title=f"arXiv digest {digest.date.isoformat()}",
        items=tuple(outline_item(n, e, settings) for n, e in enumerate(entries, start=1)),
        total=len(digest.entries),
        site_url=settings.site_url,
        categories=tuple(settings.categories),
    )
