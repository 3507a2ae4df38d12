"""One team run's state: what every step works with, and whose digests it makes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import httpx2

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.models import Digest, Paper, RunReport
from arxiv_digest.rank import select_candidates
from arxiv_digest.retry import Sleep
from arxiv_digest.store import Store
from arxiv_digest.summarize.runner import Progress
from arxiv_digest.team.members import Member, members
from arxiv_digest.team.sites import SiteWorkers
from arxiv_digest.team.summaries import SummarizerFactory

__all__ = ["OWN", "Ranked", "TeamRun", "members_of", "readers"]

OWN = ""  # the config's own reader


@dataclass(frozen=True, slots=True)
class TeamRun:
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
class Ranked:
    """A reader's ranked digest, with their view of the store and their run's row."""

    member: Member
    store: Store
    run_id: int
    report: RunReport
    digest: Digest


def members_of(settings: Settings, only: str | None) -> tuple[Member, ...]:
    team = members(settings)
    if only is None:
        return team
    return tuple(m for m in team if m.name == only)


def readers(settings: Settings, only: str | None) -> list[Member]:
    """Whose channels this run serves: the members it makes (one with ``run --profile``),
    then the config's own reader, unless the run makes one member's digest only."""
    own = [] if only is not None else [Member(OWN, settings)]
    return [*members_of(settings, only), *own]
