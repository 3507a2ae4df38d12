"""What every chat format shares: the paper as a message line sees it, the summary's first
sentence, size measures (bytes as sent, UTF-16 units), escaping for Markdown dialects, and
:class:`Format`, which packs papers into as few messages as a platform's limits allow."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from markdown_it import MarkdownIt

from arxiv_digest.delivery.outline import Outline, OutlineItem

Body = dict[str, object]
Part = tuple[int, int] | None  # (this message, of how many); None for a digest of one
E = TypeVar("E")

EMPTY = "No new papers today."
_PROBE: Part = (999, 999)  # sizes are measured with the longest part label

# (summary, reason, title) caps, tried in turn until one paper fits a message on its own
Levels = tuple[tuple[int, int, int], ...]
_LEVELS: Levels = ((300, 300, 400), (160, 120, 240), (60, 60, 140), (0, 0, 80))
# WeCom's 4,096 bytes hold few Chinese sentences, and its robots may send only 20 messages a
# minute: shorter lines keep a digest of 40 papers to about ten messages.
BRIEF_LEVELS: Levels = ((120, 80, 300), (60, 40, 140), (0, 0, 80))
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")
_LEFTOVER_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def dumped_size(body: Body) -> int:
    """The body's size in bytes as httpx sends it (compact JSON, UTF-8)."""
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def plain(text: str) -> str:
    """One line of text: no control or direction characters, whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", text).split())


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…" if limit > 0 else ""


def summary_line(markdown: str | None) -> str:
    """The first sentence of a Markdown summary, as plain text (headings skipped)."""
    if not markdown:
        return ""
    in_heading = False
    for token in _MARKDOWN.parse(markdown):
        if token.type in ("heading_open", "heading_close"):
            in_heading = token.type == "heading_open"
        elif token.type in ("inline", "code_block", "fence") and not in_heading:
            words = _inline_text(token.children) if token.type == "inline" else token.content
            text = plain(_LEFTOVER_LINK.sub(r"\1", words))
            if text:
                return _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    return ""


def _inline_text(children: Sequence[object] | None) -> str:
    parts: list[str] = []
    for child in children or ():
        kind = getattr(child, "type", "")
        if kind in ("text", "code_inline"):
            parts.append(str(getattr(child, "content", "")))
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            parts.append(_inline_text(getattr(child, "children", None)))
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper's text for a message: plain, unescaped, already shortened."""

    rank: int
    title: str
    url: str
    category: str
    score: str
    why: str
    summary: str
    rate_up: str | None
    rate_down: str | None


def paper_view(item: OutlineItem, level: int, levels: Levels = _LEVELS) -> Paper:
    summary_cap, why_cap, title_cap = levels[level]
    why = item.why or (f"matched: {', '.join(item.matched)}" if item.matched else "")
    last = level == len(levels) - 1
    return Paper(
        rank=item.rank,
        title=clip(plain(item.title), title_cap),
        url=item.abs_url,
        category=plain(item.category),
        score=plain(item.score),
        why=clip(plain(why), why_cap),
        summary=clip(summary_line(item.summary), summary_cap),
        rate_up=None if last else item.rate_up,
        rate_down=None if last else item.rate_down,
    )


def header_line(outline: Outline, part: Part) -> tuple[str, str]:
    """(title with the part label, "N papers")."""
    label = f" ({part[0]}/{part[1]})" if part else ""
    count = len(outline.items)
    return f"{plain(outline.title)}{label}", f"{count} paper{'s' if count != 1 else ''}"


class Format(ABC, Generic[E]):
    """A platform's rendering: one entity per paper or note, assembled into bodies."""

    levels: Levels = _LEVELS

    @abstractmethod
    def paper(self, paper: Paper) -> E: ...

    @abstractmethod
    def note(self, text: str, url: str | None) -> E: ...

    @abstractmethod
    def body(self, outline: Outline, part: Part, entities: Sequence[E]) -> Body: ...

    @abstractmethod
    def fits(self, body: Body) -> bool: ...

    def messages(self, outline: Outline) -> list[Body]:
        entities = [self._fitted(outline, item) for item in outline.items]
        if outline.omitted > 0:
            entities.append(self.note(f"…and {outline.omitted} more", outline.site_url))
        if not outline.items:
            entities.append(self.note(EMPTY, outline.site_url))
        groups: list[list[E]] = [[]]
        for entity in entities:
            if groups[-1] and not self.fits(self.body(outline, _PROBE, [*groups[-1], entity])):
                groups.append([])
            groups[-1].append(entity)
        parts = len(groups)
        return [
            self.body(outline, (n, parts) if parts > 1 else None, group)
            for n, group in enumerate(groups, start=1)
        ]

    def _fitted(self, outline: Outline, item: OutlineItem) -> E:
        for level in range(len(self.levels)):
            entity = self.paper(paper_view(item, level, self.levels))
            if self.fits(self.body(outline, _PROBE, [entity])):
                return entity
        return entity


# --- Markdown dialects (Discord, DingTalk, WeCom) ---------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_~|<>\[\]#&])")


def md_escape(text: str) -> str:
    """Backslash-escape every character that could start Markdown formatting or a link."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def md_lines(paper: Paper, escape: Callable[[str], str] = md_escape) -> list[str]:
    """A paper as Markdown lines (DingTalk, WeCom; Feishu with its own ``escape``)."""
    lines = [
        f"**{paper.rank}. [{escape(paper.title)}]({md_url(paper.url)})**",
        f"{escape(paper.category)} · score {escape(paper.score)}",
    ]
    if paper.why:
        lines.append(escape(paper.why))
    if paper.summary:
        lines.append(escape(paper.summary))
    if paper.rate_up and paper.rate_down:
        lines.append(f"[👍]({md_url(paper.rate_up)})  [👎]({md_url(paper.rate_down)})")
    return lines


def md_header(outline: Outline, part: Part) -> str:
    title, count = header_line(outline, part)
    if outline.site_url:
        return f"**[{md_escape(title)}]({md_url(outline.site_url)})** · {count}"
    return f"**{md_escape(title)}** · {count}"


def md_note(text: str, url: str | None) -> str:
    return md_escape(text) + (f" · [full digest]({md_url(url)})" if url else "")
