"""From PDF to the text the model reads: references dropped, hyphens mended, budget kept."""

from __future__ import annotations

import pytest

from arxiv_digest.errors import SummarizeError
from arxiv_digest.summarize import fulltext
from tests.fakes import make_pdf, paper_pdf


def test_text_of_a_generated_multi_page_pdf() -> None:
    text = fulltext.paper_text(paper_pdf("2604.00001v1"), max_tokens=100_000)
    assert text.startswith("2604.00001v1")
    assert "speculative decoding idea" in text
    assert "in the conclusion section" in text
    assert "unrelated reference title" not in text


def test_broken_lines_are_joined() -> None:
    assert fulltext.clean("a speculative de-\ncoding step\r\nnext  line") == (
        "a speculative decoding step\nnext line"
    )
    assert fulltext.clean("hyphen\x02\r\nated") == "hyphenated"
    assert fulltext.clean("GPT-\n4 stays") == "GPT-\n4 stays"  # not two lower-case halves


def test_references_are_dropped_only_near_the_end() -> None:
    body = "Intro " * 199 + "Intro"
    assert fulltext.drop_references(f"{body}\nReferences\n[1] X.") == body
    assert fulltext.drop_references(f"{body}\n7 REFERENCES\n[1] X.") == body
    early = f"References\nare discussed below.\n{body}"
    assert fulltext.drop_references(early) == early


def test_fit_keeps_the_beginning_and_the_conclusion() -> None:
    text = "Abstract intro. " * 500 + "\nMiddle stuff. " * 3000 + "\n5 Conclusion\nIt works. " * 20
    fitted = fulltext.fit(text, max_tokens=2000)
    assert len(fitted) <= 2000 * fulltext.CHARS_PER_TOKEN
    assert fitted.startswith("Abstract intro.")
    assert "5 Conclusion\nIt works." in fitted
    assert fulltext.OMITTED in fitted
    assert fulltext.fit("short", max_tokens=2000) == "short"


def test_not_a_pdf_is_an_error() -> None:
    with pytest.raises(SummarizeError, match="not a PDF"):
        fulltext.paper_text(b"<html>PDF is being generated</html>", 1000)


def test_a_pdf_without_text_is_an_error() -> None:
    with pytest.raises(SummarizeError, match="almost no extractable text"):
        fulltext.paper_text(make_pdf("x", []), 1000)
