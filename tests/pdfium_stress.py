"""Many threads extracting text from real multi-page PDFs at once.

Run as a separate process (``python -m tests.pdfium_stress``) by
``tests/test_summarize_pdfium.py``: PDFium is not thread-safe, and when it corrupts its heap
the process dies from a signal, which must show as a failed test rather than kill pytest.
Exit status 0 means every extraction finished and returned the same text as a lone one.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from arxiv_digest.summarize import fulltext
from tests.fakes import make_pdf

THREADS = 8
ROUNDS = 25  # extractions per thread
PAPERS = 3  # distinct PDFs (generating them is the slow part)
PAGES = 14


def long_pdf(n: int) -> bytes:
    """A paper of ``PAGES`` pages of text, different for each ``n``."""
    sections = [
        (f"{i} Section {i}", f"Paper {n}, section {i}: the method is explained at length. " * 40)
        for i in range(1, PAGES)
    ]
    return make_pdf(f"Paper {n}", sections)


def main() -> int:
    pdfs = [long_pdf(n) for n in range(PAPERS)]
    expected = [fulltext.extract_text(pdf) for pdf in pdfs]
    start = threading.Barrier(THREADS)  # all threads enter PDFium together

    def work(n: int) -> bool:
        start.wait()
        return all(
            fulltext.extract_text(pdfs[(n + r) % PAPERS]) == expected[(n + r) % PAPERS]
            for r in range(ROUNDS)
        )

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    if not all(results):
        print("some extractions returned different text", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
