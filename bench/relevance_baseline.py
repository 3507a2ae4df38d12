"""Scores of an earlier blend, for ``relevance_tracks.baseline_scores``: run with that
commit's ``src`` first on ``PYTHONPATH``. Reads {"authors", "papers", "cases"} as JSON on
stdin, writes one list of scores per case as JSON on stdout. Only the interface every
version has is used: ``score_case(profile, candidates)``, ``LibraryPaper``, ``Paper``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from arxiv_digest.models import Paper
from arxiv_digest.relevance import LibraryPaper, score_case


def main() -> int:
    request: dict[str, Any] = json.load(sys.stdin)
    papers = request["papers"]
    keep = bool(request["authors"])

    def authors(pid: str) -> tuple[str, ...]:
        return tuple(papers[pid]["authors"]) if keep else ()

    out = []
    for case in request["cases"]:
        profile = [
            LibraryPaper(
                key=pid,
                title=papers[pid]["title"],
                abstract=papers[pid]["abstract"],
                authors=authors(pid),
                arxiv_id=pid,
                added=dt.date.fromisoformat(papers[pid]["day"]),
                source="bench",
                categories=(papers[pid]["category"],),
            )
            for pid in case["profile"]
        ]
        candidates = [
            Paper(
                arxiv_id=pid,
                version=1,
                title=papers[pid]["title"],
                authors=authors(pid),
                abstract=papers[pid]["abstract"],
                primary_category=papers[pid]["category"],
                categories=(papers[pid]["category"],),
                announce_type="new",
                announced=dt.date.fromisoformat(papers[pid]["day"]),
            )
            for pid in case["candidates"]
        ]
        out.append([float(s) for s in score_case(profile, candidates)])
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
