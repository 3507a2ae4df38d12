"""A simulated announcement day with AI summaries, run as cron or Actions runs it.

    .venv/bin/python bench/daily_run.py [--seed 1] [--baseline REF]   # ~2 min (4 min with REF)

Serves locally: an RSS feed of 900 real items in 4 categories (renumbered; 0.3 s per
request, no validators, so every poll downloads and parses it), PDFs of 12 pages of text
that take 1 s each, and an OpenAI-compatible LLM taking 8 s ± 2 s per summary (uniform,
seeded per paper). Every run is a fresh ``python -m arxiv_digest run`` process, so the
interpreter's start and imports count, as they do for a user. Two days are run:

* **text**: PDFs with text. The first run on an empty store is compared with the lower
  bound for that concurrency: one feed fetch + one PDF download + the LLM latencies spread
  over the workers (target <= 1.1); its time is split into before the first LLM call, the
  LLM span against its ideal, and after the last answer. Then a rerun minutes later
  (target: < 2 s, 0 LLM calls).
* **no text**: PDFs without text, so every summary falls back to the abstract; a rerun
  minutes later must download no PDF again (target: 0 downloads, 0 LLM calls, < 2 s).

``--baseline REF`` runs the same days with the code of a git commit (its ``src/`` only,
exported to a temporary folder), on the same servers and latencies: before and after in
one run of the bench. It needs git and this checkout's history; nothing else does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from corpus import build_rss, machine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' fake LLM server and PDF maker
from tests.fakes import FakeLLM, Reply, make_pdf, title_of  # noqa: E402

CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
RSS_LATENCY = 0.3
PDF_LATENCY = 1.0
KEY_ENV = "BENCH_LLM_KEY"


def text_pdf(pages: int = 12) -> bytes:
    """A paper of ``pages`` pages of prose (~70,000 characters), ending in Conclusions."""
    prose = (
        "We study efficient distributed training of large language models with sparse "
        "attention and pipeline parallelism on GPU clusters, and measure throughput. "
    ) * 14
    sections = [(f"{n} Section {n}", prose) for n in range(1, pages - 1)]
    return make_pdf("A simulated paper", [*sections, ("Conclusions", prose)])


class World:
    """arXiv (feed and PDFs) with its latencies; every request's time is kept."""

    def __init__(self, feed: bytes, pdf: bytes) -> None:
        self.feed, self.pdf = feed, pdf
        self.requests: list[tuple[float, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        world = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                world.requests.append((time.monotonic(), self.path))
                is_pdf = self.path.startswith("/pdf/")
                time.sleep(PDF_LATENCY if is_pdf else RSS_LATENCY)
                body = world.pdf if is_pdf else world.feed
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf" if is_pdf else "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@dataclass
class Llm:
    """The fake LLM, each paper's latency drawn once (seeded) and each call's span kept."""

    seed: int
    server: FakeLLM = field(default_factory=FakeLLM)
    latencies: dict[str, float] = field(default_factory=dict)
    spans: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        lock = threading.Lock()

        def reply(body: Any) -> Reply:
            with lock:
                delay = self.latencies.setdefault(title_of(body), rng.uniform(6.0, 10.0))
                start = time.monotonic()
                self.spans.append((start, start + delay))
            return Reply(delay=delay)

        self.server.reply_for = reply
        self.server.start()


@dataclass(frozen=True)
class Run:
    wall: float
    started: float
    calls: list[tuple[float, float]]  # (sent, answered) of each LLM call
    requests: list[tuple[float, str]]  # (time, path) of each request to arXiv

    @property
    def pdfs(self) -> int:
        return sum(1 for _, path in self.requests if path.startswith("/pdf/"))


def write_config(folder: Path, world: World, llm: Llm, summaries: int, workers: int) -> Path:
    config = {
        "categories": CATEGORIES,
        "keywords": ["model", "learning", "data", "network", "inference", "LLM", "Bayesian"],
        "max_papers": 30,
        "arxiv": {"rss_url": f"{world.url}/rss", "pdf_url": f"{world.url}/pdf"},
        "ai_summary": {
            "enabled": True,
            "api_key_env": KEY_ENV,
            "base_url": llm.server.base_url,
            "model": "bench-model",
            "max_papers_to_summarize": summaries,
            "max_workers": workers,
        },
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def cli_run(config: Path, src: Path, world: World, llm: Llm) -> Run:
    env = {**os.environ, "PYTHONPATH": str(src), KEY_ENV: "sk-bench"}
    calls_before = len(llm.spans)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "arxiv_digest", "--quiet", "run", "--config", str(config)],
        cwd=config.parent, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the run failed ({done.returncode}): {done.stderr[-2000:]}")
    requests = [(t, path) for t, path in world.requests if t >= started]
    return Run(wall, started, llm.spans[calls_before:], requests)


def import_time(src: Path) -> float:
    """A bare ``python -m arxiv_digest --version``: the interpreter's start and imports."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.monotonic()
    command = [sys.executable, "-m", "arxiv_digest", "--version"]
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.monotonic() - started


def first_run_figures(run: Run, fetch: float, workers: int) -> str:
    llm_total = sum(end - start for start, end in run.calls)
    bound = fetch + PDF_LATENCY + llm_total / workers
    feed = min(t for t, path in run.requests if path.startswith("/rss"))
    pdf = min(t for t, path in run.requests if path.startswith("/pdf/"))
    first = min(start for start, _ in run.calls)
    last = max(end for _, end in run.calls)
    ratio = run.wall / bound
    # The same run from its feed request on: without the interpreter's start and imports
    # (and the new store's migrations), which the bound leaves out too.
    pipeline = (run.started + run.wall - feed) / bound
    verdict = "meets" if ratio <= 1.1 else "MISSES"
    return (
        f"  first run {run.wall:6.2f} s, bound {bound:6.2f} s ({fetch:.2f} s feed fetch "
        f"+ {PDF_LATENCY:.2f} s PDF + {llm_total:.2f} s LLM / {workers}): "
        f"ratio {ratio:.3f} ({verdict} <= 1.1), {pipeline:.3f} from the feed request on; "
        f"{len(run.calls)} LLM calls\n"
        f"    until the feed request {feed - run.started:4.2f} s, then the first PDF request "
        f"{pdf - feed:4.2f} s, the first LLM call {first - pdf:4.2f} s; "
        f"LLM span {last - first:6.2f} s (ideal {llm_total / workers:.2f}); "
        f"after the last answer {run.started + run.wall - last:4.2f} s"
    )


def rerun_figures(run: Run) -> str:
    ok = run.wall < 2 and not run.calls
    return (
        f"  rerun     {run.wall:6.2f} s, {len(run.calls)} LLM calls, {run.pdfs} PDF downloads "
        f"({'meets' if ok else 'MISSES'} < 2 s, 0 calls)"
    )


def feed_fetch_time(feed: bytes) -> float:
    """One poll of the feed as a run makes it (request and parsing), in this process."""
    from arxiv_digest.config import parse_settings
    from arxiv_digest.sources import http
    from arxiv_digest.sources.rss import fetch_rss

    world = World(feed, b"")
    try:
        settings = parse_settings(
            {"categories": CATEGORIES, "keywords": ["x"], "arxiv": {"rss_url": f"{world.url}/rss"}}
        )
        with http.make_client(settings.http) as client:
            started = time.monotonic()
            fetch_rss(client, settings)
            return time.monotonic() - started
    finally:
        world.server.shutdown()


def bench_day(
    name: str, src: Path, *, pdf: bytes, feed: bytes, fetch: float, args: argparse.Namespace
) -> None:
    world = World(feed, pdf)
    llm = Llm(args.seed)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-day-") as folder:
            config = write_config(Path(folder), world, llm, args.summaries, args.workers)
            first = cli_run(config, src, world, llm)
            rerun = cli_run(config, src, world, llm)
    finally:
        llm.server.stop()
        world.server.shutdown()
    print(f" {name}:")
    if name == "text":
        print(first_run_figures(first, fetch, args.workers))
    else:
        print(f"  first run {first.wall:6.2f} s, {len(first.calls)} LLM calls (all fall back)")
    print(rerun_figures(rerun))


def baseline_src(ref: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=900)
    parser.add_argument("--summaries", type=int, default=15)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", metavar="REF", help="also run a git commit's code")
    parser.add_argument("--days", default="text,no-text", help="text, no-text or both")
    args = parser.parse_args()

    feed = build_rss(args.items, CATEGORIES)
    pdfs = {"text": text_pdf(), "no-text": make_pdf("A scanned paper", [])}
    fetch = feed_fetch_time(feed)
    print(f"machine: {machine()}")
    print(
        f"day: {args.items} RSS items in {len(CATEGORIES)} categories, feed {RSS_LATENCY} s; "
        f"{args.summaries} summaries, max_workers {args.workers}; PDF {PDF_LATENCY:.0f} s, "
        f"LLM 8 s ± 2 s (seed {args.seed}); each run a new process"
    )
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        codes = [("this checkout", REPO / "src")]
        if args.baseline:
            old = baseline_src(args.baseline, Path(folder))
            codes.insert(0, (f"baseline {args.baseline}", old))
        for label, src in codes:
            print(f"{label}: process start and imports {import_time(src):.2f} s")
            for day in args.days.split(","):
                bench_day(day, src, pdf=pdfs[day], feed=feed, fetch=fetch, args=args)


if __name__ == "__main__":
    main()
