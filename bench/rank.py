"""Parse + rank throughput: arxiv-digest against the original bot's way, in one run.

    .venv/bin/python bench/rank.py [--papers 100000] [--repeat 3]

Builds one RSS document of N items by repeating the real items of the fixture feeds
(each copy gets its own arXiv id), then times:

* ours:  lxml parsing into Paper records, then select_candidates + Ranker (word mode);
* naive: feedparser, then the original's per-keyword substring loop (filter, score, sort).

Prints papers/s for each step, the machine, and the ratio (target: >= 5x).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import feedparser

from arxiv_digest.config import parse_settings
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.sources.rss import parse_rss
from corpus import build_rss, machine

KEYWORDS = [
    "LLM", "RL", "RLHF", "Inference", "Training", "Attention", "Pipeline", "MOE", "Sparse",
    "Quantization", "Speculative", "Efficient", "Efficiency", "Framework", "Parallel",
    "Distributed", "Kernel", "Decode", "Decoding", "Prefill", "Throughput", "Fast", "Network",
    "Hardware", "Cluster", "FP8", "FP4", "Optimization", "Scalable", "Communication",
]  # fmt: skip
EXCLUDE = ["survey", "review", "tutorial"]


def naive(corpus: bytes) -> tuple[float, float, int]:
    """feedparser + the original bot's keyword loops."""
    start = time.perf_counter()
    entries = feedparser.parse(corpus).entries
    papers: list[dict[str, Any]] = []
    for entry in entries:
        summary = entry.get("summary", "")
        abstract = summary.split("Abstract:", 1)[-1].strip()
        papers.append({"title": entry.get("title", ""), "summary": abstract, "id": entry.get("id")})
    parsed = time.perf_counter()
    kept = []
    for paper in papers:
        text = f"{paper['title']} {paper['summary']}".lower()
        if not any(k.lower() in text for k in KEYWORDS):
            continue
        if any(k.lower() in text for k in EXCLUDE):
            continue
        score = sum(1.0 for k in KEYWORDS if k.lower() in text)
        score += sum(0.5 for k in KEYWORDS if k.lower() in paper["title"].lower())
        paper["score"] = score
        kept.append(paper)
    kept.sort(key=lambda p: p["score"], reverse=True)
    ranked = time.perf_counter()
    return parsed - start, ranked - parsed, len(papers)


def ours(corpus: bytes) -> tuple[float, float, int]:
    settings = parse_settings(
        {
            "categories": ["stat", "cs", "math", "eess", "econ", "q-bio", "physics", "astro-ph"],
            "keywords": KEYWORDS,
            "exclude_keywords": EXCLUDE,
            "announce_types": ["new", "cross", "replace", "replace-cross"],
            "enable_deduplication": False,
            "max_papers": 30,
        }
    )
    start = time.perf_counter()
    papers = parse_rss(corpus).papers
    parsed = time.perf_counter()
    Ranker(settings).rank(select_candidates(papers, settings))
    ranked = time.perf_counter()
    return parsed - start, ranked - parsed, len(papers)


def best_of(
    repeat: int, fn: Callable[[bytes], tuple[float, float, int]], corpus: bytes
) -> tuple[float, float, int]:
    runs = [fn(corpus) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), runs[0][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    corpus = build_rss(args.papers)
    print(f"machine: {machine()}")
    print(f"corpus: {args.papers} RSS items, {len(corpus) / 1e6:.1f} MB, {len(KEYWORDS)} keywords")
    results = {"naive (feedparser + substring loop)": best_of(args.repeat, naive, corpus)}
    results["arxiv-digest (lxml + word matcher)"] = best_of(args.repeat, ours, corpus)
    print(f"{'':38} {'parse/s':>12} {'rank/s':>12} {'parse+rank/s':>14}")
    for name, (parse_s, rank_s, n) in results.items():
        print(f"{name:38} {n / parse_s:12,.0f} {n / rank_s:12,.0f} {n / (parse_s + rank_s):14,.0f}")
    (np, nr, _), (op, orank, _) = results.values()
    ratio = (np + nr) / (op + orank)
    verdict = "meets" if ratio >= 5 else "MISSES"
    print(f"parse+rank speed-up over the naive way: {ratio:.1f}x ({verdict} the 5x target)")


if __name__ == "__main__":
    main()
