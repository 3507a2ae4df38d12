"""Search at 100,000 stored papers: index build time, query latency, the service's memory.

    .venv/bin/python bench/search.py [--papers 100000] [--repeat 5] [--pg URL]

The papers are made from the ~790 real records in tests/fixtures/arxiv (RSS, API and OAI
responses): each has a real title with words from other real titles, 4-8 sentences drawn
from real abstracts, 1-8 real author names, real categories, a day in the last two years;
one in ten has an AI summary made the same way. So term frequencies are those of arXiv
text, over a small vocabulary (more matches per word than arXiv: a pessimistic corpus).

For SQLite, and PostgreSQL when ``--pg`` or ARXIV_DIGEST_TEST_PG gives a server (in its own
schema ``bench_search``, dropped and made again; nothing else in that database is touched):

1. load the papers into a store at schema 0011 (before search) and time the upgrade, which
   builds the index of everything stored (the "index build");
2. time one more day of 1,000 papers stored through ``upsert_papers`` (the index follows by
   triggers), and storing that day again (nothing changes); on PostgreSQL, then VACUUM
   ANALYZE (what autovacuum does soon after a bulk load: hint bits, visibility, statistics);
3. p50/p95 of ``Store.search`` over a set of realistic queries, filters included;
4. start ``arxiv-digest serve`` on that store, query ``/search.json`` and ``/search`` over
   HTTP (p50/p95), and print the process's resident memory (VmRSS, and its peak VmHWM).

Targets: p95 < 100 ms at 100,000 papers; the service under 150 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text

from arxiv_digest.models import Paper
from arxiv_digest.sources.arxiv_api import parse_api
from arxiv_digest.sources.oai import parse_oai
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store, migrations, schema
from arxiv_digest.store.rows import paper_row
from corpus import machine

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "arxiv"
BEFORE_SEARCH = 11  # the schema version before 0012_search
PG_SCHEMA = "bench_search"
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("learning", {}),
    ("model", {}),
    ("bayesian inference", {}),
    ('"neural networks"', {}),
    ('"large language models"', {}),
    ("graph neural network", {}),
    ("diffusion sampling", {}),
    ("causal discovery", {}),
    ("regression -bayesian", {}),
    ("transformer OR attention", {}),
    ("quantum error", {}),
    ("reinforcement learning reward", {}),
    ("Ramdas", {}),
    ("convergence rate", {"category": "stat.ML"}),
    ("learning", {"category": "cs"}),
    ("estimation", {"since": dt.date(2026, 1, 1)}),
    ("model", {"shown": True}),
    ("data", {"rated": "up"}),
    ("optimal transport", {"sort": "newest"}),
    ("robust", {"limit": 20, "offset": 100}),
]


def real_papers() -> list[Paper]:
    papers: list[Paper] = []
    for path in sorted((FIXTURES / "rss").glob("*.xml")):
        papers += parse_rss(path.read_bytes()).papers
    for path in sorted((FIXTURES / "api").glob("*entries.xml")):
        papers += parse_api(path.read_bytes()).papers
    for path in sorted((FIXTURES / "oai").glob("*.xml")):
        papers += parse_oai(path.read_bytes()).papers
    return [p for p in papers if p.abstract and p.title]


class Corpus:
    """Varied papers from the pools of real titles, sentences, names and categories."""

    def __init__(self, seed: int = 2026) -> None:
        real = real_papers()
        self.rng = random.Random(seed)
        self.titles = [p.title for p in real]
        self.title_words = [w for p in real for w in p.title.split() if len(w) > 3]
        self.sentences = [
            s for p in real for s in re.split(r"(?<=[.!?])\s+", p.abstract) if len(s) > 30
        ]
        self.authors = sorted({a for p in real for a in p.authors})
        self.categories = [p.categories for p in real]
        print(
            f"pools from {len(real)} real papers: {len(self.sentences)} sentences, "
            f"{len(self.authors)} authors"
        )

    def paper(self, n: int, today: dt.date) -> Paper:
        rng = self.rng
        words = rng.choice(self.titles).split()
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(self.title_words)
        categories = rng.choice(self.categories)
        return Paper(
            arxiv_id=f"{24 + n // 900_000:02d}{1 + n // 90_000 % 12:02d}.{n % 90_000:05d}",
            version=1,
            title=" ".join(words),
            authors=tuple(rng.sample(self.authors, rng.randint(1, 8))),
            abstract=" ".join(rng.sample(self.sentences, rng.randint(4, 8))),
            primary_category=categories[0],
            categories=categories,
            announce_type="new",
            announced=today - dt.timedelta(days=rng.randrange(730)),
        )

    def summary(self) -> str:
        bullets = "\n".join(f"- {s}" for s in self.rng.sample(self.sentences, 4))
        result = self.rng.choice(self.sentences)
        return f"## 1. Contributions\n\n{bullets}\n\n## 2. Results\n\n{result}"


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_old_store(url: str, corpus: Corpus, count: int, today: dt.date) -> list[Paper]:
    """A store at schema 0011 with ``count`` papers, 10 % summarized, 300 shown, 200 rated."""
    engine = create_engine(url)
    papers = [corpus.paper(n, today) for n in range(count)]
    when = dt.datetime.combine(today, dt.time(12), dt.UTC)
    with engine.begin() as conn:
        for _, step in migrations.MIGRATIONS[:BEFORE_SEARCH]:
            step(conn)
        conn.execute(insert(schema.meta).values(key="schema_version", value=str(BEFORE_SEARCH)))
    with engine.begin() as conn:
        for chunk in batches(papers, 5000):
            conn.execute(insert(schema.papers), [paper_row(p) for p in chunk])
            conn.execute(
                insert(schema.announcements),
                [
                    {"arxiv_id": p.arxiv_id, "version": 1, "announced": p.announced,
                     "announce_type": "new"}
                    for p in chunk
                ],
            )  # fmt: skip
        summarized = papers[::10]
        for chunk in batches(summarized, 5000):
            conn.execute(
                insert(schema.summaries),
                [
                    {"arxiv_id": p.arxiv_id, "version": 1, "model": "bench", "prompt_hash": "b",
                     "input_mode": "abstract", "text": corpus.summary(), "note": "",
                     "tokens_in": 0, "tokens_out": 0, "created_at": when}
                    for p in chunk
                ],
            )  # fmt: skip
        conn.execute(
            insert(schema.runs).values(
                id=1, started_at=when, finished_at=when, status="ok", fetched=count,
                candidates=count, ranked=300, fingerprint="bench", message="",
                digest_date=today,
            )
        )  # fmt: skip
        conn.execute(
            insert(schema.rankings),
            [
                {"run_id": 1, "rank": k + 1, "arxiv_id": p.arxiv_id, "version": 1, "score": 1.0,
                 "matched": "[]", "category": p.primary_category, "why": ""}
                for k, p in enumerate(papers[:300])
            ],
        )  # fmt: skip
        conn.execute(
            insert(schema.ratings),
            [
                {"arxiv_id": p.arxiv_id, "value": 1 if k % 3 else -1, "rated_at": when,
                 "source": "cli"}
                for k, p in enumerate(papers[300:500])
            ],
        )  # fmt: skip
    engine.dispose()
    return papers


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    p50, p95, top = cuts[49] * 1000, cuts[94] * 1000, max(samples) * 1000
    return f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {top:6.1f} ms"


def query_latency(store: Store, repeat: int) -> tuple[list[float], dict[str, float]]:
    samples: list[float] = []
    worst: dict[str, float] = {}
    for query, filters in QUERIES:
        store.search(query, **filters)  # warm
        for _ in range(repeat):
            elapsed = timed(functools.partial(store.search, query, **filters))
            samples.append(elapsed)
            worst[query] = max(worst.get(query, 0.0), elapsed)
    return samples, worst


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found


def service(url: str, folder: Path, repeat: int) -> None:
    output = {"site_dir": str(folder / "site"), "readme": str(folder / "README.md")}
    config = {"categories": ["cs.LG", "stat.ML"], "keywords": ["model"], "store": {"url": url}}
    config["output"] = output
    path = folder / "search-config.json"
    path.write_text(json.dumps(config))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    command = [sys.executable, "-m", "arxiv_digest", "--quiet", "serve", "--config", str(path)]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(transport=httpx.HTTPTransport(retries=50), timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:  # uvicorn has no readiness signal on a pipe we keep quiet
                try:
                    client.get(f"{base}/health").raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            idle = memory(process.pid)
            for route in ("/search.json", "/search"):  # one untimed pass: the caches warm
                for query, filters in QUERIES:
                    params = {"q": query, **_params(filters)}
                    client.get(base + route, params=params).raise_for_status()
            for route in ("/search.json", "/search"):
                samples = []
                for query, filters in QUERIES:
                    params = {"q": query, **_params(filters)}
                    for _ in range(repeat):
                        get = lambda u=base + route, p=params: client.get(u, params=p)  # noqa: E731
                        samples.append(timed(get))
                print(f"  HTTP {route:<13} {percentiles(samples)}")
            busy = memory(process.pid)
            print(
                f"  serve RSS: {idle['VmRSS']} MB after start, {busy['VmRSS']} MB after "
                f"{2 * len(QUERIES) * (repeat + 1)} searches (peak {busy['VmHWM']} MB)"
            )
    finally:
        process.terminate()
        process.wait(10)


def _params(filters: dict[str, Any]) -> dict[str, str]:
    names = {"since": "from", "until": "to"}
    params = {}
    for key, value in filters.items():
        if key == "offset":
            params["page"] = str(value // filters.get("limit", 20) + 1)
        elif key == "shown":
            params["shown"] = "yes" if value else "no"
        else:
            params[names.get(key, key)] = (
                value.isoformat() if hasattr(value, "isoformat") else str(value)
            )
    return params


def bench(label: str, url: str, count: int, repeat: int, folder: Path) -> None:
    print(f"\n{label}: {count:,} papers")
    corpus = Corpus()
    today = dt.date(2026, 4, 27)
    loaded = timed(lambda: load_old_store(url, corpus, count, today))
    print(f"  loaded at schema 0011 in {loaded:.1f} s")
    build = timed(lambda: Store(url).close())
    print(f"  index build (upgrade from 0011 to {migrations.MIGRATIONS[-1][0]}): {build:.1f} s")
    with Store(url) as store:
        day = [corpus.paper(count + n, today) for n in range(1000)]
        first = timed(lambda: store.upsert_papers(day))
        again = timed(lambda: store.upsert_papers(day))
        print(f"  a day of 1,000 new papers stored: {first:.2f} s; the same again: {again:.2f} s")
        if store.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            settled = timed(lambda: vacuum(store))
            print(f"  VACUUM ANALYZE search_docs (autovacuum's work, done now): {settled:.1f} s")
        samples, worst = query_latency(store, repeat)
        print(f"  Store.search, {len(QUERIES)} queries x {repeat}: {percentiles(samples)}")
        slowest = sorted(worst.items(), key=lambda kv: -kv[1])[:3]
        print("  slowest: " + ", ".join(f"{q} {t * 1000:.0f} ms" for q, t in slowest))
        total = store.search("learning").total
        print(f"  ('learning' matches {total:,} papers)")
    service(url, folder, repeat)


def vacuum(store: Store) -> None:
    with store.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM (ANALYZE) search_docs"
        )


def pg_url(base: str) -> str:
    """``base`` with its own schema, dropped and made again."""
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{PG_SCHEMA}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", default=os.environ.get("ARXIV_DIGEST_TEST_PG"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.no_sqlite:
            url = f"sqlite:///{folder / 'search.sqlite'}"
            bench("SQLite (FTS5)", url, args.papers, args.repeat, folder)
            size = (folder / "search.sqlite").stat().st_size
            print(f"  store file: {size / 1e6:.0f} MB")
        if args.pg:
            bench("PostgreSQL (tsvector + GIN)", pg_url(args.pg), args.papers, args.repeat, folder)
        else:
            print("\nPostgreSQL: skipped (give --pg URL or set ARXIV_DIGEST_TEST_PG)")


if __name__ == "__main__":
    main()
