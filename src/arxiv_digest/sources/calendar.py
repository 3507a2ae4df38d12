"""arXiv's announcement calendar: which days have a new feed, and when it is due.

arXiv announces at 20:00 US Eastern, Sunday to Thursday, and the feed made then is dated
the next day: a *feed day* is Monday to Friday, and the feed of day D appears at 20:00
Eastern on D - 1. No feed is made for Saturdays and Sundays, nor around arXiv's holidays,
listed in ``data/arxiv-holidays.toml`` (with its source and how to update it).

The calendar only explains: a feed with papers makes a digest whatever it says. It tells a
quiet day (arXiv did not announce: say so, and wait) from a day whose digest is missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from arxiv_digest.config import ScheduleSettings

__all__ = [
    "Holiday",
    "Quiet",
    "announced_at",
    "day_label",
    "feed_day",
    "holidays",
    "late_after",
    "moment_label",
    "next_run",
    "parse_holidays",
    "quiet_day",
    "scheduled_at",
]

EASTERN = ZoneInfo("America/New_York")
ANNOUNCED_AT = dt.time(20, 0)  # US Eastern, the evening before the feed's day
HOLIDAYS_FILE = "data/arxiv-holidays.toml"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not the locale's


@dataclass(frozen=True, slots=True)
class Holiday:
    date: dt.date
    name: str  # ours: arXiv lists dates only
    confirmed: bool  # listed on arXiv's page (False: our estimate of a year not yet out)


@dataclass(frozen=True, slots=True)
class Quiet:
    """Why arXiv made no feed for a day."""

    day: dt.date  # the day arXiv did not announce: the holiday itself when one explains it
    reason: str  # "weekend" | "holiday"
    holiday: Holiday | None = None

    @property
    def message(self) -> str:
        return f"arXiv did not announce on {day_label(self.day)} ({self.reason})"


def parse_holidays(text: str) -> dict[dt.date, Holiday]:
    """The ``[[holiday]]`` entries of a holidays file, by date."""
    entries: list[dict[str, Any]] = tomllib.loads(text).get("holiday", [])
    table: dict[dt.date, Holiday] = {}
    for entry in entries:
        day = entry["date"]
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise ValueError(f"holiday date {day!r} is not a date")
        table[day] = Holiday(day, str(entry.get("name", "holiday")), bool(entry["confirmed"]))
    return table


@functools.cache
def holidays() -> dict[dt.date, Holiday]:
    """arXiv's holidays as shipped with this version (``data/arxiv-holidays.toml``)."""
    text = resources.files("arxiv_digest").joinpath(HOLIDAYS_FILE).read_text("utf-8")
    return parse_holidays(text)


def feed_day(now: dt.datetime) -> dt.date:
    """The day of arXiv's newest feed at ``now``: from 20:00 Eastern, tomorrow's."""
    local = now.astimezone(EASTERN)
    return local.date() + dt.timedelta(days=1 if local.time() >= ANNOUNCED_AT else 0)


def quiet_day(day: dt.date, table: dict[dt.date, Holiday] | None = None) -> Quiet | None:
    """Why arXiv makes no feed for ``day``, or None on an announcement day.

    arXiv's list does not say which announcement a holiday removes, the listed day's feed
    or the one its evening (20:00 Eastern) would make, so both days count as quiet.
    """
    if day.weekday() >= 5:
        return Quiet(day, "weekend")
    table = holidays() if table is None else table
    for listed in (day, day - dt.timedelta(days=1)):
        if listed in table:
            return Quiet(listed, "holiday", table[listed])
    return None


def announced_at(day: dt.date) -> dt.datetime:
    """When arXiv makes the feed of ``day``: 20:00 Eastern the evening before (UTC)."""
    evening = dt.datetime.combine(day - dt.timedelta(days=1), ANNOUNCED_AT, tzinfo=EASTERN)
    return evening.astimezone(dt.UTC)


def _daily_time(schedule: ScheduleSettings, after: dt.datetime, *, strictly: bool) -> dt.datetime:
    """The first ``schedule.time`` (in ``schedule.timezone``) at or after ``after`` (UTC)."""
    zone = ZoneInfo(schedule.timezone)
    hour, minute = (int(part) for part in schedule.time.split(":"))
    start = after.astimezone(zone)
    for offset in range(3):  # today, or tomorrow; one more for a DST gap
        day = start.date() + dt.timedelta(days=offset)
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        if moment > start or (moment == start and not strictly):
            return moment.astimezone(dt.UTC)
    raise AssertionError("a daily time always comes within two days")  # pragma: no cover


def scheduled_at(day: dt.date, schedule: ScheduleSettings) -> dt.datetime:
    """When the scheduled run that should make ``day``'s digest starts: the first
    ``schedule.time`` once arXiv has announced the feed of ``day``."""
    return _daily_time(schedule, announced_at(day), strictly=False)


def late_after(day: dt.date, schedule: ScheduleSettings) -> dt.datetime:
    """From when ``day``'s digest is missing: its scheduled run plus the grace period."""
    return scheduled_at(day, schedule) + dt.timedelta(minutes=schedule.grace_minutes)


def next_run(now: dt.datetime, schedule: ScheduleSettings) -> dt.datetime:
    """The next scheduled run after ``now`` (UTC)."""
    return _daily_time(schedule, now, strictly=True)


def day_label(day: dt.date) -> str:
    """``Thu 2026-11-26``."""
    return f"{WEEKDAYS[day.weekday()]} {day.isoformat()}"


def moment_label(moment: dt.datetime, zone: str) -> str:
    """``Fri 2026-12-04 12:00 UTC``, in the time zone ``zone`` (the schedule's)."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{day_label(local.date())} {local:%H:%M} {zone}"
