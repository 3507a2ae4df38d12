"""Ranking speed with every relevance signal, against keywords alone, in one run.

    .venv/bin/python bench/relevance_speed.py [--papers 1500] [--library 100,500]

A day of N real RSS items (the fixture feeds repeated, each copy its own arXiv id) is
ranked with the original bot's 30 keywords, then again with a library of L papers (real
records from the relevance fixtures, repeated to size): BM25 + TF-IDF similarity, library
authors, keywords, the why line. Prints seconds per ranking and the machine. Target: 1,500
candidates with every signal in at most 2 s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from arxiv_digest.config import parse_settings
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.relevance.library import Library, LibraryPaper
from arxiv_digest.sources.rss import parse_rss
from corpus import build_rss, machine

REPO = Path(__file__).resolve().parents[1]
KEYWORDS = ["LLM", "RL", "Inference", "Training", "Attention", "Sparse", "Quantization",
            "Speculative", "Efficient", "Framework", "Parallel", "Distributed", "Kernel",
            "Decoding", "Throughput", "Hardware", "Optimization", "Scalable", "Communication",
            "Pipeline", "MOE", "FP8", "Prefill", "Cluster", "Network", "Fast", "Decode",
            "Efficiency", "RLHF", "FP4"]  # fmt: skip
CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]


def library_of(size: int) -> Library:
    day = json.loads((REPO / "tests/fixtures/relevance/day-2025-09-11.json").read_text())
    records = day["papers"]
    papers = [
        LibraryPaper(f"title:{i}", r["title"], r["abstract"], tuple(r["authors"]))
        for i, r in enumerate(records[i % len(records)] for i in range(size))
    ]
    return Library(tuple(papers))


def timed(ranker: Ranker, papers: list, repeat: int) -> tuple[float, int]:  # type: ignore[type-arg]
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = len(ranker.rank(papers))
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--library", default="100,500")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    feed = parse_rss(build_rss(args.papers, CATEGORIES))
    # repeated records share titles: no deduplication, or the day shrinks to the originals
    base = {"categories": CATEGORIES, "keywords": KEYWORDS, "enable_deduplication": False}
    keywords_only = parse_settings(base)
    papers = select_candidates(feed.papers, keywords_only)
    print(f"machine: {machine()}")
    print(f"day: {len(papers)} candidates")
    seconds, shown = timed(Ranker(keywords_only), papers, args.repeat)
    print(f"keywords only:              {seconds:6.3f} s  ({shown} shown)")
    with_library = parse_settings({**base, "relevance": {"library": []}})
    for size in (int(s) for s in args.library.split(",")):
        ranker = Ranker(with_library, library_of(size))
        seconds, shown = timed(ranker, papers, args.repeat)
        verdict = "meets" if seconds <= 2 else "MISSES"
        print(
            f"library of {size:5d}, all signals: {seconds:6.3f} s  ({shown} shown; {verdict} 2 s)"
        )


if __name__ == "__main__":
    main()
