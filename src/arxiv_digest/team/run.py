"""The daily run of a team config: one ingestion, a ranking per member, one bill.

1. The feed is fetched once, for the config's categories (every profile reads a subset),
   and stored once: the run's row in ``runs`` is the config's own (profile "").
2. Each member is ranked on their view of the config and store (their terms, library,
   ratings), their ranking saved under a run row of their own (``runs.profile``).
3. The union of the members' top papers is summarized once per (paper version, model,
   prompt) (:mod:`arxiv_digest.team.summaries`), within ``ai_summary.max_calls_per_run``.
4. Every run row is finished, then the outputs written (:mod:`arxiv_digest.team.outputs`):
   the config's own site and README (its own digest, or without terms of its own the union
   of the public members' picks), each member's site under ``{site_dir}/p/NAME/`` (a
   private member's only in the store, served with its token; worker processes write
   some of them: :mod:`arxiv_digest.team.sites`), their README when they set one, the
   team page; then each reader's channels get their digest only: a member's channels
   theirs, the config's own channels (the lab's shared ones) the config's digest, which
   holds no private member's pick. A member without a ``delivery`` section gets nothing
   sent.
5. A day left without its digest (the run failed, or arXiv's feed was empty on an
   announcement day) is told once to every reader's channels
   (:func:`arxiv_digest.delivery.notice.notify_missed`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx2

from arxiv_digest import pipeline
from arxiv_digest.clock import make_clock
from arxiv_digest.config import Settings
from arxiv_digest.errors import DigestError, PublishError
from arxiv_digest.models import (
    Digest,
    DigestEntry,
    RankedPaper,
    RunReport,
    SummaryStats,
)
from arxiv_digest.publish.history import apply_retention, restore_history
from arxiv_digest.rank import digest_order
from arxiv_digest.retry import Sleep
from arxiv_digest.sources import http
from arxiv_digest.sources.calendar import feed_day, quiet_day
from arxiv_digest.store import Store
from arxiv_digest.summarize.runner import Progress, build_summarizer
from arxiv_digest.team import outputs
from arxiv_digest.team.members import Member, members
from arxiv_digest.team.sites import SiteWorkers
from arxiv_digest.team.state import OWN, Ranked, TeamRun, members_of, readers
from arxiv_digest.team.summaries import Bill, SummarizerFactory, summarize_team

__all__ = ["OWN", "MemberReport", "TeamReport", "run_team", "run_team_configured"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MemberReport:
    name: str
    report: RunReport
    shared: int = 0  # of its new summaries, those another member wanted too
    readme: str | None = None  # the README written for it, if any


@dataclass(slots=True)
class TeamReport:
    """The run (ingestion, the config's own digest, the whole bill) and each member's."""

    run: RunReport
    members: list[MemberReport] = field(default_factory=list)

    def member(self, name: str) -> MemberReport:
        return next(m for m in self.members if m.name == name)


def _rank(run: TeamRun, member: Member, store: Store, run_id: int, report: RunReport) -> Digest:
    """One reader's ranking, saved under ``run_id``, as a single reader's run ranks, over
    the days' papers read once for every member."""
    return pipeline.rank_day(
        member.settings,
        store,
        run.client,
        run_id,
        report,
        now=run.started,
        sleep=run.sleep,
        candidates_of=run.candidates,
    )


def union_digest(ranked: Sequence[Ranked], now: dt.datetime) -> Digest:
    """The public members' picks together: each paper once, at its best score, its why
    naming who picked it."""
    best: dict[tuple[str, int], RankedPaper] = {}
    pickers: dict[tuple[str, int], list[str]] = {}
    window = None
    for item in ranked:
        if item.member.private:
            continue
        window = window or item.digest.window
        for entry in item.digest.entries:
            key = (entry.ranked.paper.arxiv_id, entry.ranked.paper.version)
            pickers.setdefault(key, []).append(item.member.name)
            if key not in best or entry.ranked.score > best[key].score:
                best[key] = entry.ranked
    papers = sorted(
        (replace(r, why=f"picked by {', '.join(pickers[k])}") for k, r in best.items()),
        key=digest_order,
    )
    return Digest(updated_at=now, entries=tuple(DigestEntry(r) for r in papers), window=window)


def run_team(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    *,
    only: str | None = None,
    summarizers: SummarizerFactory = build_summarizer,
    on_summary: Progress | None = None,
    clock: pipeline.Clock = pipeline.utc_now,
    sleep: Sleep | None = None,
) -> TeamReport:
    """The team's daily run (``only``: one member's digest, still one ingestion)."""
    with store.exclusive_run():
        store.mark_interrupted(clock())
        restore_history(settings, store)
        public = [m for m in readers(settings, only) if not m.private]
        try:
            with SiteWorkers.for_team(settings, public) as sites:
                run = TeamRun(
                    settings, store, client, clock(), clock, sleep, summarizers, on_summary,
                    only, sites,
                )  # fmt: skip
                team = _run_locked(run)
        except BaseException:
            pipeline._save_history(settings, store, failing=True)
            raise
        pipeline._save_history(settings, store, failing=False)
        apply_retention(settings, store)
        return team


def _run_locked(run: TeamRun) -> TeamReport:
    settings, store, clock = run.settings, run.store, run.clock
    team = TeamReport(RunReport())
    report = team.run
    run_id = store.start_run(run.started)
    ranked: list[Ranked] = []
    try:
        if pipeline._ingest(settings, store, run.client, report, run.sleep):
            ranked = _rank_everyone(run, run_id, report)
            _summarize(run, ranked, team)
    except BaseException as exc:
        stopped = isinstance(exc, KeyboardInterrupt | SystemExit)
        for item in [*ranked, None]:
            target = item.report if item is not None else report
            target.status = "interrupted" if stopped else "failed"
            target.message = str(exc) if isinstance(exc, DigestError) else repr(exc)
            pipeline._record_failure(
                item.store if item else store, item.run_id if item else run_id, target, clock()
            )
        if not stopped:
            outputs.notify_missed_day(run)
        raise
    if not ranked:
        quiet = quiet_day(feed_day(run.started))
        report.status = "empty"
        report.message = quiet.message if quiet else pipeline.NO_ANNOUNCEMENTS
        store.finish_run(run_id, report, clock(), None)
        if quiet is not None:  # every public front page says so; the digests stay as they are
            outputs.publish_quiet_day(run, run_id, report)
        # what an earlier run left undelivered
        reached = [(m, m.store(store), RunReport()) for m in readers(run.settings, run.only)]
        outputs.deliver(run, reached)
        report.deliveries = [o for m, _, r in reached for o in outputs.outcomes_of(m, r)]
        outputs.notify_missed_day(run)
        return team
    # A private member's site is served by ``serve`` with its token, never written. The
    # largest first: sites written side by side end together when the last are small.
    public = sorted(
        (item for item in ranked if not item.member.private), key=lambda i: -i.report.ranked
    )
    share = run.sites.start(store, [item.member for item in public])  # as runs are recorded
    readmes = outputs.record(settings, ranked, clock, only=run.only, recorded=share.ready)
    failures = outputs.publish(run, ranked, public, share, readmes)
    outputs.deliver(run, [(item.member, item.store, item.report) for item in ranked])
    for item in ranked:
        if item.member.name:
            team.member(item.member.name).report.deliveries = item.report.deliveries
    report.deliveries = [
        o for item in ranked for o in outputs.outcomes_of(item.member, item.report)
    ]
    if failures:
        report.status, report.message = "failed", "; ".join(failures)
        pipeline._record_failure(store, run_id, report, clock())
        outputs.notify_missed_day(run)
        raise PublishError(report.message)
    return team


def _rank_everyone(run: TeamRun, run_id: int, report: RunReport) -> list[Ranked]:
    settings, store = run.settings, run.store
    ranked = []
    for member in members_of(settings, run.only):
        view_store = member.store(store)
        member_report = RunReport()
        member_run = view_store.start_run(run.started)
        digest = _rank(run, member, view_store, member_run, member_report)
        ranked.append(Ranked(member, view_store, member_run, member_report, digest))
    own = Member(OWN, settings, readme=Path(settings.output.readme))
    if settings.has_terms:
        digest = _rank(run, own, store, run_id, report)
    else:  # no reader of its own: the config's digest is the team's picks together
        digest = union_digest(ranked, run.started)
        report.ranked = len(digest.entries)
        report.digest_date = digest.window[1] if digest.window else None
        store.save_ranking(run_id, [e.ranked for e in digest.entries])
    ranked.append(Ranked(own, own.store(store), run_id, report, digest))
    return ranked


def _summarize(run: TeamRun, ranked: list[Ranked], team: TeamReport) -> None:
    settings = run.settings
    # The union digest asks for nothing new: its papers are the members' (cached now).
    paying = [i for i in ranked if i.member.name or settings.has_terms]
    digests = {i.member.name: i.digest for i in paying}
    views = {i.member.name: i.member.settings for i in paying}
    done, bill = summarize_team(
        digests,
        views,
        run.store,
        run.client,
        max_calls=settings.ai_summary.max_calls_per_run,
        factory=run.summarizers,
        on_progress=run.on_summary,
    )
    _charge(ranked, done, bill, team)
    if not settings.has_terms:
        own = ranked[-1]
        found = {
            (e.ranked.paper.arxiv_id, e.ranked.paper.version): e.summary
            for digest in done.values()
            for e in digest.entries
            if e.summary is not None
        }
        own.digest = replace(
            own.digest,
            entries=tuple(
                DigestEntry(e.ranked, found.get((e.ranked.paper.arxiv_id, e.ranked.paper.version)))
                for e in own.digest.entries
            ),
        )


def _charge(ranked: list[Ranked], done: dict[str, Digest], bill: Bill, team: TeamReport) -> None:
    team.run.summaries = bill.total
    for item in ranked:
        name = item.member.name
        if name in done:
            item.digest = done[name]
        if name:
            item.report.summaries = bill.shares.get(name, SummaryStats())
            team.members.append(MemberReport(name, item.report, bill.shared.get(name, 0)))


def run_team_configured(
    settings: Settings,
    *,
    only: str | None = None,
    on_summary: Progress | None = None,
    transport: httpx2.BaseTransport | None = None,
) -> TeamReport:
    """A whole team run with the configured store and HTTP client."""
    for member in (Member(OWN, settings), *members(settings)):
        pipeline.check_relevance(member.settings)  # a config error before any request
    with (
        http.make_client(settings.http, transport=transport) as client,
        Store(settings.store.url) as store,
    ):
        return run_team(
            settings,
            store,
            client,
            only=only,
            on_summary=on_summary,
            clock=make_clock(settings.schedule),
        )
