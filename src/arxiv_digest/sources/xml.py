"""Safe XML parsing shared by every arXiv source, with errors a user can act on."""

from __future__ import annotations

from lxml import etree

from arxiv_digest.errors import FeedError

# No entity expansion, no network access: arXiv's answers are data, never instructions.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _looks_like_html(content: bytes, content_type: str) -> bool:
    head = content[:512].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


def parse_xml(content: bytes, content_type: str = "") -> etree._Element:
    if _looks_like_html(content, content_type):
        raise FeedError("arXiv answered with an HTML page instead of a feed (an error page?)")
    if not content.strip():
        raise FeedError("arXiv answered with an empty body")
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"arXiv's answer is not well-formed XML: {exc}") from None
