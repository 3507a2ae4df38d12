"""The service's /rss under load, against a static file server and a naive baseline.

    .venv/bin/python bench/serve.py [--seconds 10] [--connections 20]

Builds a store with 100 ranked papers, each with an AI summary, then starts three servers
(uvicorn, one worker each, in their own processes):

* arxiv-digest ``serve``;
* a plain static file server (Starlette ``StaticFiles``) over the same site files;
* a naive baseline that keeps the papers in memory and rebuilds the feed with feedgen on
  every request (the original service's way).

Load: ``wrk`` when installed (Debian package), else an asyncio httpx client; 20
connections on /rss, full responses and conditional ones (If-None-Match). Prints req/s and
p99 for each, the machine, and the ratios (targets: full responses >= 50 % of the static
server, >= 16x the naive baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.models import RankedPaper, RunReport, Summary
from arxiv_digest.pipeline import publish_site
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store
from corpus import build_rss, machine

CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
SUMMARY = (
    "## 1. Contributions\n\n- A **new** method for *efficient* inference, $O(n \\log n)$.\n"
    "- Better than the baselines.\n\n## 2. Setup\n\n| dataset | metric |\n|---|---|\n"
    "| GSM8K | accuracy |\n\n## 3. Results\n\n"
    + "- A result with numbers 12.3%.\n" * 20
    + "\n## 4. Conclusions\n\nIt works; limitations remain.\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_store(folder: Path) -> Path:
    """A config + store with one published digest of 100 summarized papers."""
    config = {
        "categories": CATEGORIES,
        "keywords": ["model"],
        "max_papers": 100,
        "output": {"site_dir": "site"},
        "feeds": {"max_items": 100},
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    settings = with_paths_resolved(parse_settings(config), folder)
    papers = parse_rss(build_rss(100, CATEGORIES)).papers
    when = dt.datetime(2026, 4, 27, 12, tzinfo=dt.UTC)
    with Store(settings.store.url) as store:
        store.upsert_papers(papers)
        run_id = store.start_run(when)
        ranked = [
            RankedPaper(p, 10.0 - i / 10, ("model",), p.primary_category)
            for i, p in enumerate(papers)
        ]
        store.save_ranking(run_id, ranked)
        for paper in papers:
            summary = Summary(paper.arxiv_id, paper.version, "bench-model", SUMMARY)
            store.save_summary(summary, "bench", when)
        report = RunReport(status="ok", ranked=100, digest_date=papers[0].announced)
        store.finish_run(run_id, report, when, fingerprint="bench")
        publish_site(settings, store)
    return path


def static_app(site: str) -> object:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    return Starlette(routes=[Mount("/", StaticFiles(directory=site))])


def naive_app(config: str) -> object:
    """Papers in memory, feed rebuilt with feedgen for every request."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from arxiv_digest.config import load_settings
    from arxiv_digest.publish import feeds
    from arxiv_digest.publish.content import load_content

    settings: Settings = load_settings(config)
    with Store(settings.store.url) as store:
        content = load_content(store, settings)

    def rss(request: Request) -> Response:
        body = feeds.rss(content.feed, settings, "feed", "rss.xml", content.built_at)
        return Response(body, media_type="application/rss+xml")

    return Starlette(routes=[Route("/rss", rss)])


def start(kind: str, target: str, port: int) -> subprocess.Popen[bytes]:
    if kind == "service":
        command = [sys.executable, "-m", "arxiv_digest", "--quiet", "serve", "--config", target]
    else:
        command = [sys.executable, __file__, "--serve", kind, "--target", target]
    process = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_text = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99_text is not None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_text.group(2)]
    return rate, float(p99_text.group(1)) * scale


async def _client_load(
    url: str, seconds: int, connections: int, headers: dict[str, str]
) -> tuple[float, float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:

        async def worker() -> None:
            while time.monotonic() < stop:
                began = time.perf_counter()
                await client.get(url)
                latencies.append((time.perf_counter() - began) * 1000)

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1]


def load(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, float]:
    if shutil.which("wrk"):
        return wrk(url, seconds, connections, headers)
    return asyncio.run(_client_load(url, seconds, connections, headers))


def serve_mode(kind: str, target: str, port: int) -> None:
    import uvicorn

    app = static_app(target) if kind == "static" else naive_app(target)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--serve", choices=["static", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_mode(args.serve, args.target, args.port)
        return

    with tempfile.TemporaryDirectory() as folder:
        config = make_store(Path(folder))
        site = Path(folder) / "site"
        ports = {"service": free_port(), "static": free_port(), "naive": free_port()}
        targets = {"service": str(config), "static": str(site), "naive": str(config)}
        processes = [start(kind, targets[kind], port) for kind, port in ports.items()]
        try:
            service = f"http://127.0.0.1:{ports['service']}/rss"
            etag = httpx.get(service).headers["etag"]
            body = httpx.get(service).content
            assert body == (site / "rss.xml").read_bytes()
            scenarios = {
                "arxiv-digest /rss (full)": (service, {}),
                "arxiv-digest /rss (If-None-Match, 304)": (service, {"If-None-Match": etag}),
                "static file server /rss.xml": (f"http://127.0.0.1:{ports['static']}/rss.xml", {}),
                "naive: feedgen per request": (f"http://127.0.0.1:{ports['naive']}/rss", {}),
            }
            results = {
                name: load(url, args.seconds, args.connections, headers)
                for name, (url, headers) in scenarios.items()
            }
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)

    tool = "wrk" if shutil.which("wrk") else "asyncio httpx client"
    print(f"machine: {machine()}")
    print(
        f"load: {tool}, {args.connections} connections, {args.seconds} s each; "
        f"feed of 100 summarized papers, {len(body):,} bytes, identity encoding"
    )
    print(f"{'':42} {'req/s':>10} {'p99 ms':>9}")
    for name, (rate, p99) in results.items():
        print(f"{name:42} {rate:10,.0f} {p99:9.2f}")
    ours, _ = results["arxiv-digest /rss (full)"]
    static, _ = results["static file server /rss.xml"]
    naive, _ = results["naive: feedgen per request"]
    print(f"full responses vs static server: {ours / static:.0%} (target >= 50%)")
    print(f"full responses vs naive baseline: {ours / naive:.1f}x (target >= 16x)")


if __name__ == "__main__":
    main()
