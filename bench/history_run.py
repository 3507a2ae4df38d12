"""The daily run on day 1 of history, day 30 and day 250: its cost must not grow with history.

    .venv/bin/python bench/history_run.py [--days 30 250] [--repeat 5] [--candidates 900]

The shipped ``config.json`` (cs.AI, cs.CL, cs.DC, cs.LG, its keywords, up to 30 papers a
day) with AI summaries of 15 papers (``input: abstract``, from the tests' fake LLM, which
answers at once). A day's feed is ``--candidates`` real items (``tests/fixtures``),
renumbered and dated for that day, served over local HTTP: nothing waits on a network.

One history grows to each ``--days`` in turn: the days before it are put in the store as
daily runs leave them (every candidate stored, a digest of 30 ranked papers, 15 of them
summarized) and the site is brought up to date. Then, ``--repeat`` times, alternately:

* **day 1**: a daily run into an empty folder (empty store, no site);
* **day N**: the next announcement day's daily run on the history (each repetition adds
  days: they are days N, N + 1, ...);

each twice: in this process (the run, and its publish step: the site and the README; every
rendering cache emptied first, as in a new process) and as ``arxiv-digest run`` in a new
process (what a scheduled job pays, imports included). Prints medians, the ratios to day 1
(target for the run: <= 1.3) and between the checkpoints, and "publish before": the
publish step as it was before the site was written incrementally (the whole site
rendered from the whole history), on the same history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from arxiv_digest import pipeline
from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.models import RankedPaper, RunReport, Summary
from arxiv_digest.publish import feeds, highlight, html, site
from arxiv_digest.publish.content import load_content
from arxiv_digest.publish.files import write_tree
from arxiv_digest.publish.site import render_site
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store
from arxiv_digest.summarize import build_summarizer
from corpus import build_rss, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fake LLM server
from tests.fakes import FakeLLM, Reply, title_of

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
FIRST_DAY = dt.date(2025, 1, 6)  # a Monday
SUMMARY = (
    "## 1. Contributions\n\n- A **new** method for *efficient* inference, $O(n \\log n)$ "
    "memory, and a kernel for it.\n- A study of when it helps.\n\n## 2. Setup\n\n"
    "- Models: 7B and 70B; datasets GSM8K, HumanEval.\n\n## 3. Results\n\n"
    "| dataset | speed-up |\n|---|---|\n| GSM8K | 2.0x |\n| HumanEval | 2.3x |\n\n"
    "## 4. Conclusions\n\nFaster at the same accuracy; limitations: one GPU type.\n"
)


def announcement_days(count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class DayFeeds:
    """A day's feed: the same real items, with that day's ids and date."""

    def __init__(self, candidates: int) -> None:
        self.template = build_rss(candidates, CATEGORIES).decode("utf-8")
        self.candidates = candidates

    def day(self, n: int, date: dt.date) -> bytes:
        when = dt.datetime.combine(date, dt.time(4), dt.UTC)
        stamp = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
        text = re.sub(r"<(pubDate|lastBuildDate)>[^<]*<", rf"<\1>{stamp}<", self.template)
        text = re.sub(r"9001\.(\d{5})", lambda m: self._id(n, int(m.group(1))), text)
        return text.encode("utf-8")

    def _id(self, n: int, k: int) -> str:
        """Distinct over every day, each with a real month: 9001.00000 ... 9012.99999, 9101..."""
        block, number = divmod(n * self.candidates + k, 10**5)
        return f"{90 + block // 12:02d}{1 + block % 12:02d}.{number:05d}"


class ArxivServer:
    """The feed of the day set last, at /rss/<categories>."""

    def __init__(self) -> None:
        self.feed = b""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(owner.feed)))
                self.end_headers()
                self.wfile.write(owner.feed)

        return Handler


def config_for(folder: Path, llm: FakeLLM, arxiv: ArxivServer) -> Path:
    """The shipped config.json, with this folder's outputs, the fake arXiv and LLM."""
    config: dict[str, Any] = json.loads((REPO / "config.json").read_text(encoding="utf-8"))
    config = {k: v for k, v in config.items() if not k.startswith("//")}
    config["store"] = {"url": "sqlite:///data/arxiv-digest.sqlite"}
    config["output"] = {"readme": "README.md", "site_dir": "site"}
    config["arxiv"] = {"rss_url": f"{arxiv.url}/rss"}
    config["ai_summary"] = {
        **config["ai_summary"],
        "enabled": True,
        "api_key_env": "BENCH_LLM_KEY",
        "base_url": llm.base_url,
        "input": "abstract",
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    return path


def settings_of(config: Path) -> Settings:
    data = json.loads(config.read_text(encoding="utf-8"))
    return with_paths_resolved(parse_settings(data), config.parent)


def fill_history(settings: Settings, day_feeds: DayFeeds, days: list[dt.date], first: int) -> None:
    """Days ``first``, ... (of ``days``) as daily runs leave them, without ranking or asking
    for anything; then the site brought up to date."""
    with Store(settings.store.url) as store:
        for n in range(first, len(days)):
            date = days[n]
            papers = parse_rss(day_feeds.day(n, date)).papers
            store.upsert_papers(papers)
            started = dt.datetime.combine(date, dt.time(12), dt.UTC)
            run_id = store.start_run(started)
            terms = (("LLM",), ("Inference", "Efficient"))
            shown = [
                RankedPaper(p, 10.0 - k / 10, terms[k % 2], p.primary_category)
                for k, p in enumerate(papers[:30])
            ]
            store.save_ranking(run_id, shown)
            for ranked in shown[:15]:
                paper = ranked.paper
                text = SUMMARY + paper.title
                store.save_summary(
                    Summary(paper.arxiv_id, paper.version, "bench", text), "b", started
                )
            report = RunReport(status="ok", ranked=30, digest_date=date)
            store.finish_run(run_id, report, started, f"history-{date}")
        pipeline.publish_site(settings, store)


def forget_renders() -> None:
    """Each daily run is a new process: nothing rendered by an earlier one is at hand."""
    for module in (html, highlight, site, feeds):
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


@contextmanager
def publish_timer(spent: list[float]) -> Iterator[None]:
    """Records how long the run's publish step (site and README) takes."""
    real: Callable[..., list[str]] = pipeline._publish

    def timed(*args: Any, **kwargs: Any) -> list[str]:
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    pipeline._publish = timed
    try:
        yield
    finally:
        pipeline._publish = real


def run_here(config: Path) -> tuple[float, float]:
    """(the whole run, its publish step) in this process."""
    settings = settings_of(config)
    forget_renders()
    spent: list[float] = []
    start = time.perf_counter()
    with (
        publish_timer(spent),
        http.make_client(settings.http) as client,
        Store(settings.store.url) as store,
    ):
        summarizer = build_summarizer(settings, store, client)
        try:
            report = pipeline.run_daily(settings, store, client, summarizer=summarizer)
        finally:
            if summarizer is not None:
                summarizer.close()
    assert report.status == "ok" and report.ranked > 0, report
    return time.perf_counter() - start, sum(spent)


def run_process(config: Path) -> float:
    """``arxiv-digest run`` in a new process, as a scheduled job runs it."""
    command = [sys.executable, "-m", "arxiv_digest", "--quiet", "run", "--config", str(config)]
    start = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    return wall


def full_render(config: Path) -> float:
    """The publish step as it was: the whole site rendered from the whole history."""
    settings = settings_of(config)
    forget_renders()
    start = time.perf_counter()
    with Store(settings.store.url) as store:
        files = render_site(load_content(store, settings), settings)
    write_tree(files, Path(settings.output.site_dir))
    return time.perf_counter() - start


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--days", type=int, nargs="+", default=[30, 250])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=900)
    args = parser.parse_args()

    os.environ["BENCH_LLM_KEY"] = "bench"
    llm = FakeLLM().start()
    llm.reply_for = lambda body: Reply(text=SUMMARY + title_of(body))
    arxiv = ArxivServer()
    day_feeds = DayFeeds(args.candidates)
    checkpoints = sorted(args.days)
    days = announcement_days(checkpoints[-1] + 2 * args.repeat)
    figures: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    with tempfile.TemporaryDirectory() as scratch:
        history = config_for(Path(scratch) / "history", llm, arxiv)
        arxiv.feed = day_feeds.day(0, days[0])
        run_here(config_for(Path(scratch) / "warm-up", llm, arxiv))
        n = 0
        for checkpoint in checkpoints:
            fill_history(settings_of(history), day_feeds, days[: checkpoint - 1], n)
            n = max(n, checkpoint - 1)
            for rep in range(args.repeat):
                arxiv.feed = day_feeds.day(0, days[0])
                fresh = Path(scratch) / f"{checkpoint}-{rep}"
                wall, publish = run_here(config_for(fresh / "here", llm, arxiv))
                note("1 run", wall)
                note("1 publish", publish)
                note("1 process", run_process(config_for(fresh / "new", llm, arxiv)))
                arxiv.feed = day_feeds.day(n, days[n])
                wall, publish = run_here(history)
                note(f"{checkpoint} run", wall)
                note(f"{checkpoint} publish", publish)
                arxiv.feed = day_feeds.day(n + 1, days[n + 1])
                note(f"{checkpoint} process", run_process(history))
                note(f"{checkpoint} before", full_render(history))
                n += 2
    llm.stop()
    report(args, checkpoints, figures)


def report(
    args: argparse.Namespace, checkpoints: list[int], figures: dict[str, list[float]]
) -> None:
    def ratio(day: object, what: str, base: object = 1) -> str:
        value = statistics.median(figures[f"{day} {what}"]) / statistics.median(
            figures[f"{base} {what}"]
        )
        return f"{value:.2f}"

    print(f"machine: {machine()}")
    print(
        f"history: {args.candidates} candidates a day, 30 shown, 15 summarized; "
        f"{args.repeat} runs of each day, alternating with day 1; medians"
    )
    print(
        f"{'':8} {'run (in process)':>18} {'publish step':>14} {'run (new process)':>19} "
        f"{'publish before':>16}"
    )
    for day in [1, *checkpoints]:
        row = [ms(figures[f"{day} {what}"]) for what in ("run", "publish", "process")]
        before = ms(figures[f"{day} before"]) if day != 1 else ""
        print(f"day {day:<4} {row[0]:>18} {row[1]:>14} {row[2]:>19} {before:>16}")
    for day in checkpoints:
        print(
            f"day {day} / day 1: run {ratio(day, 'run')} in process, "
            f"{ratio(day, 'process')} in a new process; publish step {ratio(day, 'publish')}"
        )
    first, last = checkpoints[0], checkpoints[-1]
    if last != first:
        print(
            f"day {last} / day {first}: run {ratio(last, 'run', first)} in process, "
            f"{ratio(last, 'process', first)} in a new process; "
            f"publish step {ratio(last, 'publish', first)}"
        )


if __name__ == "__main__":
    main()
