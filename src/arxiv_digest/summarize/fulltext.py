"""A paper's PDF turned into the text worth sending: no references, no broken hyphenation,
cut to a token budget that keeps the beginning (abstract, introduction) and the end
(conclusions)."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from arxiv_digest.errors import SummarizeError

if TYPE_CHECKING:
    from pypdfium2 import PdfDocument

CHARS_PER_TOKEN = 4  # a conservative estimate for English technical prose
OMITTED = "\n\n[... middle of the paper omitted to fit the input budget ...]\n\n"
_NUMBER = r"(?:\d+\.?|[IVX]+\.)?"
_REFERENCES = re.compile(
    rf"(?im)^[ \t]*{_NUMBER}[ \t]*(references|bibliography|literature cited)[ \t]*:?[ \t]*$"
)
_CONCLUSION = re.compile(
    rf"(?im)^[ \t]*{_NUMBER}[ \t]*(conclusions?|concluding remarks|discussion)\b"
)


# PDFium is not thread-safe: two threads inside it at once corrupt its heap and the process
# dies (SIGSEGV, "double free or corruption"). The summarizer extracts in its download
# threads, and anyone else may call this module from a thread too, so every call into
# pypdfium2 in the process goes through this one lock. It is held for one step at a time
# (opening the document, one page, closing it), never for the Python work around them: a
# long paper being read does not hold up another thread's PDF for more than a page.
_PDFIUM = threading.Lock()


def _pdfium() -> Any:  # the pypdfium2 module (untyped)
    """pypdfium2, imported by the first extraction (or :func:`load_pdfium`): a run with
    every summary cached, or any other command, does not pay for loading it."""
    import pypdfium2

    return pypdfium2


def load_pdfium() -> None:
    """Import PDFium's bindings now (~50 ms), e.g. while the first PDFs download, rather
    than in the first extraction, between a PDF's arrival and its LLM call."""
    _pdfium()


def extract_text(pdf: bytes) -> str:
    """The text of every page, in order; any PDFium failure is a SummarizeError."""
    if not pdf.startswith(b"%PDF"):
        raise SummarizeError("the download is not a PDF")
    pdfium = _pdfium()
    try:
        with _PDFIUM:
            document = pdfium.PdfDocument(pdf)
        try:
            return "\n".join(_page_text(document, i) for i in range(_page_count(document)))
        finally:
            with _PDFIUM:
                document.close()
    except pdfium.PdfiumError as exc:
        raise SummarizeError(f"unreadable PDF: {exc}") from None


def _page_count(document: PdfDocument) -> int:
    with _PDFIUM:
        return len(document)


def _page_text(document: PdfDocument, index: int) -> str:
    """One page's text, under the lock; the page and its text are closed explicitly.

    pypdfium2 otherwise closes them from garbage-collection finalizers, which may run in
    any thread at any time, i.e. outside the lock.
    """
    with _PDFIUM:
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                return str(textpage.get_text_bounded())
            finally:
                textpage.close()
        finally:
            page.close()


def clean(text: str) -> str:
    """Join words broken at line ends and tidy whitespace, keeping paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\x02\n?", "", text)  # PDFium's mark for a hyphen at the end of a line
    text = re.sub(r"(?<=[a-z])-\n(?=[a-z])", "", text)
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def drop_references(text: str) -> str:
    """Everything before the last References heading, if it comes after the first third."""
    matches = list(_REFERENCES.finditer(text))
    if matches and matches[-1].start() > len(text) / 3:
        return text[: matches[-1].start()].rstrip()
    return text


def fit(text: str, max_tokens: int) -> str:
    budget = max_tokens * CHARS_PER_TOKEN
    if len(text) <= budget:
        return text
    budget -= len(OMITTED)
    conclusion = list(_CONCLUSION.finditer(text, len(text) // 2))
    tail_start = conclusion[-1].start() if conclusion else len(text) - budget // 4
    tail = text[tail_start:][: int(budget * 0.4)]
    head = text[: budget - len(tail)]
    return head + OMITTED + tail


def paper_text(pdf: bytes, max_tokens: int) -> str:
    text = drop_references(clean(extract_text(pdf)))
    if len(text) < 200:
        raise SummarizeError("the PDF has almost no extractable text (scanned?)")
    return fit(text, max_tokens)
