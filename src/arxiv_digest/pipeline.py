"""The daily run, stage by stage: fetch -> store -> rank -> publish. The only module that
knows the order; every stage is called with typed values and returns typed values."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2

from arxiv_digest.clock import make_clock
from arxiv_digest.config import Settings
from arxiv_digest.errors import DigestError, PublishError, StoreError
from arxiv_digest.models import DeliveryOutcome, Digest, DigestEntry, Paper, RunReport
from arxiv_digest.publish.files import Switch
from arxiv_digest.publish.history import apply_retention, restore_history, write_history
from arxiv_digest.retry import Sleep
from arxiv_digest.sources import http
from arxiv_digest.sources.arxiv_api import ApiClient
from arxiv_digest.sources.calendar import feed_day, quiet_day
from arxiv_digest.sources.rss import feed_url, fetch_rss, merge_listings
from arxiv_digest.store import Store
from arxiv_digest.summarize.runner import Progress, Summarizer, build_summarizer

if TYPE_CHECKING:
    from arxiv_digest.relevance.embed import CachedEmbedder
    from arxiv_digest.relevance.library import Library

log = logging.getLogger(__name__)
# The stages after the feed (ranking with numpy, the site's templates and Markdown): a run
# imports them in a thread while it waits for arXiv, not before it asks.
LATER_STAGES = (
    "arxiv_digest.rank",
    "arxiv_digest.relevance.embed",
    "arxiv_digest.relevance.resolve",
    "arxiv_digest.relevance.triage",
    "arxiv_digest.publish.incremental",
    "arxiv_digest.publish.readme",
)
Clock = Callable[[], dt.datetime]
NO_ANNOUNCEMENTS = "no new announcements"  # an empty feed on an arXiv announcement day


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def import_later_stages() -> None:
    """Import :data:`LATER_STAGES` in a daemon thread (the first use of each waits for it,
    by Python's import lock, if it is not done by then)."""

    def load() -> None:
        for name in LATER_STAGES:
            importlib.import_module(name)

    threading.Thread(target=load, name="imports", daemon=True).start()


def check_relevance(settings: Settings) -> None:
    """A broken library file, or an embedding model not installed or without its key: a
    config error before any request (nothing to check, and nothing imported, without
    ``relevance``)."""
    if settings.relevance is None:
        return
    from arxiv_digest.relevance.embed import check_embedder
    from arxiv_digest.relevance.library import read_library_files

    read_library_files(settings)
    check_embedder(settings)


def _ingest(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    report: RunReport,
    sleep: Sleep | None,
) -> bool:
    """Poll the feed and store what it lists; False when arXiv announced nothing."""
    url = feed_url(settings)
    response, feed = fetch_rss(client, settings, store.validators(url), sleep=sleep)
    if feed is None:
        report.not_modified = True
        log.info("feed not modified since the last poll: nothing downloaded")
        return store.latest_announcement() is not None
    report.fetched = len(feed.papers)
    if not feed.papers:
        return False
    store.upsert_papers(merge_listings(feed.papers))
    store.save_validators(url, response.validators)
    log.info("fetched %d announcements for %s", len(feed.papers), feed.date)
    return True


# The candidates of the days [first, last] for a reader (a team reads the days once).
Candidates = Callable[[dt.date, dt.date, Settings], list[Paper]]


def build_digest(
    settings: Settings,
    store: Store,
    report: RunReport,
    now: dt.datetime,
    library: Library | None = None,
    *,
    vectors: CachedEmbedder | None = None,
    candidates_of: Candidates | None = None,
) -> Digest:
    from arxiv_digest.rank import Ranker, select_candidates
    from arxiv_digest.relevance.triage import triage_pool

    last = store.latest_announcement()
    if last is None:
        return Digest(updated_at=now, entries=(), window=None)
    first = last - dt.timedelta(days=settings.days_back - 1)
    if candidates_of is not None:
        candidates = candidates_of(first, last, settings)
    else:
        candidates = select_candidates(store.announced_between(first, last), settings)
    # With LLM triage the ranker keeps top_k papers, so the model can also bring in one
    # that the blend alone would have left just outside; the digest is cut after triage.
    ranked = Ranker(settings, library, vectors=vectors).rank(
        candidates, limit=triage_pool(settings)
    )
    report.candidates, report.ranked = len(candidates), len(ranked)
    entries = tuple(DigestEntry(r) for r in ranked)
    return Digest(updated_at=now, entries=entries, window=(first, last))


def within_cap(
    summarizer: Summarizer, papers: list[Paper], max_calls: int | None
) -> tuple[list[Paper], int]:
    """``papers`` as a run capped at ``max_calls`` new summaries asks for them: every one
    with a cached summary, and the first ``max_calls`` without; and how many wait for a
    later run (none without a cap, or without an LLM to call)."""
    if max_calls is None or not summarizer.can_call:
        return papers, 0
    cached = summarizer.cached(papers)
    new = [p for p in dict.fromkeys(papers) if (p.arxiv_id, p.version) not in cached]
    allowed = {(p.arxiv_id, p.version) for p in new[:max_calls]} | set(cached)
    return [p for p in papers if (p.arxiv_id, p.version) in allowed], max(0, len(new) - max_calls)


def attach_summaries(
    digest: Digest,
    summarizer: Summarizer | None,
    report: RunReport,
    on_progress: Progress | None = None,
) -> Digest:
    """Summaries for the top papers (cached, or new within ``ai_summary.max_calls_per_run``;
    the rest of them wait for a later run); cached ones for the other papers too."""
    if summarizer is None or not digest.entries:
        return digest
    limit = summarizer.config.max_papers_to_summarize
    papers = [e.ranked.paper for e in digest.entries]
    top, deferred = within_cap(summarizer, papers[:limit], summarizer.config.max_calls_per_run)
    found, report.summaries = summarizer.summarize(top, on_progress)
    report.summaries.deferred = deferred
    if deferred:
        log.warning(
            "AI summaries: %d paper(s) wait for the next run (ai_summary.max_calls_per_run %d)",
            deferred,
            summarizer.config.max_calls_per_run,
        )
    found.update(summarizer.cached(papers[limit:]))
    entries = tuple(
        DigestEntry(e.ranked, found.get((e.ranked.paper.arxiv_id, e.ranked.paper.version)))
        for e in digest.entries
    )
    return Digest(updated_at=digest.updated_at, entries=entries, window=digest.window)


def rank_day(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    run_id: int,
    report: RunReport,
    *,
    now: dt.datetime,
    sleep: Sleep | None = None,
    candidates_of: Candidates | None = None,
) -> Digest:
    """A reader's digest of the stored days: ranked with their library, triaged, cut to
    ``max_papers`` and saved under ``run_id`` (no summaries yet)."""
    from arxiv_digest.rank import keep_best
    from arxiv_digest.relevance.embed import make_vectors
    from arxiv_digest.relevance.resolve import load_library
    from arxiv_digest.relevance.triage import triage

    library = load_library(settings, store, client) if settings.relevance is not None else None
    vectors = make_vectors(settings, store) if library is not None else None
    try:
        digest = build_digest(
            settings, store, report, now, library, vectors=vectors, candidates_of=candidates_of
        )
    finally:
        if vectors is not None:
            vectors.close()
    judged = triage(settings, store, [e.ranked for e in digest.entries], report, sleep=sleep)
    judged = keep_best(judged, settings.max_papers)
    report.ranked = len(judged)
    report.digest_date = digest.window[1] if digest.window else None
    store.save_ranking(run_id, judged)
    return replace(digest, entries=tuple(DigestEntry(r) for r in judged))


def _prepare_readme(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    run_id: int,
    report: RunReport,
    *,
    started: dt.datetime,
    summarizer: Summarizer | None,
    on_summary: Progress | None,
    sleep: Sleep | None = None,
) -> tuple[str, str]:
    """Rank, triage (``relevance.triage``), summarize and render the README (not yet
    written): (text, content fingerprint)."""
    from arxiv_digest.publish.readme import content_fingerprint, render_readme

    digest = rank_day(settings, store, client, run_id, report, now=started, sleep=sleep)
    digest = attach_summaries(digest, summarizer, report, on_summary)
    fingerprint = content_fingerprint(digest, settings)
    first_seen = store.first_published(fingerprint)
    if first_seen is not None:  # same content as before: same timestamp, same bytes
        digest = Digest(updated_at=first_seen, entries=digest.entries, window=digest.window)
    return render_readme(digest, settings), fingerprint


def _publish(settings: Settings, store: Store, readme: str, report: RunReport) -> list[str]:
    """Write the site, then the README, as one switch: every new file is written in full
    before any is put in place, so a failure (a full disk) leaves both as they were."""
    from arxiv_digest.publish.incremental import stage_site

    try:
        with Switch() as switch:
            stage_site(store, settings, switch)
            written = switch.stage(Path(settings.output.readme), readme)
            switch.commit()
    except PublishError as exc:
        return [str(exc)]
    report.readme_written = written
    report.outputs += [str(settings.output.readme), str(settings.output.site_dir)]
    return []


def _record_failure(store: Store, run_id: int, report: RunReport, now: dt.datetime) -> None:
    """Best effort: the store may be the thing that failed; the error raised says why."""
    try:
        store.finish_run(run_id, report, now, None)
    except StoreError as exc:
        log.error("the failed run could not be recorded either: %s", exc)


def run_daily(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    *,
    summarizer: Summarizer | None = None,
    on_summary: Progress | None = None,
    clock: Clock = utc_now,
    sleep: Sleep | None = None,
) -> RunReport:
    """Fetch, store, rank, summarize and render; record the run; then write the README, the
    site and the feeds. Nothing is replaced before the run is recorded, and only one run at a
    time works on a store (RunInProgress for a second one, before anything is paid for)."""
    with store.exclusive_run():
        store.mark_interrupted(clock())
        import_later_stages()  # beside the restore too: SQLite indexes without the GIL
        restore_history(settings, store)
        try:
            report = _run_locked(
                settings,
                store,
                client,
                summarizer=summarizer,
                on_summary=on_summary,
                clock=clock,
                sleep=sleep,
            )
        except BaseException:
            _save_history(settings, store, failing=True)  # what was paid for, kept
            raise
        _save_history(settings, store, failing=False)
        apply_retention(settings, store)
        return report


def _save_history(settings: Settings, store: Store, *, failing: bool) -> None:
    """Write the history files of the run's day; when the run is already failing, a
    failure here is logged, not raised over the run's own error."""
    try:
        last = store.last_run()
        write_history(settings, store, last["digest_date"] if last else None)
    except DigestError as exc:
        if not failing:
            raise
        log.error("history: %s", exc)


def _run_locked(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    *,
    summarizer: Summarizer | None,
    on_summary: Progress | None,
    clock: Clock,
    sleep: Sleep | None,
) -> RunReport:
    report = RunReport()
    started = clock()
    run_id = store.start_run(started)
    readme: str | None = None
    fingerprint: str | None = None
    try:
        if _ingest(settings, store, client, report, sleep):
            readme, fingerprint = _prepare_readme(
                settings,
                store,
                client,
                run_id,
                report,
                started=started,
                summarizer=summarizer,
                on_summary=on_summary,
                sleep=sleep,
            )
    except BaseException as exc:
        stopped = isinstance(exc, KeyboardInterrupt | SystemExit)
        report.status = "interrupted" if stopped else "failed"
        report.message = (
            str(exc) if isinstance(exc, DigestError) else f"{type(exc).__name__}: {exc}"
        )
        _record_failure(store, run_id, report, clock())
        if not stopped:
            _notify_missed(settings, store, client, clock=clock, sleep=sleep)
        raise
    if readme is None:
        quiet = quiet_day(feed_day(started))
        report.status = "empty"
        report.message = quiet.message if quiet else NO_ANNOUNCEMENTS
        store.finish_run(run_id, report, clock(), None)
        if quiet is not None:  # the site's front page says so; the digest stays as it is
            _publish_quiet_day(settings, store, run_id, report, clock)
        _deliver(
            settings, store, client, report, clock=clock, sleep=sleep
        )  # what an earlier run left
        _notify_missed(settings, store, client, clock=clock, sleep=sleep)
        return report
    report.status = "ok"
    store.finish_run(run_id, report, clock(), fingerprint)  # recorded first: then published
    failures = _publish(settings, store, readme, report)
    _deliver(settings, store, client, report, clock=clock, sleep=sleep)
    if failures:
        report.status, report.message = "failed", "; ".join(failures)
        _record_failure(store, run_id, report, clock())
        _notify_missed(settings, store, client, clock=clock, sleep=sleep)
        raise PublishError(report.message)
    return report


def _publish_quiet_day(
    settings: Settings, store: Store, run_id: int, report: RunReport, clock: Clock
) -> None:
    try:
        publish_site(settings, store)
    except PublishError as exc:
        report.status, report.message = "failed", f"site: {exc}"
        _record_failure(store, run_id, report, clock())
        raise PublishError(report.message) from None
    report.outputs.append(str(settings.output.site_dir))


def _notify_missed(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    *,
    clock: Clock,
    sleep: Sleep | None,
) -> None:
    """An announcement day left without its digest: one short notice to the delivery
    channels (once a day). Best effort: never in the way of the run's own outcome."""
    if settings.delivery is None:
        return
    from arxiv_digest.delivery.notice import notify_missed  # e-mail and chat: configured only

    try:
        notify_missed(settings, store, client, now=clock(), sleep=sleep)
    except Exception as exc:  # the run's own error, if any, is the one raised
        log.error("notice of a missing digest: %s", exc)


def _deliver(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    report: RunReport,
    *,
    clock: Clock,
    sleep: Sleep | None,
) -> None:
    """Send what is due to the delivery channels; their failures are in the report (the
    CLI exits 1 for them), never a reason to hold back the README or the site."""
    if settings.delivery is None:
        return
    from arxiv_digest.delivery.dispatch import deliver  # e-mail and chat: configured only

    try:
        report.deliveries = deliver(settings, store, client, now=clock(), sleep=sleep)
    except DigestError as exc:  # e.g. the store could not say what is due
        log.error("delivery: %s", exc)
        day = report.digest_date or clock().date()
        report.deliveries = [DeliveryOutcome(day, "delivery", "failed", detail=str(exc))]


def publish_site(settings: Settings, store: Store) -> list[str]:
    """Rewrite the static site and feeds (what changed); returns the paths that changed."""
    from arxiv_digest.publish.incremental import stage_site

    with Switch() as switch:
        changed = stage_site(store, settings, switch)
        switch.commit()
    return changed


def backfill(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    days: int,
    *,
    today: dt.date | None = None,
    sleep: Sleep | None = None,
    on_page: Callable[[int], None] | None = None,
) -> int:
    """Fill the store with the last ``days`` days of the monitored categories."""
    since = (today or utc_now().date()) - dt.timedelta(days=days - 1)
    api = ApiClient(client, settings, sleep=sleep)
    batch: list[Paper] = []
    total = 0
    with store.exclusive_run():
        for paper in api.recent(since):
            batch.append(paper)
            if len(batch) >= 500:
                total += store.upsert_papers(batch)
                batch.clear()
                if on_page:
                    on_page(total)
        total += store.upsert_papers(batch)
    if on_page:
        on_page(total)
    return total


def run_configured(
    settings: Settings,
    on_summary: Progress | None = None,
    transport: httpx2.BaseTransport | None = None,
) -> RunReport:
    """A whole daily run with the configured store, HTTP client and summarizer
    (``transport`` replaces the network, as the offline demo does)."""
    check_relevance(settings)
    with (
        http.make_client(settings.http, transport=transport) as client,
        Store(settings.store.url) as store,
    ):
        summarizer = build_summarizer(settings, store, client)
        try:
            return run_daily(
                settings,
                store,
                client,
                summarizer=summarizer,
                on_summary=on_summary,
                clock=make_clock(settings.schedule),
            )
        finally:
            if summarizer is not None:
                summarizer.close()
