"""A paper's PDF turned into the text worth sending: no references, no broken hyphenation,
cut to a token budget that keeps the beginning (abstract, introduction) and the end
(conclusions)."""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from arxiv_digest.errors import SummarizeError

CHARS_PER_TOKEN = 4  # a conservative estimate for English technical prose
OMITTED = "\n\n[... middle of the paper omitted to fit the input budget ...]\n\n"
_NUMBER = r"(?:\d+\.?|[IVX]+\.)?"
_REFERENCES = re.compile(
    rf"(?im)^[ \t]*{_NUMBER}[ \t]*(references|bibliography|literature cited)[ \t]*:?[ \t]*$"
)
_CONCLUSION = re.compile(
    rf"(?im)^[ \t]*{_NUMBER}[ \t]*(conclusions?|concluding remarks|discussion)\b"
)


def extract_text(pdf: bytes) -> str:
    if not pdf.startswith(b"%PDF"):
        raise SummarizeError("the download is not a PDF")
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise SummarizeError(f"unreadable PDF: {exc}") from None
    try:
        pages = [document[i].get_textpage().get_text_bounded() for i in range(len(document))]
    finally:
        document.close()
    return "\n".join(pages)


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
