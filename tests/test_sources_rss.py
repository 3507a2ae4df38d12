"""Reading arXiv's RSS feeds: every real fixture parses into the counts its SOURCES.md states."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import replace

import pytest
from lxml import etree

from arxiv_digest.errors import FeedError
from arxiv_digest.match import Matcher
from arxiv_digest.sources.rss import DC_NS, merge_listings, parse_rss
from arxiv_digest.sources.text import split_arxiv_id, split_authors, tex_to_unicode
from tests.conftest import fixture_bytes


def test_stat_day_has_every_announce_type_in_the_stated_numbers() -> None:
    feed = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml"))
    assert len(feed.papers) == 123
    assert Counter(p.announce_type for p in feed.papers) == {
        "new": 35,
        "cross": 27,
        "replace": 41,
        "replace-cross": 20,
    }
    assert sum(len(p.categories) > 1 for p in feed.papers) == 98


def test_items_without_pubdate_take_the_channel_date() -> None:
    feed = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml"))
    assert feed.date == dt.date(2024, 3, 26)
    assert {p.announced for p in feed.papers} == {dt.date(2024, 3, 26)}


@pytest.mark.parametrize("category", ["cs.AI", "cs.CL", "cs.LG"])
def test_current_format_feeds_have_three_new_items(category: str) -> None:
    feed = parse_rss(fixture_bytes(f"rss/{category}_2026-04-27_trimmed.xml"))
    assert len(feed.papers) == 3
    assert all(p.announce_type == "new" for p in feed.papers)
    assert all(p.announced == dt.date(2026, 4, 27) for p in feed.papers)
    assert all(p.primary_category == category for p in feed.papers)


def test_empty_channel_parses_to_no_papers() -> None:
    feed = parse_rss(fixture_bytes("rss/empty-channel.xml"))
    assert feed.papers == ()
    assert feed.date == dt.date(2024, 11, 28)


def test_item_fields() -> None:
    feed = parse_rss(fixture_bytes("rss/cs.LG_2026-04-27_trimmed.xml"))
    paper = feed.papers[0]
    assert (paper.arxiv_id, paper.version, paper.versioned_id) == ("2604.21952", 1, "2604.21952v1")
    assert paper.title.startswith("Focus Session: Hardware and Software Techniques")
    assert paper.categories == ("cs.LG", "cs.AI", "cs.AR", "cs.NE", "cs.RO")
    assert paper.primary_category == "cs.LG"
    assert paper.authors[0] == "Muhammad Shafique" and len(paper.authors) == 6
    assert paper.abstract.startswith("This work presents a multi-layered methodology")
    assert "visual resolution & stride" in paper.abstract  # &amp; decoded once
    assert "Announce Type" not in paper.abstract and "\n" not in paper.abstract


def test_tex_escaped_author_names_become_unicode() -> None:
    feed = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml"))
    authors = {a for p in feed.papers for a in p.authors}
    assert "Borja Rodríguez-Gálvez" in authors
    assert "Johannes Diehl" in authors and "Jakob Knollmüller" in authors
    assert "Étienne Marcotte" in authors
    assert not any("\\" in a or "{" in a for a in authors)


def test_latex_in_titles_is_left_readable() -> None:
    feed = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml"))
    titles = [p.title for p in feed.papers]
    assert "Adaptive Frequency Bin Interval in FFT via Dense Sampling Factor $\\alpha$" in titles


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        ("S\\'ebastien", "Sébastien"),
        ("Przemys{\\l}aw", "Przemysław"),
        ('Knollm\\"uller', "Knollmüller"),
        ("\\v{S}imon", "Šimon"),
        ("Plain Name", "Plain Name"),
    ],
)
def test_tex_accents(tex: str, expected: str) -> None:
    assert tex_to_unicode(tex) == expected


def test_authors_split_on_commas_outside_parentheses() -> None:
    assert split_authors("Adel Nabli (MLIA, Mila), Edouard Oyallon, S\\'ebastien Bubeck") == (
        "Adel Nabli (MLIA, Mila)",
        "Edouard Oyallon",
        "Sébastien Bubeck",
    )
    assert split_authors("") == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2512.14082v2", ("2512.14082", 2)),
        ("oai:arXiv.org:2604.21935v1", ("2604.21935", 1)),
        ("https://arxiv.org/abs/2604.21935", ("2604.21935", 0)),
        ("math/0611918", ("math/0611918", 0)),
        ("http://arxiv.org/abs/hep-th/9901001v3", ("hep-th/9901001", 3)),
    ],
)
def test_arxiv_identifiers(raw: str, expected: tuple[str, int]) -> None:
    assert split_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "２４１１.１７７１２",  # fullwidth digits
        "2411.１7712",
        "0000.00000",  # month 00
        "2499.99999",  # month 99
        "2413.00001",
        "hep-th/9900001",
        "hep-th/99O1001",
        "2411.17712v0",  # versions count from 1
        "2411.17712v２",
        "2411.177",
        "2411.177123",
    ],
)
def test_ids_no_paper_can_have_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not an arXiv identifier"):
        split_arxiv_id(raw)


def test_truncated_xml_is_a_clear_error() -> None:
    body = fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")
    with pytest.raises(FeedError, match="not well-formed XML"):
        parse_rss(body[: len(body) // 2])


def test_html_error_page_is_a_clear_error() -> None:
    page = b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>"
    with pytest.raises(FeedError, match="HTML page"):
        parse_rss(page, "text/html")


def test_atom_document_is_not_taken_for_rss() -> None:
    with pytest.raises(FeedError, match=r"expected an RSS 2\.0 document"):
        parse_rss(fixture_bytes("api/query_zero-results.xml"))


def test_cross_listed_copy_never_replaces_the_new_one(combined_feed: bytes) -> None:
    feed = parse_rss(combined_feed)
    new = next(p for p in feed.papers if p.arxiv_id == "2604.21952")
    cross = replace(new, announce_type="cross")
    merged = merge_listings([cross, *feed.papers])
    assert len(merged) == len(feed.papers)
    kept = next(p for p in merged if p.arxiv_id == "2604.21952")
    assert kept.announce_type == "new"


def _stat_day_with(edit: dict[int, dict[str, str]]) -> bytes:
    """The real stat feed of 2024-03-26, some items' fields replaced: {index: {tag: text}}."""
    root = etree.fromstring(fixture_bytes("rss/stat_2024-03-26.xml"))
    items = root.findall("channel/item")
    for index, fields in edit.items():
        for tag, text in fields.items():
            element = items[index].find(tag)
            assert element is not None, tag
            element.text = text
    return etree.tostring(root)


WITHDRAWN = {
    "{http://arxiv.org/schemas/atom}announce_type": "withdrawn",
    "description": "arXiv:2403.15527v2 Announce Type: withdrawn \nAbstract: withdrawn",
}
NOT_ARXIV = {
    "guid": "oai:example.org:conformal-42",
    "description": "arXiv:conformal-42 Announce Type: new \nAbstract: an item from elsewhere",
}


def test_one_odd_item_costs_only_itself_with_one_counted_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = _stat_day_with({0: WITHDRAWN, 1: NOT_ARXIV})
    with caplog.at_level(logging.WARNING):
        feed = parse_rss(body)
    assert len(feed.papers) == 121
    assert {"2403.15527", "2403.15670"}.isdisjoint(p.arxiv_id for p in feed.papers)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "skipped 2 of 123 RSS items" in message
    assert "unknown announce type 'withdrawn'" in message and "conformal-42" in message


def test_many_odd_items_still_make_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    body = _stat_day_with(dict.fromkeys(range(0, 100, 2), WITHDRAWN))
    with caplog.at_level(logging.WARNING):
        feed = parse_rss(body)
    assert len(feed.papers) == 73
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    assert "skipped 50 of 123 RSS items" in caplog.text


def test_a_feed_with_no_readable_item_is_an_error() -> None:
    body = _stat_day_with(dict.fromkeys(range(123), WITHDRAWN))
    with pytest.raises(FeedError, match="none of the 123 RSS items could be read"):
        parse_rss(body)


def test_tex_accents_in_titles_and_abstracts_become_letters_that_keywords_find() -> None:
    title = 'Spectral gaps of the Schr\\"odinger operator with P\\"oschl--Teller potential'
    abstract = (
        "arXiv:2403.15527v1 Announce Type: new \nAbstract: L\\'evy flights and Erd\\H{o}s $\\alpha$"
    )
    feed = parse_rss(_stat_day_with({0: {"title": title, "description": abstract}}))
    paper = feed.papers[0]
    assert paper.title == "Spectral gaps of the Schrödinger operator with Pöschl--Teller potential"
    assert paper.abstract == "Lévy flights and Erdős $\\alpha$"
    assert Matcher(["Schrödinger", "Lévy"]).search(f"{paper.title} {paper.abstract}") == [
        "Schrödinger",
        "Lévy",
    ]


def test_double_encoded_author_names_are_repaired() -> None:
    feed = parse_rss(_stat_day_with({0: {f"{{{DC_NS}}}creator": "JosÃ© RaÃºl, Aaditya Ramdas"}}))
    assert feed.papers[0].authors == ("José Raúl", "Aaditya Ramdas")
