"""The daily run of a team config: one ingestion, a ranking per member, one bill.

1. The feed is fetched once, for the config's categories (every profile reads a subset),
   and stored once: the run's row in ``runs`` is the config's own (profile "").
2. Each member is ranked on their view of the config and store (their terms, library,
   ratings), their ranking saved under a run row of their own (``runs.profile``).
3. The union of the members' top papers is summarized once per (paper version, model,
   prompt) (:mod:`arxiv_digest.team.summaries`), within ``ai_summary.max_calls_per_run``.
4. Every run row is finished, then the outputs written: the config's own site and README
   (its own digest, or without terms of its own the union of the public members' picks),
   each member's site under ``{site_dir}/p/NAME/`` (a private member's only in the store,
   served with its token), their README when they set one, the team page; then each
   reader's channels get their digest only: a member's channels theirs, the config's own
   channels (the lab's shared ones) the config's digest, which holds no private member's
   pick. A member without a ``delivery`` section gets nothing sent.
5. A day left without its digest (the run failed, or arXiv's feed was empty on an
   announcement day) is told once to every reader's channels
   (:func:`arxiv_digest.delivery.notice.notify_missed`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx2

from arxiv_digest import pipeline
from arxiv_digest.clock import make_clock
from arxiv_digest.config import Settings
from arxiv_digest.delivery.notice import has_channels, notify_missed
from arxiv_digest.errors import DigestError, PublishError
from arxiv_digest.models import (
    DeliveryOutcome,
    Digest,
    DigestEntry,
    Paper,
    RankedPaper,
    RunReport,
    SummaryStats,
)
from arxiv_digest.publish.files import Switch
from arxiv_digest.publish.history import apply_retention, restore_history
from arxiv_digest.publish.readme import content_fingerprint, render_readme
from arxiv_digest.rank import digest_order, select_candidates
from arxiv_digest.retry import Sleep
from arxiv_digest.sources import http
from arxiv_digest.sources.calendar import feed_day, quiet_day
from arxiv_digest.store import Store
from arxiv_digest.summarize.runner import Progress, build_summarizer
from arxiv_digest.team.members import Member, members
from arxiv_digest.team.page import render_team_page
from arxiv_digest.team.sites import Share, SiteWorkers
from arxiv_digest.team.summaries import Bill, SummarizerFactory, summarize_team

__all__ = ["MemberReport", "TeamReport", "run_team", "run_team_configured"]

log = logging.getLogger(__name__)
OWN = ""  # the config's own reader


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


@dataclass(frozen=True, slots=True)
class _Run:
    """What every step of one team run works with."""

    settings: Settings
    store: Store
    client: httpx2.Client
    started: dt.datetime
    clock: pipeline.Clock
    sleep: Sleep | None
    summarizers: SummarizerFactory
    on_summary: Progress | None
    only: str | None
    sites: SiteWorkers  # who renders the members' sites with the run
    days: dict[tuple[dt.date, dt.date], list[Paper]] = field(default_factory=dict)
    selected: dict[tuple[object, ...], list[Paper]] = field(default_factory=dict)

    def announced(self, first: dt.date, last: dt.date) -> list[Paper]:
        """The store's papers of these days, read once for every member."""
        if (first, last) not in self.days:
            self.days[(first, last)] = self.store.announced_between(first, last)
        return self.days[(first, last)]

    def candidates(self, first: dt.date, last: dt.date, view: Settings) -> list[Paper]:
        """:func:`select_candidates` of these days, once for members who select alike."""
        key = (
            first,
            last,
            frozenset(view.categories),
            frozenset(view.announce_types),
            view.enable_deduplication and frozenset(view.deduplication_methods),
        )
        if key not in self.selected:
            self.selected[key] = select_candidates(self.announced(first, last), view)
        return self.selected[key]


@dataclass(slots=True)
class _Ranked:
    member: Member
    store: Store
    run_id: int
    report: RunReport
    digest: Digest


def _rank(run: _Run, member: Member, store: Store, run_id: int, report: RunReport) -> Digest:
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


def union_digest(ranked: Sequence[_Ranked], now: dt.datetime) -> Digest:
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


def _members_of(settings: Settings, only: str | None) -> tuple[Member, ...]:
    team = members(settings)
    if only is None:
        return team
    return tuple(m for m in team if m.name == only)


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
        public = [m for m in _readers(settings, only) if not m.private]
        try:
            with SiteWorkers.for_team(settings, public) as sites:
                run = _Run(
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


def _run_locked(run: _Run) -> TeamReport:
    settings, store, clock = run.settings, run.store, run.clock
    team = TeamReport(RunReport())
    report = team.run
    run_id = store.start_run(run.started)
    ranked: list[_Ranked] = []
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
            _notify_missed(run)
        raise
    if not ranked:
        quiet = quiet_day(feed_day(run.started))
        report.status = "empty"
        report.message = quiet.message if quiet else pipeline.NO_ANNOUNCEMENTS
        store.finish_run(run_id, report, clock(), None)
        if quiet is not None:  # every public front page says so; the digests stay as they are
            _publish_quiet_day(run, run_id, report)
        # what an earlier run left undelivered
        readers = [(m, m.store(store), RunReport()) for m in _readers(run.settings, run.only)]
        _deliver(run, readers)
        report.deliveries = [o for m, _, r in readers for o in _outcomes_of(m, r)]
        _notify_missed(run)
        return team
    # A private member's site is served by ``serve`` with its token, never written. The
    # largest first: sites written side by side end together when the last are small.
    public = sorted(
        (item for item in ranked if not item.member.private), key=lambda i: -i.report.ranked
    )
    share = run.sites.start(store, [item.member for item in public])  # as runs are recorded
    readmes = _finish(settings, ranked, team, clock, only=run.only, recorded=share.ready)
    failures = _publish(run, ranked, public, share, readmes)
    _deliver(run, [(item.member, item.store, item.report) for item in ranked])
    for item in ranked:
        if item.member.name:
            team.member(item.member.name).report.deliveries = item.report.deliveries
    report.deliveries = [o for item in ranked for o in _outcomes_of(item.member, item.report)]
    if failures:
        report.status, report.message = "failed", "; ".join(failures)
        pipeline._record_failure(store, run_id, report, clock())
        _notify_missed(run)
        raise PublishError(report.message)
    return team


def _readers(settings: Settings, only: str | None) -> list[Member]:
    """Whose channels this run serves: the members it makes (one with ``run --profile``),
    then the config's own reader, unless the run makes one member's digest only."""
    own = [] if only is not None else [Member(OWN, settings)]
    return [*_members_of(settings, only), *own]


def _publish_quiet_day(run: _Run, run_id: int, report: RunReport) -> None:
    """Rewrite the public readers' sites, whose front pages now say arXiv did not announce
    (as a single reader's does); a site that cannot be written fails the run."""
    readers = [m for m in _readers(run.settings, run.only) if not m.private]
    outcomes = run.sites.publish(run.store, readers)
    failures = [f"{m.label}: {e}" for m, e in zip(readers, outcomes, strict=True) if e is not None]
    if failures:
        report.status, report.message = "failed", "; ".join(failures)
        pipeline._record_failure(run.store, run_id, report, run.clock())
        raise PublishError(report.message)


def _outcomes_of(member: Member, report: RunReport) -> list[DeliveryOutcome]:
    """The run report's lines for a reader's channels: a member's named "NAME/label", as
    the store records them (alice's "email" is not the lab's)."""
    if not member.name:
        return list(report.deliveries)
    return [replace(o, channel=f"{member.name}/{o.channel}") for o in report.deliveries]


def _notify_missed(run: _Run) -> None:
    """A day left without its digest: one short notice to the channels of every reader who
    has none (once a day each). Best effort: never in the way of the run's own outcome."""
    if not has_channels(run.settings):
        return
    try:
        notify_missed(run.settings, run.store, run.client, now=run.clock(), sleep=run.sleep)
    except Exception as exc:  # the run's own error, if any, is the one raised
        log.error("notice of a missing digest: %s", exc)


def _rank_everyone(run: _Run, run_id: int, report: RunReport) -> list[_Ranked]:
    settings, store = run.settings, run.store
    ranked = []
    for member in _members_of(settings, run.only):
        view_store = member.store(store)
        member_report = RunReport()
        member_run = view_store.start_run(run.started)
        digest = _rank(run, member, view_store, member_run, member_report)
        ranked.append(_Ranked(member, view_store, member_run, member_report, digest))
    own = Member(OWN, settings, readme=Path(settings.output.readme))
    if settings.has_terms:
        digest = _rank(run, own, store, run_id, report)
    else:  # no reader of its own: the config's digest is the team's picks together
        digest = union_digest(ranked, run.started)
        report.ranked = len(digest.entries)
        report.digest_date = digest.window[1] if digest.window else None
        store.save_ranking(run_id, [e.ranked for e in digest.entries])
    ranked.append(_Ranked(own, own.store(store), run_id, report, digest))
    return ranked


def _summarize(run: _Run, ranked: list[_Ranked], team: TeamReport) -> None:
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


def _charge(ranked: list[_Ranked], done: dict[str, Digest], bill: Bill, team: TeamReport) -> None:
    team.run.summaries = bill.total
    for item in ranked:
        name = item.member.name
        if name in done:
            item.digest = done[name]
        if name:
            item.report.summaries = bill.shares.get(name, SummaryStats())
            team.members.append(MemberReport(name, item.report, bill.shared.get(name, 0)))


def _finish(
    settings: Settings,
    ranked: list[_Ranked],
    team: TeamReport,
    clock: pipeline.Clock,
    *,
    only: str | None = None,
    recorded: Callable[[Member], None] = lambda member: None,
) -> dict[str, str]:
    """Record every run as published (members first, the run itself last); returns each
    README to write, by member. With ``only`` (one member's digest) and no terms of the
    config's own, the config's digest (the members' picks together) would be that one
    member's: it is recorded, not published, and the lab's digest stays as it was."""
    readmes: dict[str, str] = {}
    for item in ranked:
        view = item.member.settings
        if only is not None and not item.member.name and not settings.has_terms:
            item.report.status = "ok"
            item.report.message = f"only {only}'s digest was made (run --profile)"
            item.store.finish_run(item.run_id, item.report, clock(), None)
            continue
        fingerprint = content_fingerprint(item.digest, view)
        first_seen = item.store.first_published(fingerprint)
        if first_seen is not None:
            item.digest = replace(item.digest, updated_at=first_seen)
        if item.member.readme is not None:
            readmes[item.member.name] = render_readme(item.digest, view)
        item.report.status = "ok"
        item.store.finish_run(item.run_id, item.report, clock(), fingerprint)
        recorded(item.member)
    return readmes


def _publish(
    run: _Run,
    ranked: list[_Ranked],
    public: list[_Ranked],
    share: Share,
    readmes: dict[str, str],
) -> list[str]:
    """Every public site (``share``: being written), the READMEs and the team page;
    failures as lines (the run is recorded)."""
    settings, store = run.settings, run.store
    page = render_team_page(settings, store)  # while the workers write sites
    outcomes = share.finish()
    failures = [
        f"{item.member.label}: {exc}"
        for item, exc in zip(public, outcomes, strict=True)
        if exc is not None
    ]
    try:
        with Switch() as switch:
            site = Path(settings.output.site_dir)
            switch.stage(site / "team.html", page)
            for item in ranked:
                text = readmes.get(item.member.name)
                if text is not None and item.member.readme is not None:
                    written = switch.stage(Path(item.member.readme), text)
                    item.report.readme_written = written
                    item.report.outputs.append(str(item.member.readme))
            switch.commit()
    except PublishError as exc:
        failures.append(str(exc))
    for item in ranked:
        item.report.outputs.append(str(item.member.settings.output.site_dir))
    return failures


def _deliver(run: _Run, readers: list[tuple[Member, Store, RunReport]]) -> None:
    """Each reader's channels get that reader's digests (what is due of them); a run of one
    member's digest (``run --profile``) sends to that member's channels only."""
    for member, store, report in readers:
        if run.only is not None and member.name != run.only:
            continue
        view = member.settings
        pipeline._deliver(view, store, run.client, report, clock=run.clock, sleep=run.sleep)


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
