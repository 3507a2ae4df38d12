"""OAI-PMH ``ListRecords`` pages in the ``arXiv`` metadata format (bulk harvests).

This format has no version numbers: papers come back with version 0 ("unknown").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from arxiv_digest.errors import FeedError
from arxiv_digest.models import Paper
from arxiv_digest.sources.text import clean_name, clean_prose, clean_text, split_arxiv_id
from arxiv_digest.sources.xml import convert_each, parse_xml

OAI = "{http://www.openarchives.org/OAI/2.0/}"
META = "{http://arxiv.org/OAI/arXiv/}"


@dataclass(frozen=True, slots=True)
class OaiPage:
    papers: tuple[Paper, ...]
    resumption_token: str | None  # None or "" when the harvest is complete


def _author(el: etree._Element) -> str:
    parts = (el.findtext(f"{META}forenames"), el.findtext(f"{META}keyname"))
    return clean_name(" ".join(p for p in parts if p))


def _record_to_paper(record: etree._Element) -> Paper | None:
    """One record as a Paper, None for a deleted one; ValueError when it cannot be read."""
    meta = record.find(f"{OAI}metadata/{META}arXiv")
    if meta is None:  # a deleted record carries a header only
        return None
    arxiv_id, _ = split_arxiv_id(meta.findtext(f"{META}id") or "")
    categories = tuple((meta.findtext(f"{META}categories") or "").split())
    created = meta.findtext(f"{META}created")
    updated = meta.findtext(f"{META}updated")
    stamp = updated or created or record.findtext(f"{OAI}header/{OAI}datestamp")
    if not stamp:
        raise ValueError(f"record {arxiv_id} has no date")
    return Paper(
        arxiv_id=arxiv_id,
        version=0,
        title=clean_prose(meta.findtext(f"{META}title")),
        authors=tuple(_author(a) for a in meta.iterfind(f"{META}authors/{META}author")),
        abstract=clean_prose(meta.findtext(f"{META}abstract")),
        primary_category=categories[0] if categories else "",
        categories=categories,
        announce_type="replace" if updated else "new",
        announced=dt.date.fromisoformat(stamp.strip()),
    )


def parse_oai(content: bytes, content_type: str = "") -> OaiPage:
    root = parse_xml(content, content_type)
    if root.tag != f"{OAI}OAI-PMH":
        raise FeedError(f"expected an OAI-PMH response, got <{root.tag}>")
    error = root.find(f"{OAI}error")
    if error is not None:
        code = error.get("code", "error")
        if code == "noRecordsMatch":
            return OaiPage(papers=(), resumption_token=None)
        raise FeedError(f"OAI-PMH {code}: {clean_text(error.text)}")
    records = root.iterfind(f"{OAI}ListRecords/{OAI}record")
    papers = convert_each(records, _record_to_paper, "OAI-PMH records")
    token = root.findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
    return OaiPage(papers=tuple(papers), resumption_token=(token or "").strip() or None)
