"""Markdown from the model, made into HTML that is safe to show.

markdown-it-py with raw HTML off turns ``<script>`` into text; nh3 then keeps only a small
list of tags and safe link schemes. TeX between dollar signs is set aside first, so that
Markdown does not eat its backslashes and underscores, and put back as plain text.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "th": {"align"}, "td": {"align"}}


def markdown_to_html(markdown: str) -> str:
    formulas: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        formulas.append(match.group(0))
        return f"MATHPLACEHOLDER{len(formulas) - 1}X"

    rendered = _MARKDOWN.render(_MATH.sub(set_aside, markdown))
    for index, formula in enumerate(formulas):
        rendered = rendered.replace(
            f"MATHPLACEHOLDER{index}X", f'<span class="math">{html.escape(formula)}</span>'
        )
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
