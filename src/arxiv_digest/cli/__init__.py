"""Command line: parse arguments, build the objects, call the pipeline, report.

Exit status: 0 success (an empty arXiv day included), 1 a run that failed (a delivery
channel that failed included), 2 a usage or config error, 3 another run holds the store
(nothing was done).

One module per group of commands: ``daily`` (run, demo, backfill, summarize, serve,
doctor), ``ratings`` (rate), ``explain`` (explain), ``delivery`` (deliver), ``search``
(search), ``portable`` (export, import), ``mcp`` (mcp), ``team`` (profiles, the --profile
option); ``base`` has the app and its options.
"""

from __future__ import annotations

import gc
import sys

from arxiv_digest.cli import daily, delivery, explain, mcp, portable, ratings, search, team
from arxiv_digest.cli.base import app, err

__all__ = [
    "app",
    "daily",
    "delivery",
    "explain",
    "main",
    "mcp",
    "portable",
    "ratings",
    "search",
    "team",
]


def main() -> None:
    # What the imports made (classes, schemas, tables) lives until the process ends: kept out
    # of the garbage collector's passes, the interpreter's shutdown takes ~0.03 s, not ~0.15.
    gc.freeze()
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
