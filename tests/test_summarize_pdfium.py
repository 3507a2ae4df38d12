"""PDFium must never be entered by two threads at once: the summarizer's LLM workers all
extract full text, and a race kills the whole process with SIGSEGV."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_concurrent_extractions_do_not_crash_the_process() -> None:
    # In a child process: a native crash is then a failed test, not a dead pytest.
    done = subprocess.run(
        [sys.executable, "-m", "tests.pdfium_stress"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"exit status {done.returncode}: {done.stderr[-2000:]}"
