"""Team mode: the same day for 1 profile and for 50, summaries off; then serve's memory.

    .venv/bin/python bench/team.py [--profiles 50] [--papers 100000] [--render-processes N]

The day is an RSS feed of 900 real items in 4 categories (``corpus.build_rss``), answered
in-process (no network). Profiles are generated from the day's own title words: each
member gets 4-8 keywords, half of them a category subset, a fifth follow an author. Each
configuration runs on a fresh SQLite store (cold: one ingestion, every ranking, every
site), then once more (warm: the feed unchanged). Target: 50 profiles cost at most 4x one.
The config leaves ``output.render_processes`` to its default: the 50 profiles' sites are
shared with a worker process per spare core (none for 1 profile); the processor time,
worker processes included, is printed beside the elapsed time.

Serve: a store grown to ``--papers`` papers (the same items renumbered, over as many days
as it takes), every member's pages asked for once, in a child process whose peak
resident memory is reported (target: under 200 MB per worker).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2

from corpus import build_rss, machine

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]


def profiles_for(feed: bytes, count: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    words = sorted(
        {w for w in re.findall(rb"<title>([^<]+)</title>", feed) for w in w.split() if len(w) > 6}
    )
    vocabulary = [w.decode("utf-8", "replace").strip(":,.()") for w in words]
    vocabulary = [w for w in vocabulary if w.isalpha()]
    authors = re.findall(rb"<dc:creator>([^,<]+)", feed)
    profiles: dict[str, Any] = {}
    for n in range(count):
        profile: dict[str, Any] = {
            "keywords": rng.sample(vocabulary, rng.randint(4, 8)),
            "max_papers": rng.choice([10, 20, 30]),
        }
        if n % 2:
            profile["categories"] = rng.sample(CATEGORIES, 2)
        if n % 5 == 0 and authors:
            profile["authors"] = [rng.choice(authors).decode("utf-8", "replace").strip()]
        profiles[f"m{n:02d}"] = profile
    return profiles


def config_for(
    folder: Path, profiles: dict[str, Any], render_processes: int | None = None
) -> dict[str, Any]:
    output: dict[str, Any] = {"readme": "README.md", "site_dir": "site"}
    if render_processes is not None:
        output["render_processes"] = render_processes
    return {
        "categories": CATEGORIES,
        "arxiv": {"rss_url": "https://rss.example.invalid/rss"},
        "output": output,
        "store": {"url": f"sqlite:///{folder / 'store.sqlite'}"},
        "profiles": profiles,
    }


PUBLISHING: list[float] = []  # seconds in team.outputs.publish (sites, READMEs, team page)


def _timing_publish() -> None:
    """Count the time the runs spend writing their outputs (a breakdown, not a change)."""
    from arxiv_digest.team import outputs

    publish = outputs.publish
    if publish.__name__ == "timed":
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return publish(*args, **kwargs)
        finally:
            PUBLISHING.append(time.perf_counter() - started)

    outputs.publish = timed


def one_run(config: dict[str, Any], folder: Path, feed: bytes) -> tuple[float, float, float]:
    """The run's seconds, those of them spent publishing, and the processor seconds it
    took (its worker processes' included)."""
    from arxiv_digest.config import parse_settings, with_paths_resolved
    from arxiv_digest.team.run import run_team_configured

    _timing_publish()
    settings = with_paths_resolved(parse_settings(config), folder)
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(
            200, content=feed, headers={"Content-Type": "application/rss+xml"}
        )
    )
    PUBLISHING.clear()
    cpu = os.times()
    started = time.perf_counter()
    run_team_configured(settings, transport=transport)
    elapsed = time.perf_counter() - started
    now = os.times()
    used = sum(now[:4]) - sum(cpu[:4])  # user and system, of this process and its children
    return elapsed, sum(PUBLISHING), used


def day_runs(
    feed: bytes, count: int, folder: Path, render_processes: int | None = None
) -> dict[str, float]:
    config = config_for(folder, profiles_for(feed, count), render_processes)
    cold, cold_publishing, cold_cpu = one_run(config, folder, feed)
    warm, warm_publishing, _ = one_run(config, folder, feed)
    return {
        "cold": cold, "warm": warm, "cold_pub": cold_publishing, "warm_pub": warm_publishing,
        "cold_cpu": cold_cpu,
    }  # fmt: skip


SERVE_CHILD = """
import json, resource, sys
from pathlib import Path
from starlette.testclient import TestClient
from arxiv_digest.config import parse_settings, with_paths_resolved
from arxiv_digest.store import Store
from arxiv_digest.team import members
from arxiv_digest.web import create_app
config, folder = json.loads(sys.argv[1]), Path(sys.argv[2])
settings = with_paths_resolved(parse_settings(config), folder)
with Store(settings.store.url) as store, TestClient(create_app(settings, store)) as client:
    codes = [client.get("/").status_code, client.get("/team").status_code]
    codes += [client.get("/" + m.path).status_code for m in members(settings)]
    codes += [client.get("/" + m.path + "rss").status_code for m in members(settings)]
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "ok": all(c == 200 for c in codes), "requests": len(codes)}))
"""


def grow_store(config: dict[str, Any], folder: Path, papers: int) -> int:
    """Add renumbered copies of the day's papers on earlier days until ``papers``."""
    import datetime as dt

    from arxiv_digest.sources.rss import parse_rss
    from arxiv_digest.store import Store

    day = parse_rss(build_rss(900, CATEGORIES)).papers
    with Store(config["store"]["url"]) as store:
        have = store.count_papers()
        n = 0
        while have < papers:
            n += 1
            batch = [
                replace(
                    p,
                    arxiv_id=f"{80 + n // 12:02d}{n % 12 + 1:02d}.{i:05d}",
                    announced=p.announced - dt.timedelta(days=n),
                )
                for i, p in enumerate(day)
            ]
            have += store.upsert_papers(batch)
        return have


def serve_memory(feed: bytes, count: int, papers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = config_for(folder, profiles_for(feed, count))
        one_run(config, folder, feed)
        stored = grow_store(config, folder, papers)
        child = subprocess.run(
            [sys.executable, "-c", SERVE_CHILD, json.dumps(config), str(folder)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        result["papers"] = stored
        return result


def day_runs_in_a_new_process(
    count: int, folder: Path, render_processes: int | None = None
) -> dict[str, float]:
    """:func:`day_runs` as a daily run meets it: in a process of its own, so that nothing a
    run before it rendered or prepared (the same day's papers) is still in memory; in a
    new ``folder``, which stays until the bench ends."""
    folder.mkdir()
    processes = [] if render_processes is None else ["--render-processes", str(render_processes)]
    child = subprocess.run(
        [sys.executable, __file__, "--day-runs", str(count), "--folder", str(folder), *processes],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    runs: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return runs


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profiles", type=int, default=50)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each, alternated; medians are reported"
    )
    parser.add_argument(
        "--render-processes",
        type=int,
        help="output.render_processes of both configs (default: the config's default)",
    )
    parser.add_argument("--day-runs", type=int, help=argparse.SUPPRESS)  # the child's part
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    feed = build_rss(900, CATEGORIES)
    if args.day_runs is not None:
        print(json.dumps(day_runs(feed, args.day_runs, args.folder, args.render_processes)))
        return
    ones, manys = [], []
    # Every run's files stay until the end: deleting thousands of files just before a run
    # makes its own new files slower to create (ext4 skips recently freed inodes), which a
    # daily run, a day after the last, never meets.
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):  # alternated: a slow minute of a shared machine hits both
            ones.append(day_runs_in_a_new_process(1, Path(tmp) / f"one-{n}", args.render_processes))
            manys.append(
                day_runs_in_a_new_process(
                    args.profiles, Path(tmp) / f"many-{n}", args.render_processes
                )
            )
    one, many = medians(ones), medians(manys)
    print(f"machine: {machine()}; medians of {args.rounds} alternated rounds")
    for label, runs, each in (
        ("1 profile: ", one, ones),
        (f"{args.profiles} profiles:", many, manys),
    ):
        spread = ", ".join(f"{r['cold']:.2f}" for r in each)
        print(
            f"{label} cold {runs['cold']:.2f} s (publishing {runs['cold_pub']:.2f} s, "
            f"processor {runs['cold_cpu']:.2f} s; rounds {spread}), "
            f"warm {runs['warm']:.2f} s (publishing {runs['warm_pub']:.2f} s)"
        )
    ratio = many["cold"] / one["cold"]
    print(f"ratio (cold): {ratio:.2f}x (target <= 4x): {'ok' if ratio <= 4 else 'OVER'}")
    print(f"processor time ratio (cold): {many['cold_cpu'] / one['cold_cpu']:.2f}x")
    memory = serve_memory(feed, args.profiles, args.papers)
    verdict = "ok" if memory["peak_mb"] < 200 and memory["ok"] else "OVER"
    print(
        f"serve, {args.profiles} profiles, {memory['papers']:,} papers: peak "
        f"{memory['peak_mb']:.0f} MB over {memory['requests']} requests "
        f"(target < 200 MB): {verdict}"
    )


if __name__ == "__main__":
    main()
