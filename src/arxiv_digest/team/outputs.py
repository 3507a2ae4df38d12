"""What a team run leaves: every run recorded, the sites, READMEs and team page written,
each reader's channels sent their digest, and a missed day told."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.delivery.notice import has_channels, notify_missed
from arxiv_digest.errors import PublishError
from arxiv_digest.models import DeliveryOutcome, RunReport
from arxiv_digest.publish.files import Switch
from arxiv_digest.publish.readme import content_fingerprint, render_readme
from arxiv_digest.store import Store
from arxiv_digest.team.members import Member
from arxiv_digest.team.page import render_team_page
from arxiv_digest.team.sites import Share
from arxiv_digest.team.state import Ranked, TeamRun, readers

__all__ = [
    "deliver",
    "notify_missed_day",
    "outcomes_of",
    "publish",
    "publish_quiet_day",
    "record",
]

log = logging.getLogger(__name__)


def record(
    settings: Settings,
    ranked: list[Ranked],
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


def publish(
    run: TeamRun,
    ranked: list[Ranked],
    public: list[Ranked],
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


def publish_quiet_day(run: TeamRun, run_id: int, report: RunReport) -> None:
    """Rewrite the public readers' sites, whose front pages now say arXiv did not announce
    (as a single reader's does); a site that cannot be written fails the run."""
    public = [m for m in readers(run.settings, run.only) if not m.private]
    outcomes = run.sites.publish(run.store, public)
    failures = [f"{m.label}: {e}" for m, e in zip(public, outcomes, strict=True) if e is not None]
    if failures:
        report.status, report.message = "failed", "; ".join(failures)
        pipeline._record_failure(run.store, run_id, report, run.clock())
        raise PublishError(report.message)


def deliver(run: TeamRun, readers: list[tuple[Member, Store, RunReport]]) -> None:
    """Each reader's channels get that reader's digests (what is due of them); a run of one
    member's digest (``run --profile``) sends to that member's channels only."""
    for member, store, report in readers:
        if run.only is not None and member.name != run.only:
            continue
        view = member.settings
        pipeline._deliver(view, store, run.client, report, clock=run.clock, sleep=run.sleep)


def outcomes_of(member: Member, report: RunReport) -> list[DeliveryOutcome]:
    """The run report's lines for a reader's channels: a member's named "NAME/label", as
    the store records them (alice's "email" is not the lab's)."""
    if not member.name:
        return list(report.deliveries)
    return [replace(o, channel=f"{member.name}/{o.channel}") for o in report.deliveries]


def notify_missed_day(run: TeamRun) -> None:
    """A day left without its digest: one short notice to the channels of every reader who
    has none (once a day each). Best effort: never in the way of the run's own outcome."""
    if not has_channels(run.settings):
        return
    try:
        notify_missed(run.settings, run.store, run.client, now=run.clock(), sleep=run.sleep)
    except Exception as exc:  # the run's own error, if any, is the one raised
        log.error("notice of a missing digest: %s", exc)
