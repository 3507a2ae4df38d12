"""``serve --schedule``: the daily run at the configured time and time zone (APScheduler)."""

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


def start_scheduler(schedule: ScheduleSettings, job: Callable[[], None]) -> BackgroundScheduler:
    """Run ``job`` daily; never two at once; a run missed by less than an hour still runs."""
    scheduler = BackgroundScheduler(timezone=ZoneInfo(schedule.timezone))

    def guarded() -> None:
        try:
            job()
        except Exception:
            log.exception("scheduled daily run failed")

    scheduler.add_job(
        guarded,
        daily_trigger(schedule),
        id="daily-digest",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.start()
    log.info("daily run scheduled at %s %s", schedule.time, schedule.timezone)
    return scheduler
