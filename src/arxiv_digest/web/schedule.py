"""``serve``'s clock work (APScheduler): with ``--schedule``, the daily run at the configured
time and time zone; with delivery channels, a daily look at ``schedule.time`` plus
``schedule.grace_minutes`` for a digest that no run made (the runner never started)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from arxiv_digest.config import ScheduleSettings

log = logging.getLogger(__name__)


def daily_trigger(schedule: ScheduleSettings) -> CronTrigger:
    hour, minute = (int(part) for part in schedule.time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(schedule.timezone))


def watch_trigger(schedule: ScheduleSettings) -> CronTrigger:
    """Daily at ``schedule.time`` plus ``schedule.grace_minutes``, in the schedule's zone."""
    hour, minute = (int(part) for part in schedule.time.split(":"))
    total = (hour * 60 + minute + schedule.grace_minutes) % (24 * 60)
    return CronTrigger(hour=total // 60, minute=total % 60, timezone=ZoneInfo(schedule.timezone))


def _guarded(job: Callable[[], object], what: str) -> Callable[[], None]:
    def guarded() -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed", what)

    return guarded


def start_scheduler(
    schedule: ScheduleSettings,
    job: Callable[[], None] | None,
    *,
    watch: Callable[[], object] | None = None,
) -> BackgroundScheduler:
    """Run ``job`` daily (never two at once; a run missed by less than an hour still runs)
    and ``watch`` daily after the grace period; either may be None."""
    scheduler = BackgroundScheduler(timezone=ZoneInfo(schedule.timezone))
    if job is not None:
        scheduler.add_job(
            _guarded(job, "scheduled daily run"),
            daily_trigger(schedule),
            id="daily-digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
        log.info("daily run scheduled at %s %s", schedule.time, schedule.timezone)
    if watch is not None:
        scheduler.add_job(
            _guarded(watch, "the look for a missing digest"),
            watch_trigger(schedule),
            id="missed-digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
    scheduler.start()
    return scheduler
