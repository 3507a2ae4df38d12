"""arXiv's calendar and what it tells: quiet days, when a digest is due, which day is missing.

The holiday data is checked against itself (every listed weekday is its date's); the rest
runs on fixed clocks and a real SQLite store."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from arxiv_digest.clock import NOW_ENV, fixed_now, make_clock, system_now
from arxiv_digest.config import ScheduleSettings, Settings, parse_settings
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import RunReport
from arxiv_digest.sources.calendar import (
    HOLIDAYS_FILE,
    WEEKDAYS,
    feed_day,
    holidays,
    late_after,
    next_run,
    parse_holidays,
    quiet_day,
    scheduled_at,
)
from arxiv_digest.store import Store
from arxiv_digest.watch import arxiv_day, day_state, degraded_reason, missing_day, site_notice
from tests.conftest import base_config

UTC = dt.UTC
NOON = ScheduleSettings(time="12:00", timezone="UTC")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


# -- the holiday data --------------------------------------------------------------------------


def holiday_file() -> dict[str, Any]:
    return tomllib.loads(resources.files("arxiv_digest").joinpath(HOLIDAYS_FILE).read_text())


def test_every_listed_weekday_is_its_dates_and_the_file_names_its_source() -> None:
    data = holiday_file()
    assert data["source"] == "https://info.arxiv.org/help/availability.html"
    assert isinstance(data["checked"], dt.date)
    for entry in data["holiday"]:
        weekday = entry["listed"].split()[0][:3]
        assert weekday == WEEKDAYS[entry["date"].weekday()], entry


def test_the_data_covers_2025_to_2027_and_marks_what_arxiv_has_not_published() -> None:
    table = holidays()
    years = {day.year for day in table}
    assert years == {2025, 2026, 2027}
    assert all(h.confirmed for d, h in table.items() if d.year in (2025, 2026))
    assert not any(h.confirmed for d, h in table.items() if d.year == 2027)
    assert {dt.date(2026, 11, 26), dt.date(2026, 12, 25), dt.date(2026, 12, 31)} <= set(table)


def test_a_holiday_entry_must_be_a_date() -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_holidays('[[holiday]]\ndate = "2026-12-25"\nconfirmed = true\n')


# -- quiet days --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2026-12-25", "arXiv did not announce on Fri 2026-12-25 (holiday)"),
        ("2026-12-26", "arXiv did not announce on Sat 2026-12-26 (weekend)"),
        ("2026-11-26", "arXiv did not announce on Thu 2026-11-26 (holiday)"),
        # the feed the Thanksgiving evening would have made: the holiday explains it
        ("2026-11-27", "arXiv did not announce on Thu 2026-11-26 (holiday)"),
        ("2025-07-07", "arXiv did not announce on Sun 2025-07-06 (holiday)"),
    ],
)
def test_quiet_days_say_why(day: str, message: str) -> None:
    quiet = quiet_day(dt.date.fromisoformat(day))
    assert quiet is not None and quiet.message == message


@pytest.mark.parametrize("day", ["2026-12-03", "2026-12-28", "2026-11-25", "2026-04-27"])
def test_announcement_days_are_not_quiet(day: str) -> None:
    assert quiet_day(dt.date.fromisoformat(day)) is None


@pytest.mark.parametrize(
    ("now", "day"),
    [
        ("2026-12-03T12:00:00+00:00", "2026-12-03"),
        ("2026-12-02T19:59:00-05:00", "2026-12-02"),  # before arXiv's 20:00 Eastern
        ("2026-12-02T20:00:00-05:00", "2026-12-03"),  # the Thursday feed is out
        ("2026-07-01T23:59:00+00:00", "2026-07-01"),  # 19:59 EDT
        ("2026-07-02T00:00:00+00:00", "2026-07-02"),  # 20:00 EDT
    ],
)
def test_the_feed_day_turns_at_20_00_eastern(now: str, day: str) -> None:
    assert feed_day(at(now)) == dt.date.fromisoformat(day)


# -- when a digest is due ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "zone", "expected"),
    [
        ("12:00", "UTC", "2026-12-03T12:00:00+00:00"),
        ("09:00", "Asia/Shanghai", "2026-12-03T01:00:00+00:00"),  # = 20:00 EST: at once
        ("00:30", "UTC", "2026-12-04T00:30:00+00:00"),  # before arXiv announced: next day
    ],
)
def test_the_scheduled_run_of_a_day_is_the_first_after_arxiv_announced_it(
    time: str, zone: str, expected: str
) -> None:
    schedule = ScheduleSettings(time=time, timezone=zone)
    assert scheduled_at(dt.date(2026, 12, 3), schedule) == at(expected)


def test_late_after_adds_the_grace_period_and_next_run_is_strictly_later() -> None:
    schedule = ScheduleSettings(time="12:00", timezone="UTC", grace_minutes=90)
    assert late_after(dt.date(2026, 12, 3), schedule) == at("2026-12-03T13:30:00+00:00")
    assert next_run(at("2026-12-03T12:00:00+00:00"), NOON) == at("2026-12-04T12:00:00+00:00")
    assert next_run(at("2026-12-03T11:00:00+00:00"), NOON) == at("2026-12-03T12:00:00+00:00")


# -- ARXIV_DIGEST_NOW ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-25", "2026-12-25T01:00:00+00:00"),  # schedule.time, 09:00 in Shanghai
        ("2026-12-03T15:30", "2026-12-03T07:30:00+00:00"),  # no offset: the schedule's zone
        ("2026-12-03T15:30:00Z", "2026-12-03T15:30:00+00:00"),
    ],
)
def test_a_fixed_now_is_read_in_the_schedule_s_terms(value: str, expected: str) -> None:
    schedule = ScheduleSettings(time="09:00", timezone="Asia/Shanghai")
    assert fixed_now(value, schedule) == at(expected)
    assert make_clock(schedule, {NOW_ENV: value})() == at(expected)


def test_without_a_fixed_now_the_clock_is_the_system_s_and_a_bad_one_is_a_config_error() -> None:
    assert make_clock(NOON, {}) is system_now
    with pytest.raises(ConfigError, match=NOW_ENV):
        make_clock(NOON, {NOW_ENV: "Christmas"})


# -- which day is missing, over a real store -----------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = base_config(store={"url": f"sqlite:///{tmp_path / 'digest.sqlite'}"})
    return parse_settings(config)


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.store.url)


def record(
    store: Store, started: str, status: str, digest: str | None = None, message: str = ""
) -> None:
    when = at(started)
    run_id = store.start_run(when)
    day = dt.date.fromisoformat(digest) if digest else None
    report = RunReport(status=status, message=message, digest_date=day)
    store.finish_run(run_id, report, when + dt.timedelta(minutes=1), "f" if digest else None)


def test_a_failed_run_leaves_its_day_missing_at_once(settings: Settings, store: Store) -> None:
    record(store, "2026-12-02T12:00:00+00:00", "ok", "2026-12-02")
    record(store, "2026-12-03T12:00:00+00:00", "failed", message="arXiv answered 503")
    missing = missing_day(settings, store, at("2026-12-03T12:02:00+00:00"))
    assert missing is not None
    assert missing.message == "no digest for Thu 2026-12-03: arXiv answered 503"
    state = day_state(settings, store, at("2026-12-03T12:02:00+00:00"))
    assert degraded_reason(state, store.last_run()) == missing.message


def test_a_day_is_missing_after_its_grace_period_when_no_run_came(
    settings: Settings, store: Store
) -> None:
    record(store, "2026-12-02T12:00:00+00:00", "ok", "2026-12-02")
    assert missing_day(settings, store, at("2026-12-03T14:59:00+00:00")) is None  # grace
    missing = missing_day(settings, store, at("2026-12-03T15:00:00+00:00"))
    assert missing is not None
    assert missing.message == "no digest for Thu 2026-12-03: no run since Wed 2026-12-02 12:00 UTC"


def test_an_empty_feed_on_an_announcement_day_is_missing_after_the_grace_period(
    settings: Settings, store: Store
) -> None:
    record(store, "2026-12-02T12:00:00+00:00", "ok", "2026-12-02")
    record(store, "2026-12-03T12:00:00+00:00", "empty")
    assert missing_day(settings, store, at("2026-12-03T12:30:00+00:00")) is None
    missing = missing_day(settings, store, at("2026-12-03T16:00:00+00:00"))
    assert missing is not None and "arXiv's feed was empty" in missing.message


def test_nothing_is_missing_on_a_quiet_day_nor_once_the_digest_is_there(
    settings: Settings, store: Store
) -> None:
    record(store, "2026-12-24T12:00:00+00:00", "ok", "2026-12-24")
    record(store, "2026-12-25T12:00:00+00:00", "failed", message="HTTP 503")
    holiday = at("2026-12-25T18:00:00+00:00")
    assert missing_day(settings, store, holiday) is None
    state = day_state(settings, store, holiday)
    assert arxiv_day(state) == {
        "day": "2026-12-25",
        "announced": False,
        "note": "arXiv did not announce on Fri 2026-12-25 (holiday)",
    }
    record(store, "2026-12-28T12:00:00+00:00", "ok", "2026-12-28")
    assert missing_day(settings, store, at("2026-12-28T20:00:00+00:00")) is None


def test_days_before_the_store_was_in_use_are_never_missing(
    settings: Settings, store: Store
) -> None:
    assert missing_day(settings, store, at("2026-12-03T16:00:00+00:00")) is None  # no run yet
    record(store, "2026-12-03T16:30:00+00:00", "empty")  # set up after Thursday's grace
    assert missing_day(settings, store, at("2026-12-03T17:00:00+00:00")) is None


def test_the_site_notice_is_the_quiet_day_since_the_last_digest(store: Store) -> None:
    record(store, "2026-12-24T12:00:00+00:00", "ok", "2026-12-24")
    assert site_notice(store) is None
    record(store, "2026-12-25T12:00:00+00:00", "empty")
    assert site_notice(store) == "arXiv did not announce on Fri 2026-12-25 (holiday)"
    record(store, "2026-12-28T12:00:00+00:00", "ok", "2026-12-28")
    assert site_notice(store) is None
