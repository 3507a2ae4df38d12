"""Text from arXiv and Markdown from the model, made into HTML that is safe to show.

markdown-it-py with raw HTML off turns ``<script>`` into text; nh3 then keeps only a small
list of tags and safe link schemes. TeX math (``$...$``, ``$$...$$``, ``\\(...\\)``,
``\\[...\\]``) is set aside first, so that Markdown does not eat its backslashes and
underscores, and put back as MathML made by latex2mathml at build time (no script in the
page; Chromium, Firefox and Safari render MathML Core).

A formula becomes MathML only when the result is plainly MathML: it parses, every element
and attribute is on the allow-list below (no ``href``, no ``style``, no colours), and no
command was left unconverted (latex2mathml writes an unknown ``\\foo`` as text). Anything
else stays as the TeX the author wrote, as text: readable, never broken markup. nh3 cleans
the MathML again with the same allow-list, like every other piece of HTML here.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from lxml import etree
from markdown_it import MarkdownIt

log = logging.getLogger(__name__)

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# In prose from arXiv, every unescaped pair of dollars is math (as in TeX).
TEX_MATH = re.compile(
    r"\$\$.+?\$\$|\\\(.+?\\\)|\\\[.+?\\\]|(?<!\\)\$(?:\\\$|[^$])+?\$", re.S
)  # fmt: skip
# In the model's Markdown a dollar may be money: "$5 and $10" is not math (pandoc's rule:
# no space just inside the dollars, no digit right after the closing one).
_MARKDOWN_MATH = re.compile(
    r"\$\$.+?\$\$|\\\(.+?\\\)|\\\[.+?\\\]|(?<![\\$])\$(?=[^\s$])(?:\\\$|[^$\n])*?[^\s\\$]\$(?!\d)",
    re.S,
)
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
    "mark",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"}, "span": {"class"}, "mark": {"title"},
    "th": {"align"}, "td": {"align"},
}  # fmt: skip
MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "accent", "accentunder", "columnalign", "columnlines", "columnspacing", "depth",
    "display", "displaystyle", "fence", "form", "height", "largeop", "linethickness",
    "lspace", "mathvariant", "maxsize", "minsize", "movablelimits", "notation", "rowalign",
    "rowlines", "rowspacing", "rspace", "scriptlevel", "separator", "stretchy", "symmetric",
    "width",
}  # fmt: skip
_ALL_TAGS = _TAGS | MATHML_TAGS
_ALL_ATTRIBUTES = _ATTRIBUTES | dict.fromkeys(MATHML_TAGS, MATHML_ATTRIBUTES)
_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"


def sanitise(fragment: str) -> str:
    """Only the allowed tags and attributes, and links to http(s) and mail only."""
    return nh3.clean(
        fragment,
        tags=_ALL_TAGS,
        attributes=_ALL_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def _delimited(formula: str) -> tuple[str, str]:
    """(the TeX inside the delimiters, "inline" or "block")."""
    if formula.startswith("$$") or formula.startswith("\\["):
        return formula[2:-2], "block"
    if formula.startswith("\\("):
        return formula[2:-2], "inline"
    return formula[1:-1], "inline"


def _plain_mathml(mathml: str) -> bool:
    """Whether latex2mathml's output is MathML on the allow-list with nothing left as TeX."""
    try:
        root = etree.fromstring(mathml)
    except etree.XMLSyntaxError:
        return False
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(_MATHML_NS):
            return False
        if element.tag.removeprefix(_MATHML_NS) not in MATHML_TAGS:
            return False
        if not set(element.attrib) <= MATHML_ATTRIBUTES | {"xmlns"}:
            return False
        if "\\" in (element.text or "") or "\\" in (element.tail or ""):
            return False
    return True


@lru_cache(maxsize=8192)
def math_html(formula: str) -> str:
    """One formula, delimiters included: sanitised MathML, or its TeX as text."""
    tex, display = _delimited(formula)
    try:
        mathml = latex_to_mathml(tex, display=display)
    except Exception:  # the converter's own errors vary; the fallback is the same
        log.debug("TeX left as text: %r", formula, exc_info=True)
        mathml = ""
    if not tex.strip() or not mathml or not _plain_mathml(mathml):
        return f'<span class="tex">{html.escape(formula, quote=False)}</span>'
    return sanitise(mathml)


def markdown_to_html(markdown: str) -> str:
    """A summary's Markdown as sanitised HTML. Cached: the same summary appears on its day's
    page (twice: folded and expanded), category pages and every feed, and rendering it is
    most of the time a site build takes; what the store kept from an earlier run
    (:func:`remember`) is not rendered again."""
    known = _KNOWN.get(markdown)
    return known if known is not None else _rendered(markdown)


# Summaries rendered by an earlier run (this renderer): Markdown -> HTML.
_KNOWN: dict[str, str] = {}


def text_sha(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def renderer() -> str:
    """What a summary's HTML depends on besides its Markdown: this module and the
    versions of the libraries it calls (a stored rendering of another one is not used)."""
    parts = [Path(__file__).read_bytes()]
    parts += [f"{name}={version(name)}".encode() for name in _RENDERING_LIBRARIES]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:32]


_RENDERING_LIBRARIES = ("markdown-it-py", "nh3", "latex2mathml", "lxml")


def remember(rendered: Mapping[str, str]) -> None:
    """HTML an earlier run made of these Markdown texts (with :func:`renderer`)."""
    if len(_KNOWN) + len(rendered) > _KNOWN_AT_MOST:  # a service publishes every day
        _KNOWN.clear()
    _KNOWN.update(rendered)


_KNOWN_AT_MOST = 4096  # summaries of ~3 kB: a few weeks of a site's pages


@lru_cache(maxsize=4096)
def _rendered(markdown: str) -> str:
    formulas: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        formulas.append(match.group(0))
        return f"MATHPLACEHOLDER{len(formulas) - 1}X"

    rendered = _MARKDOWN.render(_MARKDOWN_MATH.sub(set_aside, markdown))
    for index, formula in enumerate(formulas):
        rendered = rendered.replace(f"MATHPLACEHOLDER{index}X", math_html(formula))
    return sanitise(rendered)
