"""Cleaning the text arXiv sends: whitespace, HTML entities, TeX accents, author lists."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

_SPACES = re.compile(r"\s+")
_NEEDS_CARE = re.compile(r"[(\[]|\sand\s")
_TEX_MARKUP = re.compile(r"[\\{}]")
_NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?$")
_OLD_ID = re.compile(r"^([a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$")
_LATEX = LatexNodes2Text()


def clean_text(text: str | None) -> str:
    """Collapse whitespace and decode HTML entities left in the text."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def tex_to_unicode(name: str) -> str:
    """``S\\'ebastien`` -> ``Sébastien``; names without TeX markup are returned as they are."""
    if not _TEX_MARKUP.search(name):
        return name
    converted = _LATEX.latex_to_text(name)
    return unicodedata.normalize("NFC", _SPACES.sub(" ", converted).strip())


def split_authors(creators: str) -> tuple[str, ...]:
    """Split an RSS author string on commas and " and ", never inside parentheses."""
    if not _NEEDS_CARE.search(creators):
        return tuple(n for n in (tex_to_unicode(clean_text(p)) for p in creators.split(",")) if n)
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for char in creators:
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        if char == "," and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(char)
    names.append("".join(current))
    result: list[str] = []
    for raw in names:
        for part in re.split(r"\s+and\s+(?![^()]*\))", raw.strip()):
            name = tex_to_unicode(clean_text(part))
            if name:
                result.append(name)
    return tuple(result)


def split_arxiv_id(raw: str) -> tuple[str, int]:
    """``2512.14082v2`` -> (``2512.14082``, 2); a missing version gives 0."""
    token = raw.strip().rstrip("/").rsplit("/abs/", 1)[-1]
    token = token.removeprefix("oai:arXiv.org:").removeprefix("arXiv:")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.match(token)
        if match:
            return match.group(1), int(match.group(2) or 0)
    raise ValueError(f"not an arXiv identifier: {raw!r}")
