"""What a run and the service take as "now": the system clock, or ``ARXIV_DIGEST_NOW``.

``ARXIV_DIGEST_NOW`` fixes the time, to rehearse a day (a holiday, an outage) against a
local arXiv, or to replay one: an ISO date-time (``2026-12-25T12:30:00Z``; without an
offset it is in ``schedule.timezone``), or a date alone (``2026-12-25``), which stands for
that day's ``schedule.time``, when the scheduled run would start. Unset or empty: the
system clock.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from arxiv_digest.config import ScheduleSettings
from arxiv_digest.errors import ConfigError

__all__ = ["NOW_ENV", "Clock", "fixed_now", "make_clock", "system_now"]

NOW_ENV = "ARXIV_DIGEST_NOW"
Clock = Callable[[], dt.datetime]


def system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fixed_now(value: str, schedule: ScheduleSettings) -> dt.datetime:
    """The moment ``value`` names (UTC); ConfigError when it names none."""
    zone = ZoneInfo(schedule.timezone)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        pass
    else:
        hour, minute = (int(part) for part in schedule.time.split(":"))
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{NOW_ENV}={value!r} is neither a date (2026-12-25) nor an ISO date-time "
            "(2026-12-25T12:30:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def make_clock(schedule: ScheduleSettings, environ: Mapping[str, str] = os.environ) -> Clock:
    """The system clock, or the fixed time of ``ARXIV_DIGEST_NOW`` (read once, here)."""
    value = environ.get(NOW_ENV, "").strip()
    if not value:
        return system_now
    fixed = fixed_now(value, schedule)
    return lambda: fixed
