"""The daily job and its companions: run, demo, backfill, summarize, serve, doctor."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx2
import typer

from arxiv_digest import pipeline
from arxiv_digest.cli.base import ConfigOption, _fail, _spinner, _state, app, err, log, out
from arxiv_digest.cli.delivery import exit_for_failed_deliveries, print_deliveries
from arxiv_digest.cli.team import ProfileOption, print_team_report
from arxiv_digest.clock import make_clock
from arxiv_digest.config import (
    CONFIG_ENV,
    Settings,
    check_files,
    load_settings,
    parse_settings,
    resolve_config_path,
    with_paths_resolved,
)
from arxiv_digest.errors import ConfigError, DigestError, RunInProgress
from arxiv_digest.models import Paper, RunReport, SummaryStats
from arxiv_digest.sources import http
from arxiv_digest.sources.arxiv_api import ApiClient
from arxiv_digest.sources.text import split_arxiv_id
from arxiv_digest.store import Store
from arxiv_digest.summarize import build_summarizer
from arxiv_digest.summarize.runner import Progress
from arxiv_digest.team import is_team, member

if TYPE_CHECKING:
    from arxiv_digest.team.run import TeamReport


def _print_summary_stats(stats: SummaryStats, currency: str) -> None:
    if not (stats.made or stats.cached or stats.failed or stats.deferred):
        return
    waiting = (
        f", {stats.deferred} left for the next run (max_calls_per_run)" if stats.deferred else ""
    )
    out.print(
        f"AI summaries: {stats.made} made, {stats.cached} cached, {stats.failed} failed{waiting}; "
        f"tokens {stats.tokens_in:,} in / {stats.tokens_out:,} out; "
        f"estimated cost {stats.cost:.4f} {currency}"
    )
    for failure in stats.failures:
        err.print(f"  summary failed: {failure}", markup=False, highlight=False, soft_wrap=True)


def _print_report(report: RunReport, currency: str = "USD") -> None:
    if _state["quiet"]:
        return
    if report.status == "empty":
        quiet = "" if report.message == pipeline.NO_ANNOUNCEMENTS else f" {report.message};"
        out.print(f"No new announcements on arXiv:{quiet} the previous digest is left as it is.")
        return
    changed = "written" if report.readme_written else "unchanged"
    source = (
        "not modified since the last poll" if report.not_modified else f"{report.fetched} listed"
    )
    out.print(
        f"arXiv: {source}; {report.candidates} candidates; {report.ranked} papers in the digest; "
        f"README {changed}; outputs: {', '.join(report.outputs)}"
    )
    _print_summary_stats(report.summaries, currency)
    if report.triage_calls or report.triage_cached:
        out.print(
            f"LLM triage: {report.triage_calls} calls ({report.triage_failed} failed), "
            f"{report.triage_cached} cached; tokens {report.triage_tokens_in:,} in / "
            f"{report.triage_tokens_out:,} out; estimated cost {report.triage_cost:.4f} {currency}"
        )


@contextmanager
def _summary_progress() -> Iterator[Progress | None]:
    """A progress bar with done/failed counts, on a terminal only."""
    if _state["quiet"] or not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    with RichProgress(
        TextColumn("AI summaries"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} {task.fields[failed]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("summaries", total=None, failed="")

        def update(stats: SummaryStats, total: int) -> None:
            failed = f"({stats.failed} failed)" if stats.failed else ""
            bar.update(task, completed=stats.made + stats.failed, total=total, failed=failed)

        yield update


@app.command()
def run(config: ConfigOption = None, profile: ProfileOption = None) -> None:
    """Fetch today's announcements, rank them, rewrite the README, site and feeds."""
    try:
        settings = load_settings(config)
        if profile is not None:
            member(settings, profile)  # an unknown name: exit 2 before any request
        team: TeamReport | None = None
        with _summary_progress() as progress:
            if is_team(settings):
                from arxiv_digest.team.run import run_team_configured  # team configs only

                team = run_team_configured(settings, only=profile, on_summary=progress)
                report = team.run
            else:
                report = pipeline.run_configured(settings, on_summary=progress)
    except DigestError as exc:
        raise _fail(exc) from None
    _print_report(report, settings.ai_summary.currency)
    if team is not None:
        print_team_report(team, settings.ai_summary.currency)
    print_deliveries(report.deliveries)
    exit_for_failed_deliveries(report.deliveries)


def _demo_settings(output: Path) -> Settings:
    raw = resources.files("arxiv_digest").joinpath("data/demo-config.json").read_text("utf-8")
    settings = parse_settings(json.loads(raw), source="demo config")
    return with_paths_resolved(settings, output.resolve())


def _demo_transport() -> httpx2.MockTransport:
    sample = resources.files("arxiv_digest").joinpath("data/sample-rss-stat-2024-03-26.xml")
    body = sample.read_bytes()

    def answer(request: httpx2.Request) -> httpx2.Response:
        headers = {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"demo"'}
        return httpx2.Response(200, content=body, headers=headers)

    return httpx2.MockTransport(answer)


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where the demo writes its files.")
    ] = Path("demo-output"),
) -> None:
    """Run the whole pipeline offline on a real arXiv day shipped with the package."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        settings = _demo_settings(output)
        with _summary_progress() as progress:
            report = pipeline.run_configured(settings, progress, transport=_demo_transport())
    except DigestError as exc:
        raise _fail(exc) from None
    _print_report(report)
    if not _state["quiet"]:
        out.print(f"Open {settings.output.readme} to see the digest.")


@app.command()
def backfill(
    days: Annotated[int, typer.Option("--days", "-d", min=1, max=366, help="Days to fetch.")] = 7,
    config: ConfigOption = None,
) -> None:
    """Fill the store with the last N days from the arXiv API (one request per 3 s)."""
    try:
        settings = load_settings(config)
        with (
            http.make_client(settings.http) as client,
            Store(settings.store.url) as store,
            _spinner(f"Fetching {days} day(s) from the arXiv API...") as status,
        ):

            def progress(total: int) -> None:
                if status is not None:
                    status.update(f"Fetching from the arXiv API: {total} papers stored")

            count = pipeline.backfill(settings, store, client, days, on_page=progress)
    except DigestError as exc:
        raise _fail(exc) from None
    if not _state["quiet"]:
        out.print(f"Stored {count} papers announced in the last {days} day(s).")


def _papers_for(
    ids: list[str], settings: Settings, store: Store, client: httpx2.Client
) -> list[Paper]:
    """Each paper from the store, else from the arXiv API (one request for all)."""
    wanted: list[tuple[str, int]] = []
    for raw in ids:
        try:
            wanted.append(split_arxiv_id(raw))
        except ValueError:
            raise ConfigError(f"not an arXiv identifier: {raw!r}") from None
    papers: dict[str, Paper] = {}
    for arxiv_id, version in wanted:
        stored = store.paper(arxiv_id)
        if stored is not None and version in (0, stored.version):
            papers[arxiv_id] = stored
    missing = [
        raw for raw, (arxiv_id, _) in zip(ids, wanted, strict=True) if arxiv_id not in papers
    ]
    if missing:
        fetched = ApiClient(client, settings).by_ids(missing)
        for paper in fetched:
            papers[paper.arxiv_id] = paper
        store.upsert_papers(fetched, announced=False)  # looked up, not announced: no digest day
    unknown = [arxiv_id for arxiv_id, _ in wanted if arxiv_id not in papers]
    if unknown:
        raise DigestError(f"arXiv does not know {', '.join(unknown)}")
    return [papers[arxiv_id] for arxiv_id, _ in wanted]


@app.command()
def summarize(
    ids: Annotated[list[str], typer.Argument(help="arXiv ids, e.g. 2512.14082 or 2512.14082v2.")],
    config: ConfigOption = None,
) -> None:
    """Summarize the given papers now and print the summaries as Markdown (cached too)."""
    try:
        settings = load_settings(config)
        settings = settings.model_copy(
            update={"ai_summary": settings.ai_summary.model_copy(update={"enabled": True})}
        )
        check_files(settings)  # the prompt file matters now even if the daily run has it off
        with (
            http.make_client(settings.http) as client,
            Store(settings.store.url) as store,
            store.exclusive_run(),  # a daily run at the same time would pay for them too
        ):
            papers = _papers_for(ids, settings, store, client)
            summarizer = build_summarizer(settings, store, client)
            assert summarizer is not None
            try:
                if not summarizer.can_call and len(summarizer.cached(papers)) < len(papers):
                    raise ConfigError(
                        f"set {settings.ai_summary.api_key_env} to summarize papers not yet cached"
                    )
                found, stats = summarizer.summarize(papers)
            finally:
                summarizer.close()
    except DigestError as exc:
        raise _fail(exc) from None
    for paper in papers:
        summary = found.get((paper.arxiv_id, paper.version))
        if summary is None:
            continue
        out.print(f"# {paper.title} ({paper.versioned_id})\n", markup=False)
        if summary.note:
            out.print(f"*{summary.note}*\n", markup=False)
        out.print(summary.text + "\n", markup=False)
    _print_summary_stats(stats, settings.ai_summary.currency)
    if stats.failed:
        raise typer.Exit(1)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    schedule: Annotated[
        bool, typer.Option("--schedule", help="Also run the daily digest at schedule.time.")
    ] = False,
) -> None:
    """Serve the digest, its feeds and archive from the store (Starlette + uvicorn)."""
    import uvicorn

    from arxiv_digest.web import create_app
    from arxiv_digest.web.logs import log_config
    from arxiv_digest.web.schedule import start_scheduler

    try:
        settings = load_settings(config)
        clock = make_clock(settings.schedule)  # a bad ARXIV_DIGEST_NOW: exit 2, here
        store = Store(settings.store.url)  # created and migrated before any worker starts
    except DigestError as exc:
        raise _fail(exc) from None

    def daily() -> None:
        from arxiv_digest.team.scheduled import run_configured

        try:
            report = run_configured(settings)  # a team config: every member's digest
        except RunInProgress as exc:  # e.g. a cron job on the same store got there first
            log.warning("daily run skipped: %s", exc)
            return
        log.info("daily run: %s, %d papers", report.status, report.ranked)

    def watch() -> None:  # a digest no run made by schedule.time + grace: tell the channels
        from arxiv_digest.delivery.notice import watch_missed

        watch_missed(settings, clock())

    job = daily if schedule else None
    from arxiv_digest.delivery.notice import has_channels

    look = watch if has_channels(settings) else None  # a member's own channels count too
    scheduler = start_scheduler(settings.schedule, job, watch=look) if job or look else None
    level = logging.getLogger().level
    log_level = "warning" if level >= logging.WARNING else "info"
    try:
        if workers > 1:
            os.environ[CONFIG_ENV] = str(resolve_config_path(config))
            store.close()
            uvicorn.run(
                "arxiv_digest.web.asgi:app",
                host=host,
                port=port,
                workers=workers,
                log_level=log_level,
                log_config=log_config(),
            )
        else:
            folder = resolve_config_path(config).parent
            web_app = create_app(settings, store, refresh=daily, config_dir=folder)
            uvicorn.run(web_app, host=host, port=port, log_level=log_level, log_config=log_config())
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        store.close()


@app.command()
def doctor(
    config: ConfigOption = None,
    secrets: Annotated[
        bool,
        typer.Option(
            "--secrets",
            help="Only check that the secrets the config names are set (no network).",
        ),
    ] = False,
) -> None:
    """Check the config, the store, arXiv, the LLM key and delivery secrets (never printed)."""
    from rich.table import Table

    from arxiv_digest.doctor import run_checks, secret_checks  # the delivery channels' modules

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise _fail(exc) from None
    checks = secret_checks(settings) if secrets else run_checks(settings)
    table = Table(show_header=False, box=None)
    for name, (ok, detail) in checks.items():
        table.add_row("[green]ok[/]" if ok else "[red]FAIL[/]", name, detail)
    out.print(table)
    if not all(ok for ok, _ in checks.values()):
        raise typer.Exit(1)
