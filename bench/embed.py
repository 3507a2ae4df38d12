"""Embedding speed of the offline all-MiniLM-L6-v2 (fastembed, int8 ONNX) on one day's papers.

    .venv/bin/python bench/embed.py [--papers 1500] [--batch-sizes 8,32] [--threads N]
                                    [--max-chars 300]

Takes N real arXiv records (full titles and abstracts, from the fixture feeds the other
benches use, repeated to reach N) and prints, for each batch size, the seconds to embed all
of them as "title. abstract" in feed order, and with the texts sorted by length first (fewer
padding tokens per batch), plus the model load time and the machine. ``--max-chars``
cuts each text first (the model reads at most 256 tokens, about 1,100 characters, anyway).
Last, what a run does (``FastEmbedder`` on ``scorer.model_text``: the title and the
abstract's first ~600 characters, sorted by length, batches of 8) against the whole texts
in feed order, the baseline, in the same run.
Target (issue 8): 1,500 new papers in at most 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from arxiv_digest.models import Paper
from arxiv_digest.sources.rss import parse_rss
from corpus import build_rss, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' offline MiniLM
from tests.minilm import load_minilm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--batch-sizes", default="8,32")
    parser.add_argument("--max-chars", type=int, default=0, help="cut each text (0: whole)")
    parser.add_argument("--threads", type=int, default=None, help="ONNX threads (default: all)")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    papers = parse_rss(build_rss(args.papers)).papers
    texts = [f"{p.title}. {p.abstract}" for p in papers]
    if args.max_chars:
        texts = [text[: args.max_chars] for text in texts]
    chars = sum(map(len, texts)) / len(texts)
    start = time.perf_counter()
    model = load_minilm(threads=args.threads)
    list(model.embed(texts[:8]))  # the first call builds the session's buffers
    print(f"model load + warm-up: {time.perf_counter() - start:.2f} s")
    print(f"{len(texts)} papers, {chars:.0f} characters each on average")
    by_length = sorted(texts, key=len)
    for size in (int(s) for s in args.batch_sizes.split(",")):
        for label, batch in (("feed order", texts), ("by length", by_length)):
            start = time.perf_counter()
            list(model.embed(batch, batch_size=size))
            seconds = time.perf_counter() - start
            print(
                f"batch {size:>3}, {label:<10}: {seconds:6.1f} s, "
                f"{len(texts) / seconds:5.0f} papers/s"
            )
    _as_a_run_does(list(papers), texts if not args.max_chars else [])
    print(f"machine: {machine()}, load now {os.getloadavg()[0]:.1f}")
    return 0


FORMER_BATCH = 64  # what runs used before the texts were cut and sorted


def _as_a_run_does(papers: list[Paper], whole: list[str]) -> None:
    from tests.minilm import MODEL_NAME, load_minilm, offline_minilm_dir

    from arxiv_digest.relevance.embed import FastEmbedder
    from arxiv_digest.relevance.scorer import model_text

    load_minilm()  # registers the offline model with fastembed
    embedder = FastEmbedder(MODEL_NAME, model_path=offline_minilm_dir())
    embedder.embed(["warm-up"])
    if whole:
        model = load_minilm()
        start = time.perf_counter()
        list(model.embed(whole, batch_size=FORMER_BATCH))
        before = time.perf_counter() - start
        print(f"baseline, whole texts in feed order, batch {FORMER_BATCH}: {before:6.1f} s")
    texts = [model_text(p.title, p.abstract) for p in papers]
    start = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - start
    chars = sum(map(len, texts)) / len(texts)
    print(
        f"as a run does (model_text, {chars:.0f} characters, by length): {seconds:6.1f} s, "
        f"{len(texts) / seconds:5.0f} papers/s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
