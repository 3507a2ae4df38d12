"""Empty and missed days explain themselves, as a reader and a maintainer meet them: a
holiday keeps the digest and says so (run output, site, /health); an announcement day whose
run fails is degraded in /health and told once to the delivery channels, however many runs
fail. A local arXiv (which can answer 503), local webhooks, fixed clocks; no sleeps."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from starlette.testclient import TestClient
from werkzeug import Request, Response

from arxiv_digest import pipeline
from arxiv_digest.config import ScheduleSettings, Settings, parse_settings
from arxiv_digest.delivery.notice import notice_body, notice_email, watch_missed
from arxiv_digest.errors import FetchError
from arxiv_digest.models import RunReport
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.web import create_app
from arxiv_digest.web.schedule import watch_trigger
from tests.conftest import RSS_TYPE, MakeSettings, base_config, fixture_bytes, write_config

CATS = "cs.AI+cs.CL+cs.LG"
HOLIDAY = dt.datetime(2026, 12, 25, 12, 0, tzinfo=dt.UTC)  # Friday, Christmas Day
THE_DAY_BEFORE = dt.datetime(2026, 12, 24, 12, 0, tzinfo=dt.UTC)
OUTAGE = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)  # Thursday, an announcement day
QUIET = "arXiv did not announce on Fri 2026-12-25 (holiday)"


def feed_of(feed: bytes, day: str) -> bytes:
    """The real feed of 27 April 2026, dated ``day`` ("Thu, 24 Dec 2026") instead."""
    return feed.replace(b"Mon, 27 Apr 2026", day.encode())


class Arxiv:
    """The local arXiv's feed: a body, or an HTTP status, changed between runs."""

    def __init__(self, server: HTTPServer) -> None:
        self.body = b""
        self.status = 200
        server.expect_request(f"/rss/{CATS}").respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        if self.status != 200:
            return Response("Service Unavailable", status=self.status)
        return Response(self.body, content_type=RSS_TYPE)


class Hook:
    """A generic webhook: every JSON body it was sent."""

    def __init__(self, server: HTTPServer) -> None:
        self.bodies: list[Any] = []
        self.failing = False
        server.expect_request("/hook", method="POST").respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        if self.failing:
            return Response("broken", status=500)
        self.bodies.append(json.loads(request.get_data()))
        return Response("ok")

    def notices(self) -> list[Any]:
        return [b for b in self.bodies if b.get("type") == "notice"]


@pytest.fixture
def arxiv(httpserver: HTTPServer) -> Arxiv:
    return Arxiv(httpserver)


@pytest.fixture
def hook(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Hook:
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    monkeypatch.setenv("DIGEST_WEBHOOK_URL", httpserver.url_for("/hook"))
    return Hook(httpserver)


def run_at(settings: Settings, now: dt.datetime) -> RunReport:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        return pipeline.run_daily(settings, store, client, clock=lambda: now, sleep=lambda s: None)


def health_at(settings: Settings, now: dt.datetime) -> dict[str, Any]:
    with Store(settings.store.url) as store:
        app = create_app(settings, store, admin_token="", clock=lambda: now)
        with TestClient(app) as client:
            body: dict[str, Any] = client.get("/health").json()
            body["page"] = client.get("/").text
    return body


def test_a_holiday_keeps_the_digest_and_says_so_in_the_run_the_site_and_health(
    arxiv: Arxiv, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    settings = make_settings()
    arxiv.body = feed_of(combined_feed, "Thu, 24 Dec 2026")
    assert run_at(settings, THE_DAY_BEFORE).status == "ok"
    readme = settings.output.readme.read_bytes()
    site = Path(settings.output.site_dir)
    day_page = (site / "archive" / "2026-12-24.html").read_bytes()
    arxiv.body = fixture_bytes("rss/empty-channel.xml")
    report = run_at(settings, HOLIDAY)
    assert (report.status, report.message) == ("empty", QUIET)
    assert settings.output.readme.read_bytes() == readme  # the digest as it was
    assert QUIET in (site / "index.html").read_text()
    assert QUIET in (site / "index-expanded.html").read_text()
    assert (site / "archive" / "2026-12-24.html").read_bytes() == day_page
    health = health_at(settings, HOLIDAY)
    assert health["status"] == "ok" and health["reason"] is None
    assert health["arxiv"] == {"day": "2026-12-25", "announced": False, "note": QUIET}
    assert health["latest_digest"] == "2026-12-24"
    assert QUIET in health["page"]  # serve shows the same front page
    arxiv.body = feed_of(combined_feed, "Mon, 28 Dec 2026")
    run_at(settings, HOLIDAY + dt.timedelta(days=3))
    assert QUIET not in (site / "index.html").read_text()  # a new digest: nothing to explain


def test_a_holiday_is_told_on_every_public_members_front_page(
    arxiv: Arxiv, make_settings: MakeSettings, combined_feed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arxiv_digest.team.run import run_team

    monkeypatch.setenv("CAROL_TOKEN", "carol-secret")
    settings = make_settings(
        keywords=[],
        profiles={
            "alice": {"keywords": ["LLM"]},
            "bob": {"keywords": ["agents"]},
            "carol": {"keywords": ["benchmark"], "private": True, "token_env": "CAROL_TOKEN"},
        },
    )

    def team_run_at(now: dt.datetime) -> RunReport:
        with http.make_client(settings.http) as client, Store(settings.store.url) as store:
            return run_team(settings, store, client, clock=lambda: now, sleep=lambda s: None).run

    arxiv.body = feed_of(combined_feed, "Thu, 24 Dec 2026")
    assert team_run_at(THE_DAY_BEFORE).status == "ok"
    site = Path(settings.output.site_dir)
    fronts = [
        site / "index.html",
        site / "p" / "alice" / "index.html",
        site / "p" / "bob" / "index.html",
    ]
    assert not any(QUIET in page.read_text() for page in fronts)
    arxiv.body = fixture_bytes("rss/empty-channel.xml")
    report = team_run_at(HOLIDAY)
    assert (report.status, report.message) == ("empty", QUIET)
    assert all(QUIET in page.read_text() for page in fronts)
    assert not (site / "p" / "carol").exists()  # private: still not on the static site


def test_an_empty_feed_on_an_announcement_day_is_not_called_a_holiday(
    arxiv: Arxiv, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    arxiv.body = fixture_bytes("rss/empty-channel.xml")
    report = run_at(settings, OUTAGE)
    assert (report.status, report.message) == ("empty", "no new announcements")
    assert not Path(settings.output.site_dir).exists()


def test_a_failing_announcement_day_is_degraded_and_told_once(
    arxiv: Arxiv, hook: Hook, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    settings = make_settings(delivery={"chat": [{"type": "generic"}]})
    arxiv.body = feed_of(combined_feed, "Wed, 02 Dec 2026")
    run_at(settings, OUTAGE - dt.timedelta(days=1))
    assert health_at(settings, OUTAGE)["status"] == "ok"
    arxiv.status = 503
    for minutes in (0, 30):
        with pytest.raises(FetchError, match="503"):
            run_at(settings, OUTAGE + dt.timedelta(minutes=minutes))
    [notice] = hook.notices()
    assert notice["date"] == "2026-12-03"
    assert notice["text"].startswith("arXiv digest: no digest for 2026-12-03: ")
    assert "503" in notice["text"]
    assert notice["text"].endswith("; next try at Fri 2026-12-04 12:00 UTC")
    health = health_at(settings, OUTAGE + dt.timedelta(minutes=31))
    assert health["status"] == "degraded"
    assert health["reason"].startswith("no digest for Thu 2026-12-03: ")
    assert "503" in health["reason"]
    with Store(settings.store.url) as store:
        [record] = store.notices()
    assert (record.day, record.channel, record.status) == (dt.date(2026, 12, 3), "generic", "sent")


def test_a_channel_that_missed_the_notice_gets_it_from_the_next_failing_run_only(
    arxiv: Arxiv, hook: Hook, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    settings = make_settings(delivery={"chat": [{"type": "generic"}]})
    arxiv.body = feed_of(combined_feed, "Wed, 02 Dec 2026")
    run_at(settings, OUTAGE - dt.timedelta(days=1))
    arxiv.status = 503
    hook.failing = True
    with pytest.raises(FetchError):
        run_at(settings, OUTAGE)  # the run's own error, not the notice's, is raised
    hook.failing = False
    for minutes in (30, 60):
        with pytest.raises(FetchError):
            run_at(settings, OUTAGE + dt.timedelta(minutes=minutes))
    assert len(hook.notices()) == 1
    with Store(settings.store.url) as store:
        [record] = store.notices()
    assert (record.status, record.attempts) == ("sent", 2)


def test_a_fresh_runner_does_not_tell_the_channel_again(
    arxiv: Arxiv,
    hook: Hook,
    make_settings: MakeSettings,
    combined_feed: bytes,
    tmp_path: Path,
) -> None:
    """A fork's runs start on a new machine: the store is rebuilt from its history files."""
    settings = make_settings(
        delivery={"chat": [{"type": "generic"}]}, store={"history_dir": "history"}
    )
    arxiv.body = feed_of(combined_feed, "Wed, 02 Dec 2026")
    run_at(settings, OUTAGE - dt.timedelta(days=1))
    arxiv.status = 503
    with pytest.raises(FetchError):
        run_at(settings, OUTAGE)
    assert (tmp_path / "history" / "notices.jsonl").is_file()
    for database in (tmp_path / "data").glob("arxiv-digest.sqlite*"):
        database.unlink()
    with pytest.raises(FetchError):
        run_at(settings, OUTAGE + dt.timedelta(minutes=30))
    assert len(hook.notices()) == 1


def test_a_failing_run_on_a_holiday_tells_nobody(
    arxiv: Arxiv, hook: Hook, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    settings = make_settings(delivery={"chat": [{"type": "generic"}]})
    arxiv.body = feed_of(combined_feed, "Thu, 24 Dec 2026")
    run_at(settings, THE_DAY_BEFORE)
    arxiv.status = 503
    with pytest.raises(FetchError):
        run_at(settings, HOLIDAY)
    assert hook.notices() == []


# -- the two checks, as a user runs them: the CLI with ARXIV_DIGEST_NOW -----------------------


def cli(config: Path, now: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    env["ARXIV_DIGEST_NOW"] = now
    return subprocess.run(
        [sys.executable, "-m", "arxiv_digest", "run", "--config", str(config)],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_cli_on_christmas_day_exits_0_and_says_arxiv_did_not_announce(
    arxiv: Arxiv, httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes
) -> None:
    config = write_config(tmp_path, httpserver)
    arxiv.body = feed_of(combined_feed, "Thu, 24 Dec 2026")
    assert cli(config, "2026-12-24").returncode == 0
    readme = (tmp_path / "README.md").read_bytes()
    arxiv.body = fixture_bytes("rss/empty-channel.xml")
    result = cli(config, "2026-12-25")
    assert result.returncode == 0, result.stderr
    assert QUIET in " ".join(result.stdout.split())
    assert (tmp_path / "README.md").read_bytes() == readme
    assert QUIET in (tmp_path / "site" / "index.html").read_text()


def test_the_cli_on_an_outage_exits_1_and_tells_the_channel_once(
    arxiv: Arxiv, hook: Hook, httpserver: HTTPServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, httpserver, delivery={"chat": [{"type": "generic"}]})
    arxiv.status = 503
    first = cli(config, "2026-12-03T12:00:00Z")
    second = cli(config, "2026-12-03T12:40:00Z")
    assert (first.returncode, second.returncode) == (1, 1)
    assert "503" in first.stderr
    [notice] = hook.notices()
    assert "no digest for 2026-12-03" in notice["text"]


# -- serve's daily look: the runner never started ------------------------------------------------


def test_serve_tells_the_channels_once_when_no_run_made_the_digest(
    arxiv: Arxiv, hook: Hook, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    settings = make_settings(delivery={"chat": [{"type": "generic"}]})
    arxiv.body = feed_of(combined_feed, "Wed, 02 Dec 2026")
    run_at(settings, OUTAGE - dt.timedelta(days=1))
    assert watch_missed(settings, OUTAGE + dt.timedelta(hours=2)) == []  # within the grace
    told = watch_missed(settings, OUTAGE + dt.timedelta(hours=3))
    assert [o.status for o in told] == ["notice sent"]
    [notice] = hook.notices()
    assert notice["text"] == (
        "arXiv digest: no digest for 2026-12-03: no run since Wed 2026-12-02 12:00 UTC; "
        "next try at Fri 2026-12-04 12:00 UTC"
    )
    later = OUTAGE + dt.timedelta(hours=5)
    assert [o.status for o in watch_missed(settings, later)] == ["notice already sent"]
    with Store(settings.store.url) as store:
        store.start_run(later)
    assert watch_missed(settings, later) == []  # a run is at it: it tells, if it fails


@pytest.mark.parametrize(
    ("time", "grace", "fires"),
    [("12:00", 180, "2026-12-03T15:00:00+00:00"), ("23:00", 120, "2026-12-04T01:00:00+00:00")],
)
def test_the_look_for_a_missing_digest_comes_after_the_grace_period(
    time: str, grace: int, fires: str
) -> None:
    schedule = ScheduleSettings(time=time, timezone="UTC", grace_minutes=grace)
    fire = watch_trigger(schedule).get_next_fire_time(None, OUTAGE)
    assert fire == dt.datetime.fromisoformat(fires)


def test_every_platform_gets_the_notice_as_plain_text() -> None:
    settings = parse_settings(
        base_config(
            delivery={
                "email": {"smtp_host": "smtp.example.org", "from": "Digest <me@example.org>",
                          "to": ["me@example.org"]},
                "chat": [{"type": t} for t in ("slack", "discord", "feishu", "dingtalk", "wecom",
                                               "generic")]
                + [{"type": "telegram", "chat_id": "-100123"}],
            }
        )
    )  # fmt: skip
    assert settings.delivery is not None
    text, day = "arXiv digest: no digest for 2026-12-03: down", dt.date(2026, 12, 3)
    bodies = {c.label: notice_body(c, text, day) for c in settings.delivery.chat}
    assert bodies["slack"] == {"text": text}
    assert bodies["discord"]["content"] == text
    assert bodies["feishu"] == {"msg_type": "text", "content": {"text": text}}
    assert bodies["dingtalk"] == bodies["wecom"] == {"msgtype": "text", "text": {"content": text}}
    assert bodies["telegram"]["chat_id"] == "-100123" and "parse_mode" not in bodies["telegram"]
    assert bodies["generic"]["type"] == "notice"
    assert settings.delivery.email is not None
    message = notice_email(settings.delivery.email, text, day, OUTAGE)
    assert message["Subject"] == "arXiv digest: no digest for 2026-12-03"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content().strip() == text
