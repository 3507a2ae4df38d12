"""Is each arXiv announcement day's digest where it should be?

What ``/health``, the site and the missed-day notices say about the current day, from the
store and arXiv's calendar (:mod:`arxiv_digest.sources.calendar`):

* a **quiet** day: arXiv did not announce (a weekend, a holiday); nothing is wrong;
* a **missing** digest: an announcement day without its digest, because a run for it
  failed (missing at once) or because none made it by the scheduled time plus
  ``schedule.grace_minutes`` (the runner never started, or arXiv's feed was empty).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from arxiv_digest.config import Settings
from arxiv_digest.sources.calendar import (
    Quiet,
    announced_at,
    day_label,
    feed_day,
    late_after,
    moment_label,
    quiet_day,
)
from arxiv_digest.store import Store
from arxiv_digest.store.rows import utc

__all__ = [
    "DayState",
    "Missing",
    "arxiv_day",
    "day_state",
    "degraded_reason",
    "has_digest",
    "missing_day",
    "site_notice",
]

RUNS_LOOKED_AT = 20
FAILED = ("failed", "interrupted")
DAYS_LOOKED_BACK = 14  # the newest announcement day is never further back (year-end break)


@dataclass(frozen=True, slots=True)
class Missing:
    """An announcement day without its digest, and why, as far as the store knows."""

    day: dt.date
    why: str

    @property
    def message(self) -> str:
        return f"no digest for {day_label(self.day)}: {self.why}"


@dataclass(frozen=True, slots=True)
class DayState:
    day: dt.date  # the day of arXiv's newest feed
    quiet: Quiet | None  # why arXiv made no feed that day
    missing: Missing | None


def day_state(settings: Settings, store: Store, now: dt.datetime) -> DayState:
    day = feed_day(now)
    return DayState(day, quiet_day(day), missing_day(settings, store, now))


def has_digest(store: Store, day: dt.date) -> bool:
    """A digest of ``day`` (or a later one) was published."""
    return bool(store.published_runs(since=day))


def missing_day(settings: Settings, store: Store, now: dt.datetime) -> Missing | None:
    """The announcement day whose digest is missing at ``now``, if any."""
    runs = [r for r in store.runs(RUNS_LOOKED_AT) if r["status"] != "running"]
    zone = settings.schedule.timezone
    return _failed_day(store, runs, zone) or _late_day(settings, store, runs, now)


def _failed_day(store: Store, runs: list[dict[str, Any]], zone: str) -> Missing | None:
    """The day the newest finished run was making, if it failed and nothing has made it."""
    if not runs or runs[0]["status"] not in FAILED:
        return None
    day = feed_day(utc(runs[0]["started_at"]))
    if quiet_day(day) is not None or has_digest(store, day):
        return None
    return Missing(day, _why(runs[:1], runs, zone))


def _late_day(
    settings: Settings, store: Store, runs: list[dict[str, Any]], now: dt.datetime
) -> Missing | None:
    """The newest announcement day past its grace period, if no digest was made for it
    although this store was in use by then."""
    schedule = settings.schedule
    day = feed_day(now)
    for _ in range(DAYS_LOOKED_BACK):
        if quiet_day(day) is None and late_after(day, schedule) <= now:
            break
        day -= dt.timedelta(days=1)
    else:
        return None
    first = store.first_run_at()
    if first is None or first > late_after(day, schedule) or has_digest(store, day):
        return None
    since = [r for r in runs if utc(r["started_at"]) >= announced_at(day)]
    return Missing(day, _why(since, runs, schedule.timezone))


def _why(since: list[dict[str, Any]], runs: list[dict[str, Any]], zone: str) -> str:
    """Why the day has no digest: what the newest run since its announcement found."""
    if not since:
        if not runs:
            return "no run yet"
        return f"no run since {moment_label(utc(runs[0]['started_at']), zone)}"
    run = since[0]
    if run["status"] == "failed":
        return str(run["message"]) or "the run failed"
    if run["status"] == "interrupted":
        return f"the run of {moment_label(utc(run['started_at']), zone)} was interrupted"
    if run["status"] == "empty":
        return "arXiv's feed was empty, though arXiv's published schedule has an announcement"
    # a run that made a digest of another day, or (its message) one member's digest only
    return str(run["message"]) or f"arXiv's feed still held the {run['digest_date']} announcements"


def site_notice(store: Store) -> str | None:
    """What the site's front page says when arXiv did not announce since its digest."""
    started = store.quiet_since_published()
    if started is None:
        return None
    quiet = quiet_day(feed_day(started))
    return quiet.message if quiet else None


def arxiv_day(state: DayState) -> dict[str, Any]:
    """``/health``'s view of arXiv's current day."""
    return {
        "day": state.day.isoformat(),
        "announced": state.quiet is None,
        "note": state.quiet.message if state.quiet else None,
    }


def degraded_reason(state: DayState, last_run: dict[str, Any] | None) -> str:
    """Why ``/health`` is degraded: the missing digest, else how the last run ended."""
    if state.missing is not None:
        return state.missing.message
    if last_run is None:
        return f"none of the last {RUNS_LOOKED_AT} runs finished"
    message = str(last_run["message"] or "")
    return f"the last run {last_run['status']}" + (f": {message}" if message else "")
