"""Delivery as a reader relies on it: every channel gets each digest once, a failing channel
is retried on the next run (only it, from where it stopped), and the README and site never
wait for a channel. Chat webhooks are a local HTTP server; e-mail a real SMTP server."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from arxiv_digest import pipeline
from arxiv_digest.cli import app
from arxiv_digest.config import Settings, load_settings
from arxiv_digest.delivery.dispatch import deliver
from arxiv_digest.models import Paper, RankedPaper, RunReport
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from tests.conftest import (
    MakeSettings,
    base_config,
    run_refused_as_config_error,
    serve_feed,
    write_config,
)
from tests.servers import Inbox, free_port
from tests.test_pipeline import Clock

CATS = "cs.AI+cs.CL+cs.LG"
SECRET_TOKEN = "T0KEN-s3cr3t-do-not-print"


class Hooks:
    """Webhook endpoints on the local server; ``fail`` makes a path answer 500 for now."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.failing: set[str] = set()
        self.bodies: dict[str, list[Any]] = {}

    def url(self, name: str) -> str:
        return self.server.url_for(f"/hooks/{name}/{SECRET_TOKEN}")

    def add(self, name: str, answer: Callable[[], Response]) -> None:
        def handle(request: Request) -> Response:
            if name in self.failing:
                return Response("broken", status=500)
            self.bodies.setdefault(name, []).append(json.loads(request.get_data()))
            return answer()

        self.server.expect_request(
            f"/hooks/{name}/{SECRET_TOKEN}", method="POST"
        ).respond_with_handler(handle)

    def received(self, name: str) -> list[Any]:
        return self.bodies.get(name, [])


@pytest.fixture
def hooks(httpserver: HTTPServer, combined_feed: bytes, monkeypatch: pytest.MonkeyPatch) -> Hooks:
    # The test server's own access log shows the URLs it was sent (the secret's place in
    # a real webhook URL); it is not ours, and it would be in the CLI's captured output.
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    serve_feed(httpserver, CATS, combined_feed)
    found = Hooks(httpserver)
    found.add("generic", lambda: Response("ok"))
    found.add("slack", lambda: Response("ok"))
    monkeypatch.setenv("DIGEST_WEBHOOK_URL", found.url("generic"))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", found.url("slack"))
    return found


CHANNELS = [{"type": "generic"}, {"type": "slack"}]


def run(settings: Settings, clock: Clock) -> RunReport:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        return pipeline.run_daily(settings, store, client, clock=clock, sleep=lambda s: None)


def outcomes(report: RunReport) -> dict[str, str]:
    return {o.channel: o.status for o in report.deliveries}


def test_every_channel_gets_the_digest_once_and_a_rerun_sends_nothing(
    hooks: Hooks, make_settings: MakeSettings
) -> None:
    settings = make_settings(delivery={"chat": CHANNELS})
    clock = Clock()
    first = run(settings, clock)
    assert outcomes(first) == {"generic": "sent", "slack": "sent"}
    (digest,) = hooks.received("generic")
    assert digest["date"] == "2026-04-27"
    assert [item["title"] for item in digest["items"]] == [
        e.ranked.paper.title for e in first_digest(settings).entries
    ]
    assert len(hooks.received("slack")) >= 1

    second = run(settings, clock)
    assert outcomes(second) == {"generic": "already sent", "slack": "already sent"}
    assert len(hooks.received("generic")) == 1
    with Store(settings.store.url) as store:
        records = {r.channel: r.status for r in store.deliveries()}
    assert records == {"generic": "sent", "slack": "sent"}


def first_digest(settings: Settings) -> Any:
    from arxiv_digest.publish.content import published_days

    with Store(settings.store.url) as store:
        return published_days(store)[0]


def test_a_failing_channel_is_retried_next_run_and_only_it(
    hooks: Hooks, make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings(delivery={"chat": CHANNELS})
    clock = Clock()
    hooks.failing.add("slack")
    first = run(settings, clock)
    assert outcomes(first) == {"generic": "sent", "slack": "failed"}
    assert first.status == "ok"  # the digest itself is published
    assert settings.output.readme.exists() and (settings.output.site_dir / "index.html").exists()
    assert hooks.received("slack") == []

    hooks.failing.clear()
    second = run(settings, clock)
    assert outcomes(second) == {"generic": "already sent", "slack": "sent"}
    assert len(hooks.received("generic")) == 1
    assert len(hooks.received("slack")) >= 1
    with Store(settings.store.url) as store:
        slack = store.delivery(dt.date(2026, 4, 27), "slack")
    assert slack is not None and (slack.status, slack.attempts, slack.error) == ("sent", 2, "")


def test_the_cli_exits_1_for_a_failed_channel_after_writing_everything_else(
    hooks: Hooks, httpserver: HTTPServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, httpserver, delivery={"chat": CHANNELS})
    hooks.failing.add("slack")
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "delivery failed: slack (2026-04-27)" in " ".join(result.output.split())
    assert (tmp_path / "README.md").exists() and (tmp_path / "site" / "index.html").exists()
    assert SECRET_TOKEN not in result.output


def test_a_missing_secret_skips_that_channel_with_one_warning(
    hooks: Hooks,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    settings = make_settings(delivery={"chat": CHANNELS})
    with caplog.at_level(logging.WARNING):
        report = run(settings, Clock())
    assert outcomes(report) == {"generic": "sent", "slack": "skipped"}
    warnings = [r.getMessage() for r in caplog.records if "slack" in r.getMessage()]
    assert len(warnings) == 1 and "SLACK_WEBHOOK_URL" in warnings[0]
    assert report.delivery_failures == []


def publish(settings: Settings, papers: list[Paper], day: dt.date) -> None:
    """A published digest of these papers in the store, as a run leaves it."""
    with Store(settings.store.url) as store:
        store.upsert_papers(papers)
        started = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        run_id = store.start_run(started)
        ranked = [RankedPaper(p, 10.0 - n / 10, ("LLM",), "cs.AI") for n, p in enumerate(papers)]
        store.save_ranking(run_id, ranked)
        report = RunReport(status="ok", digest_date=day)
        store.finish_run(run_id, report, started, f"fingerprint-{day}")


def deliver_now(settings: Settings, when: dt.datetime) -> dict[str, str]:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        found = deliver(settings, store, client, now=when, sleep=lambda s: None)
    return {o.channel: o.status for o in found}


def test_a_partly_sent_channel_goes_on_from_the_first_message_that_did_not_arrive(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    make_paper: Callable[..., Paper],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram allows 4,096 characters a message: forty papers take several. The second
    message fails; the next run sends the second and the rest, and not the first again."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET_TOKEN)
    texts: list[str] = []
    failing = {"at": 2}

    def answer(request: Request) -> Response:
        if len(texts) + 1 == failing["at"]:
            return Response(json.dumps({"ok": False, "description": "Bad Gateway"}), status=502)
        texts.append(json.loads(request.get_data())["text"])
        return Response(json.dumps({"ok": True, "result": {}}), content_type="application/json")

    httpserver.expect_request(f"/bot{SECRET_TOKEN}/sendMessage").respond_with_handler(answer)
    telegram = {"type": "telegram", "chat_id": "-100123", "api_url": httpserver.url_for("/")}
    settings = make_settings(delivery={"chat": [telegram], "max_items": 40})
    day = dt.date(2026, 4, 27)
    papers = [make_paper(title=f"Paper number {n} on " + "long words " * 12) for n in range(40)]
    publish(settings, papers, day)
    when = dt.datetime(2026, 4, 27, 13, tzinfo=dt.UTC)

    assert deliver_now(settings, when) == {"telegram": "failed"}
    assert len(texts) == 1
    with Store(settings.store.url) as store:
        partial = store.delivery(day, "telegram")
    assert partial is not None and (partial.status, partial.messages_sent) == ("partial", 1)
    assert SECRET_TOKEN not in partial.error

    failing["at"] = 0
    assert deliver_now(settings, when) == {"telegram": "sent"}
    with Store(settings.store.url) as store:
        record = store.delivery(day, "telegram")
    assert record is not None and record.messages_total == len(texts) >= 2
    delivered = "\n".join(texts)
    for n in range(40):  # each paper exactly once, none lost between the two runs
        assert delivered.count(f"Paper number {n} on ") == 1


def test_a_failed_day_is_still_delivered_once_the_next_digest_is_out(
    hooks: Hooks, make_settings: MakeSettings, make_paper: Callable[..., Paper]
) -> None:
    settings = make_settings(delivery={"chat": [{"type": "generic"}]})
    monday, tuesday = dt.date(2026, 4, 27), dt.date(2026, 4, 28)
    publish(settings, [make_paper(title="Monday paper", announced=monday)], monday)
    hooks.failing.add("generic")
    assert deliver_now(settings, dt.datetime(2026, 4, 27, 13, tzinfo=dt.UTC)) == {
        "generic": "failed"
    }
    hooks.failing.clear()
    publish(settings, [make_paper(title="Tuesday paper", announced=tuesday)], tuesday)
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        now = dt.datetime(2026, 4, 28, 13, tzinfo=dt.UTC)
        found = deliver(settings, store, client, now=now, sleep=lambda s: None)
    assert [(o.digest_date, o.status) for o in found] == [(monday, "sent"), (tuesday, "sent")]
    assert [body["date"] for body in hooks.received("generic")] == ["2026-04-27", "2026-04-28"]


def test_dry_run_prints_what_would_be_sent_and_sends_nothing(
    hooks: Hooks, httpserver: HTTPServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, httpserver, delivery={"chat": [{"type": "generic"}]})
    hooks.failing.add("generic")  # so that the run leaves the channel to deliver
    runner = CliRunner()
    assert runner.invoke(app, ["run", "--config", str(config)]).exit_code == 1
    hooks.failing.clear()
    dry = runner.invoke(app, ["deliver", "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    assert "would send" in dry.output and '"date": "2026-04-27"' in dry.output
    assert hooks.received("generic") == []
    assert SECRET_TOKEN not in dry.output

    sent = runner.invoke(app, ["deliver", "--config", str(config)])
    assert sent.exit_code == 0, sent.output
    assert len(hooks.received("generic")) == 1
    again = runner.invoke(app, ["deliver", "--config", str(config)])
    assert "already sent" in again.output and len(hooks.received("generic")) == 1
    forced = runner.invoke(app, ["deliver", "--resend", "--config", str(config)])
    assert forced.exit_code == 0 and len(hooks.received("generic")) == 2


def test_deliver_names_an_unknown_channel_or_date(
    hooks: Hooks, httpserver: HTTPServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, httpserver, delivery={"chat": [{"type": "generic"}]})
    runner = CliRunner()
    wrong = runner.invoke(app, ["deliver", "--channel", "slak", "--config", str(config)])
    assert wrong.exit_code == 2 and "slak" in wrong.output and "generic" in wrong.output
    bad_day = runner.invoke(app, ["deliver", "--date", "yesterday", "--config", str(config)])
    assert bad_day.exit_code == 2 and "--date" in bad_day.output


def test_deliver_for_a_day_without_a_digest_says_so(
    hooks: Hooks, httpserver: HTTPServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, httpserver, delivery={"chat": [{"type": "generic"}]})
    runner = CliRunner()
    assert runner.invoke(app, ["run", "--config", str(config)]).exit_code == 0
    sunday = runner.invoke(app, ["deliver", "--date", "2026-04-26", "--config", str(config)])
    assert sunday.exit_code == 0
    assert "Nothing to deliver: there is no digest for 2026-04-26." in sunday.output
    assert len(hooks.received("generic")) == 1  # the run's, and no other


def test_an_empty_digest_is_sent_only_with_send_empty(
    hooks: Hooks, make_settings: MakeSettings
) -> None:
    quiet = make_settings(keywords=["nothing matches this"], delivery={"chat": CHANNELS})
    report = run(quiet, Clock())
    assert outcomes(report) == {"generic": "skipped", "slack": "skipped"}
    assert hooks.received("generic") == []


def test_an_empty_digest_with_send_empty_says_so(hooks: Hooks, make_settings: MakeSettings) -> None:
    settings = make_settings(
        keywords=["nothing matches this"],
        delivery={"chat": [{"type": "generic"}], "send_empty": True},
    )
    report = run(settings, Clock())
    assert outcomes(report) == {"generic": "sent"}
    (digest,) = hooks.received("generic")
    assert digest["items"] == []


@pytest.mark.parametrize(
    ("delivery", "named"),
    [
        ({"chat": [{"type": "slak"}]}, "delivery.chat[0]"),
        ({"chat": [{"type": "telegram"}]}, "delivery.chat[0].telegram.chat_id"),
        ({"chat": [{"type": "slack"}, {"type": "slack"}]}, "give each a distinct name"),
        ({"email": {"smtp_host": "h", "from": "me@example.org", "to": []}}, "delivery.email.to"),
        ({"email": {"smtp_host": "h", "from": "a@b.c", "to": ["a@b.c"], "security": "tls"}},
         "delivery.email.security"),
        ({"chat": [{"type": "slack", "url_env": "https://hooks.slack.com/x"}]},
         "delivery.chat[0].slack.url_env"),
        ({"email": {"smtp_host": "smtp.example.org", "security": "none", "username": "me",
                    "from": "a@b.c", "to": ["a@b.c"]}}, "unencrypted"),
    ],
)  # fmt: skip
def test_a_wrong_delivery_config_names_the_field_and_touches_nothing(
    tmp_path: Path, delivery: dict[str, Any], named: str
) -> None:
    message = run_refused_as_config_error(tmp_path, base_config(delivery=delivery))
    assert named in message


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class GreylistsLab(Inbox):
    """Says 450 (try later) to lab@example.org while ``busy`` holds; the others get it."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = True

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == "lab@example.org" and self.busy:
            return "450 4.2.0 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_recipient_refused_for_now_gets_the_digest_on_the_next_run_and_only_they(
    hooks: Hooks, httpserver: HTTPServer, tmp_path: Path
) -> None:
    inbox, port = GreylistsLab(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = {
            "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
            "from": "digest@example.org", "to": ["me@example.org", "Lab <lab@example.org>"],
        }  # fmt: skip
        config = write_config(tmp_path, httpserver, delivery={"email": mail})
        runner = CliRunner()
        first = runner.invoke(app, ["run", "--config", str(config)])
        assert first.exit_code == 1, first.output  # the README and site are written
        report = " ".join(first.output.split())
        assert "refused for now, sent again by the next run: lab@example.org (450" in report
        assert "the other recipients have it" in report
        assert inbox.envelopes == [("digest@example.org", ["me@example.org"])]
        with Store(load_settings(config).store.url) as store:
            (record,) = store.deliveries()
        assert (record.status, record.pending) == ("partial", ("lab@example.org",))

        again = runner.invoke(app, ["deliver", "--config", str(config)])
        assert again.exit_code == 1  # still greylisted: still due, nobody gets it twice
        assert [rcpt for _, rcpt in inbox.envelopes] == [["me@example.org"]]

        inbox.busy = False
        last = runner.invoke(app, ["deliver", "--config", str(config)])
        assert last.exit_code == 0, last.output
        assert [rcpt for _, rcpt in inbox.envelopes] == [["me@example.org"], ["lab@example.org"]]
        done = runner.invoke(app, ["deliver", "--config", str(config)])
        assert "already sent" in done.output and len(inbox.envelopes) == 2
    finally:
        controller.stop()


def test_the_daily_run_emails_the_digest_once(
    hooks: Hooks, make_settings: MakeSettings, smtp_inbox: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    mail = {
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
        "from": "arXiv digest <digest@example.org>", "to": ["me@example.org"],
    }  # fmt: skip
    settings = make_settings(delivery={"email": mail})
    clock = Clock()
    assert outcomes(run(settings, clock)) == {"email": "sent"}
    assert outcomes(run(settings, clock)) == {"email": "already sent"}
    (message,) = inbox.messages
    titles = [e.ranked.paper.title for e in first_digest(settings).entries]
    assert message["Subject"] == f"arXiv digest 2026-04-27: {len(titles)} papers"
    text = message.get_body(("plain",))
    assert text is not None and all(t in text.get_content() for t in titles)
