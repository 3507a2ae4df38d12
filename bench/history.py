"""A year in a fork: what `store.history_dir` commits and what a fresh runner pays for it.

    .venv/bin/python bench/history.py [--days 250] [--candidates 900] [--shown 30] [--summaries 15]

Builds a store day by day as a fork's daily runs would (each day ``--candidates`` real
records renumbered, a digest of ``--shown`` of them, ``--summaries`` summaries of ~2.5 kB,
a delivery), writes each day's history file after its day, and prints:

* the committed bytes per day, raw and zlib-compressed (git stores each new file once,
  compressed; a day file is never rewritten), against the database file's size: what the
  workflow committed before;
* the largest file committed, and its growth per day (target <= 200 KiB/day);
* a fresh runner's restore (no database: every day file is loaded) at day 1, 125, 250, and
  a cached runner's (the database from the Actions cache: only the new file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.models import DeliveryRecord, Paper, RankedPaper, RunReport, Summary
from arxiv_digest.publish.history import restore_history, write_history
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store
from corpus import build_rss, machine
from history_run import announcement_days

SUMMARY = "## 1. Contributions\n\n" + "- A finding with **numbers** 12.5% and a baseline.\n" * 45


def day_papers(template: Sequence[Paper], number: int, day: dt.date) -> list[Paper]:
    """The template day's papers with fresh ids and this day's date."""
    return [
        Paper(
            arxiv_id=f"26{1 + number // 90:02d}.{number % 90 * 1000 + i:05d}",
            version=1,
            title=f"{p.title} ({day.isoformat()})",
            authors=p.authors,
            abstract=p.abstract,
            primary_category=p.primary_category,
            categories=p.categories,
            announce_type="new",
            announced=day,
        )
        for i, p in enumerate(template)
    ]


def publish_day(
    store: Store, papers: list[Paper], day: dt.date, shown: int, summaries: int
) -> None:
    store.upsert_papers(papers)
    started = dt.datetime.combine(day, dt.time(12), dt.UTC)
    run = store.start_run(started)
    ranked = [
        RankedPaper(p, 10.0 - i / 10, ("LLM",), p.primary_category, why="")
        for i, p in enumerate(papers[:shown])
    ]
    store.save_ranking(run, ranked)
    for p in papers[:summaries]:
        store.save_summary(
            Summary(p.arxiv_id, 1, "qwen-long", SUMMARY, input_mode="abstract"), "p" * 64, started
        )
    report = RunReport(status="ok", digest_date=day, fetched=len(papers), ranked=shown)
    store.finish_run(run, report, started + dt.timedelta(seconds=30), f"{day.isoformat():0<64}")
    store.save_delivery(DeliveryRecord(day, "email", "sent", 1, 1, 1, "", started))


def settings_in(folder: Path) -> Settings:
    config = {"categories": ["cs.AI", "cs.CL", "cs.DC", "cs.LG"], "keywords": ["LLM"],
              "store": {"history_dir": "history"}}  # fmt: skip
    return with_paths_resolved(parse_settings(config), folder)


def timed_restore(history: Path, folder: Path, *, cached: Path | None = None) -> float:
    """Seconds to bring a store up to date with ``history``: a new database, or ``cached``."""
    settings = settings_in(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    if (folder / "history").exists():
        (folder / "history").unlink()
    (folder / "history").symlink_to(history)
    database = folder / "data" / "arxiv-digest.sqlite"
    if cached is not None:
        database.write_bytes(cached.read_bytes())
    elif database.exists():
        database.unlink()
    with Store(settings.store.url) as store:
        start = time.perf_counter()
        restore_history(settings, store)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--candidates", type=int, default=900)
    parser.add_argument("--shown", type=int, default=30)
    parser.add_argument("--summaries", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    template = parse_rss(build_rss(args.candidates, ["cs.AI", "cs.CL", "cs.DC", "cs.LG"])).papers
    days = announcement_days(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fork = settings_in(root / "fork")
        history = root / "fork" / "history"
        checkpoints = {1, args.days // 2, args.days}
        sizes: list[tuple[int, int]] = []
        with Store(fork.store.url) as store:
            for number, day in enumerate(days, start=1):
                publish_day(
                    store, day_papers(template, number, day), day, args.shown, args.summaries
                )
                changed = write_history(fork, store, day)
                data = b"".join(
                    (history / name).read_bytes() for name in changed if name != "ratings.jsonl"
                )
                sizes.append((len(data), len(zlib.compress(data, 6))))
                if number in checkpoints:
                    database = Path(fork.store.url.removeprefix("sqlite:///"))
                    fresh = timed_restore(history, root / f"fresh-{number}")
                    snapshot = root / f"db-{number}.sqlite"
                    snapshot.write_bytes(database.read_bytes())
                    cached = timed_restore(history, root / f"cached-{number}", cached=snapshot)
                    print(
                        f"day {number:>3}: database {database.stat().st_size / 2**20:6.1f} MiB; "
                        f"history {sum(r for r, _ in sizes) / 2**20:5.1f} MiB raw, "
                        f"{sum(z for _, z in sizes) / 2**20:5.1f} MiB compressed; "
                        f"restore: fresh runner {fresh:5.2f} s, cached database {cached:5.3f} s"
                    )
        raw = [r for r, _ in sizes]
        packed = [z for _, z in sizes]
        print(
            f"per day: {sum(raw) / len(raw) / 1024:.0f} KiB written, "
            f"{sum(packed) / len(packed) / 1024:.0f} KiB compressed (the repository's growth); "
            f"largest file {max(raw) / 1024:.0f} KiB, written once (growth 0 KiB/day)"
        )


if __name__ == "__main__":
    main()
