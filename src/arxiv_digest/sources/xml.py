"""Safe XML parsing shared by every arXiv source, with errors a user can act on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from lxml import etree

from arxiv_digest.errors import FeedError

log = logging.getLogger(__name__)
T = TypeVar("T")

# No entity expansion, no network access: arXiv's answers are data, never instructions.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_EXAMPLES = 2  # failures quoted in the one log line (or error) about unreadable entries


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


def convert_each(
    elements: Iterable[etree._Element],
    convert: Callable[[etree._Element], T | None],
    what: str,
) -> list[T]:
    """``convert`` applied to every element, skipping those it cannot read.

    One odd entry (an unknown announce type, an id that is not arXiv's) must not cost the
    other 1,500 papers of the day: an entry whose conversion raises ValueError is left out,
    and the lot of them is reported in ONE warning that counts them and quotes a couple.
    Only when every entry is unreadable is the document itself taken to be broken
    (FeedError). ``convert`` returns None for an entry to skip on purpose (a deleted record).
    """
    results: list[T] = []
    failures: list[str] = []
    seen = 0
    for element in elements:
        seen += 1
        try:
            result = convert(element)
        except ValueError as exc:
            failures.append(str(exc))
            continue
        if result is not None:
            results.append(result)
    if not failures:
        return results
    examples = "; ".join(failures[:_EXAMPLES])
    if len(failures) == seen:
        raise FeedError(f"none of the {seen} {what} could be read (e.g. {examples})")
    log.warning(
        "skipped %d of %d %s that could not be read (e.g. %s)", len(failures), seen, what, examples
    )
    return results
