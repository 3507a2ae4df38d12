"""A simulated announcement day, end to end, with AI summaries.

    .venv/bin/python bench/daily_run.py [--summaries 15] [--workers 3] [--seed 1]

Serves locally: an RSS feed of ~1,500 items in 4 categories (real records, renumbered),
PDFs that take 1 s each, and an OpenAI-compatible LLM taking 8 s ± 2 s per summary. Runs
the daily pipeline twice and prints:

* the first run's wall time, and the lower bound for that concurrency: the total LLM
  latency divided by the worker count, plus one feed fetch and one PDF download (the
  downloads run ahead of the LLM calls); their ratio (target <= 1.1; the original: 1.27);
* the second run's wall time and LLM call count (target: under 2 s, 0 calls).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from arxiv_digest import pipeline
from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.models import RunReport
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import fetch_rss
from arxiv_digest.store import Store
from arxiv_digest.summarize import build_summarizer
from corpus import build_rss, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fake LLM server
from tests.fakes import FakeLLM, Reply, paper_pdf, title_of

CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
PDF_LATENCY = 1.0


class ArxivServer:
    """The feed (with ETag, so the second poll is a 304) and slow PDFs."""

    def __init__(self, feed: bytes) -> None:
        pdf = paper_pdf("A simulated paper")
        handler = self._handler(feed, pdf)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def _handler(feed: bytes, pdf: bytes) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/pdf/"):
                    time.sleep(PDF_LATENCY)
                    body, kind = pdf, "application/pdf"
                elif self.headers.get("If-None-Match") == '"day"':
                    self.send_response(304)
                    self.end_headers()
                    return
                else:
                    body, kind = feed, "application/rss+xml"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("ETag", '"day"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def settings_for(folder: Path, arxiv: str, llm: FakeLLM, summaries: int, workers: int) -> Settings:
    config = {
        "categories": CATEGORIES,
        "keywords": ["model", "learning", "data", "network", "inference", "LLM", "Bayesian"],
        "max_papers": 30,
        "arxiv": {"rss_url": f"{arxiv}/rss", "pdf_url": f"{arxiv}/pdf"},
        "ai_summary": {
            "enabled": True,
            "base_url": llm.base_url,
            "model": "bench-model",
            "max_papers_to_summarize": summaries,
            "max_workers": workers,
        },
    }
    return with_paths_resolved(parse_settings(config), folder)


def timed_run(settings: Settings) -> tuple[float, RunReport]:
    start = time.perf_counter()
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        summarizer = build_summarizer(settings, store, client)
        try:
            report = pipeline.run_daily(settings, store, client, summarizer=summarizer)
        finally:
            if summarizer:
                summarizer.close()
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--summaries", type=int, default=15)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    latencies: dict[str, float] = {}
    lock = threading.Lock()

    def slow_reply(body: Any) -> Reply:
        with lock:
            delay = latencies.setdefault(title_of(body), rng.uniform(6.0, 10.0))
        return Reply(delay=delay)

    llm = FakeLLM().start()
    llm.reply_for = slow_reply
    arxiv = ArxivServer(build_rss(args.items, CATEGORIES))
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(Path(folder), arxiv.url, llm, args.summaries, args.workers)
        with http.make_client(settings.http) as client:
            start = time.perf_counter()
            _, feed = fetch_rss(client, settings)
            fetch = time.perf_counter() - start
        first_wall, first = timed_run(settings)
        calls_after_first = len(llm.completions)
        second_wall, second = timed_run(settings)
    llm.stop()

    total_llm = sum(latencies.values())
    bound = total_llm / args.workers + fetch + PDF_LATENCY
    ratio = first_wall / bound
    print(f"machine: {machine()}")
    print(
        f"day: {feed.papers.__len__() if feed else 0} RSS items in {len(CATEGORIES)} categories, "
        f"{first.ranked} ranked; {args.summaries} summaries, max_workers {args.workers}; "
        f"PDF {PDF_LATENCY:.0f} s, LLM 8 s ± 2 s (seed {args.seed})"
    )
    print(
        f"first run:  {first_wall:6.2f} s wall, {calls_after_first} LLM calls "
        f"({first.summaries.made} made, {first.summaries.failed} failed)"
    )
    print(
        f"lower bound: {bound:6.2f} s = {total_llm:.2f} s LLM / {args.workers} workers "
        f"+ {fetch:.2f} s fetch + {PDF_LATENCY:.2f} s download"
    )
    verdict = "meets" if ratio <= 1.1 else "MISSES"
    print(f"ratio: {ratio:.3f} ({verdict} the 1.1 target; the original bot: 1.27)")
    second_calls = len(llm.completions) - calls_after_first
    ok = "meets" if second_wall < 2 and second_calls == 0 else "MISSES"
    print(
        f"second run: {second_wall:6.2f} s wall, {second_calls} LLM calls, "
        f"{second.summaries.cached} cached ({ok} the < 2 s, 0 calls target)"
    )


if __name__ == "__main__":
    main()
