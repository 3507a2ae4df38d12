"""A title or an abstract as HTML: matched keywords in ``<mark>``, math as MathML.

The marks come from :meth:`arxiv_digest.match.Matcher.spans` over the terms the ranking
stored as matched, so a highlight and the "Matched" chips never disagree. Math is never
highlighted inside (a formula is one piece); a mark that would cross a formula is dropped.

Everything but a formula is escaped prose, and a ``<mark>`` around escaped prose: no tag
can come from the text. A formula's MathML is sanitised by :func:`math_html`, on its own:
sanitised output is balanced, so the pieces together are what sanitising the whole would
give, except for the characters :data:`_CLEANING_CHANGES` (then the whole is sanitised).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from markupsafe import Markup

from arxiv_digest.match import Matcher, MatchMode, Span
from arxiv_digest.publish.html import TEX_MATH, math_html, sanitise

# TeX's escaped characters in prose (46.62\\% of papers, R\\&D), shown as the characters.
_ESCAPED = re.compile(r"\\([%&#_$])")
# What sanitising changes in escaped text: NUL and CR (as HTML's parser reads its input),
# a no-break space (written back as &nbsp;), a lone surrogate (no UTF-8 for it).
_CLEANING_CHANGES = re.compile("[\0\r\xa0\ud800-\udfff]")


def _prose(text: str) -> str:
    return html.escape(_ESCAPED.sub(r"\1", text) if "\\" in text else text, quote=False)


@lru_cache(maxsize=512)
def _matcher(terms: tuple[str, ...], mode: MatchMode) -> Matcher:
    return Matcher(terms, mode)


def _math_spans(text: str) -> list[tuple[int, int]]:
    if "$" not in text and "\\" not in text:
        return []
    return [m.span() for m in TEX_MATH.finditer(text)]


def _outside(marks: list[Span], formulas: list[tuple[int, int]]) -> list[Span]:
    return [m for m in marks if not any(m.start < b and a < m.end for a, b in formulas)]


@lru_cache(maxsize=4096)
def _rich(text: str, terms: tuple[str, ...], mode: MatchMode) -> str:
    formulas = _math_spans(text)
    marks = _outside(_matcher(terms, mode).spans(text), formulas) if terms else []
    pieces: list[tuple[int, int, str]] = [(a, b, math_html(text[a:b])) for a, b in formulas]
    pieces += [(m.start, m.end, f"<mark>{_prose(text[m.start : m.end])}</mark>") for m in marks]
    out: list[str] = []
    position = 0
    for start, end, markup in sorted(pieces):
        out.append(_prose(text[position:start]))
        out.append(markup)
        position = end
    out.append(_prose(text[position:]))
    if _CLEANING_CHANGES.search(text):
        return sanitise("".join(out))
    # Escaped prose, <mark>s and formulas sanitised each on its own (balanced): exactly
    # what sanitising the whole would give, at a fraction of its cost (it parses the
    # whole abstract again for each reader's marks).
    return "".join(out)


def rich_text(text: str, terms: Sequence[str] = (), mode: MatchMode = "word") -> Markup:
    """``text`` escaped, with ``terms`` (as the ranking matched them) marked and math
    rendered; safe to put in a page as it is."""
    return Markup(_rich(text, tuple(terms), mode))  # escaped (and sanitised)
