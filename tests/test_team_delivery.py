"""Team mode's e-mail and chat as a lab relies on them: each member's channels get their
digest only, the lab's shared channels the config's own digest (never a private member's
picks), a member without a ``delivery`` section gets nothing, a member's failing channel is
that channel's failure alone, and a missed day is told once to every reader's channels.

The chat channels are webhooks on the local HTTP server, the e-mail a real SMTP server."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Response

from arxiv_digest.cli import app
from arxiv_digest.config import Settings
from arxiv_digest.delivery.notice import watch_missed
from arxiv_digest.errors import FetchError
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.team.run import TeamReport, run_team
from tests.servers import Inbox
from tests.test_delivery import Hooks
from tests.test_quiet_days import OUTAGE, Arxiv, feed_of
from tests.test_team import settings_of, team_config

YESTERDAY = OUTAGE - dt.timedelta(days=1)  # Wed 2026-12-02, a day with its digest
LAB = "lab@example.org"


class LabArxiv(Arxiv):
    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.server = server


@pytest.fixture
def arxiv(httpserver: HTTPServer, combined_feed: bytes) -> LabArxiv:
    found = LabArxiv(httpserver)
    found.body = feed_of(combined_feed, "Wed, 02 Dec 2026")
    return found


@pytest.fixture
def hooks(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Hooks:
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    found = Hooks(httpserver)
    for name in ("lab", "alice"):
        found.add(name, lambda: Response("ok"))
    monkeypatch.setenv("LAB_HOOK", found.url("lab"))
    monkeypatch.setenv("ALICE_HOOK", found.url("alice"))
    monkeypatch.setenv("ALICE_TOKEN", "alice-s3cret")
    return found


def _email(port: int, to: str) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
        "from": "digest@example.org", "to": [to], "timeout": 10,
    }  # fmt: skip


def lab(server: HTTPServer, port: int, folder: Path) -> Settings:
    return settings_of(lab_config(server, port), folder)


def lab_config(server: HTTPServer, port: int) -> dict[str, Any]:
    """The lab's channels at the top level; alice (private) and bob with channels of their
    own; carol with none."""
    config = team_config(server)
    config["delivery"] = {
        "email": _email(port, LAB),
        "chat": [{"type": "generic", "url_env": "LAB_HOOK"}],
    }
    alice = config["profiles"]["alice"]
    alice.update(private=True, token_env="ALICE_TOKEN")
    alice["delivery"] = {
        "email": _email(port, "alice@example.org"),
        "chat": [{"type": "generic", "name": "phone", "url_env": "ALICE_HOOK"}],
    }
    config["profiles"]["bob"]["delivery"] = {"email": _email(port, "bob@example.org")}
    return config


def run_at(settings: Settings, now: dt.datetime, only: str | None = None) -> TeamReport:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        return run_team(settings, store, client, only=only, clock=lambda: now, sleep=lambda s: None)


def picks(settings: Settings, name: str) -> set[str]:
    """The papers of the reader's published digest ("" for the config's own)."""
    with Store(settings.store.url) as store:
        published = store.for_profile(name).published_runs() if name else store.published_runs()
        return {r.paper.arxiv_id for r in store.ranking(published[0][1])} if published else set()


def ids(text: str) -> set[str]:
    return set(re.findall(r"\b\d{4}\.\d{5}\b", text))


def mail(box: Inbox) -> dict[str, list[str]]:
    """Every message's plain text, by recipient."""
    found: dict[str, list[str]] = {}
    for (_, recipients), message in zip(box.envelopes, box.messages, strict=True):
        body = message.get_body(("plain",))
        assert body is not None
        for recipient in recipients:
            found.setdefault(recipient, []).append(body.get_content())
    return found


def outcomes(team: TeamReport) -> dict[str, str]:
    return {o.channel: o.status for o in team.run.deliveries}


# -- each reader's channels, their digest only ------------------------------------------------


def test_a_members_email_holds_only_their_digest_and_the_lab_never_a_private_pick(
    arxiv: LabArxiv,
    hooks: Hooks,
    inbox: tuple[Inbox, int],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    box, port = inbox
    settings = lab(httpserver, port, tmp_path)

    team = run_at(settings, YESTERDAY)

    alice, bob, carol = (picks(settings, name) for name in ("alice", "bob", "carol"))
    only_alices = alice - bob - carol
    assert only_alices, "the fixture day must give alice a paper no public member picked"
    inboxes = mail(box)
    assert sorted(inboxes) == ["alice@example.org", "bob@example.org", LAB]
    assert all(len(messages) == 1 for messages in inboxes.values())
    assert ids(inboxes["alice@example.org"][0]) == alice
    assert ids(inboxes["bob@example.org"][0]) == bob
    assert ids(inboxes[LAB][0]) == bob | carol == picks(settings, "")  # the public picks
    [lab_chat] = hooks.received("lab")
    assert {item["arxiv_id"] for item in lab_chat["items"]} <= bob | carol
    assert not ids(str(lab_chat)) & only_alices
    [alices_chat] = hooks.received("alice")
    assert {item["arxiv_id"] for item in alices_chat["items"]} == alice
    assert team.member("carol").report.deliveries == []  # no delivery section: nothing sent
    assert outcomes(team) == {
        "email": "sent",
        "generic": "sent",
        "alice/email": "sent",
        "alice/phone": "sent",
        "bob/email": "sent",
    }


def test_a_members_failing_channel_is_theirs_alone_and_retried_alone(
    arxiv: LabArxiv,
    hooks: Hooks,
    inbox: tuple[Inbox, int],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    box, port = inbox
    settings = lab(httpserver, port, tmp_path)
    hooks.failing.add("alice")

    first = run_at(settings, YESTERDAY)  # the run itself succeeds: every digest is out

    assert outcomes(first)["alice/phone"] == "failed"
    assert first.member("alice").report.deliveries[-1].status == "failed"
    assert {c: s for c, s in outcomes(first).items() if c != "alice/phone"} == {
        "email": "sent", "generic": "sent", "alice/email": "sent", "bob/email": "sent",
    }  # fmt: skip
    hooks.failing.clear()
    second = run_at(settings, YESTERDAY + dt.timedelta(minutes=30))
    assert outcomes(second)["alice/phone"] == "sent"
    assert {s for c, s in outcomes(second).items() if c != "alice/phone"} == {"already sent"}
    assert len(hooks.received("alice")) == 1 and len(hooks.received("lab")) == 1
    assert len(box.messages) == 3


def test_run_profile_sends_that_members_digest_and_nothing_else(
    arxiv: LabArxiv,
    hooks: Hooks,
    inbox: tuple[Inbox, int],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    box, port = inbox
    settings = lab(httpserver, port, tmp_path)

    only_bob = run_at(settings, YESTERDAY, only="bob")

    assert sorted(mail(box)) == ["bob@example.org"]
    assert hooks.received("lab") == [] and hooks.received("alice") == []
    assert set(outcomes(only_bob)) == {"bob/email"}
    # bob's picks alone are not the lab's digest: the full run makes and sends that
    everyone = run_at(settings, YESTERDAY + dt.timedelta(minutes=30))
    inboxes = mail(box)
    assert ids(inboxes[LAB][0]) == picks(settings, "bob") | picks(settings, "carol")
    assert len(inboxes["bob@example.org"]) == 1
    assert outcomes(everyone)["bob/email"] == "already sent"


def test_the_cli_names_whose_channel_failed_and_deliver_profile_sends_theirs_only(
    arxiv: LabArxiv, hooks: Hooks, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    box, port = inbox
    config = tmp_path / "config.json"
    config.write_text(json.dumps(lab_config(arxiv.server, port)), encoding="utf-8")
    settings = settings_of(lab_config(arxiv.server, port), tmp_path)
    runner = CliRunner()
    hooks.failing.add("alice")

    ran = runner.invoke(app, ["run", "--config", str(config)])

    assert ran.exit_code == 1, ran.output  # every digest written; one channel failed
    assert "delivery failed: alice/phone (2026-12-02)" in " ".join(ran.output.split())
    hooks.failing.clear()
    resent = runner.invoke(
        app, ["deliver", "--profile", "bob", "--resend", "--config", str(config)]
    )
    assert resent.exit_code == 0, resent.output
    inboxes = mail(box)
    assert len(inboxes["bob@example.org"]) == 2 and len(inboxes[LAB]) == 1
    assert ids(inboxes["bob@example.org"][1]) == picks(settings, "bob")
    assert hooks.received("alice") == [] and len(hooks.received("lab")) == 1
    theirs = runner.invoke(app, ["deliver", "--profile", "alice", "--config", str(config)])
    assert theirs.exit_code == 0, theirs.output
    [alices_chat] = hooks.received("alice")  # the failed channel, and only it
    assert {item["arxiv_id"] for item in alices_chat["items"]} == picks(settings, "alice")
    assert len(mail(box)["alice@example.org"]) == 1
    labs = runner.invoke(app, ["deliver", "--resend", "--config", str(config)])
    assert labs.exit_code == 0, labs.output
    assert ids(mail(box)[LAB][1]) == picks(settings, "")
    assert len(mail(box)["bob@example.org"]) == 2
    nothing = runner.invoke(app, ["deliver", "--profile", "carol", "--config", str(config)])
    assert nothing.exit_code == 2 and len(box.messages) == 5


# -- a missed day: one notice per channel, every reader's ------------------------------------


def notices(hooks: Hooks, name: str) -> list[Any]:
    return [b for b in hooks.received(name) if b.get("type") == "notice"]


def test_a_failed_day_is_told_once_to_the_lab_and_to_each_members_channels(
    arxiv: LabArxiv,
    hooks: Hooks,
    inbox: tuple[Inbox, int],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    box, port = inbox
    settings = lab(httpserver, port, tmp_path)
    run_at(settings, YESTERDAY)
    sent_before = len(box.messages)
    arxiv.status = 503
    for minutes in (0, 30):
        with pytest.raises(FetchError, match="503"):
            run_at(settings, OUTAGE + dt.timedelta(minutes=minutes))

    for name in ("lab", "alice"):
        [notice] = notices(hooks, name)
        assert notice["text"].startswith("arXiv digest: no digest for 2026-12-03: ")
        assert not ids(notice["text"])  # a notice names no paper
    told = box.messages[sent_before:]
    assert sorted(to for (_, rcpt) in box.envelopes[sent_before:] for to in rcpt) == [
        "alice@example.org", "bob@example.org", LAB,
    ]  # fmt: skip
    assert all(m["Subject"] == "arXiv digest: no digest for 2026-12-03" for m in told)
    with Store(settings.store.url) as store:
        assert {(n.channel, n.status) for n in store.notices()} == {
            ("email", "sent"), ("generic", "sent"),
        }  # fmt: skip
        theirs = store.for_profile("alice").notices()
        assert {(n.channel, n.status, n.attempts) for n in theirs} == {
            ("email", "sent", 1), ("phone", "sent", 1),
        }  # fmt: skip
        assert store.for_profile("carol").notices() == []


def test_serve_tells_every_readers_channels_once_when_no_run_made_the_digest(
    arxiv: LabArxiv,
    hooks: Hooks,
    inbox: tuple[Inbox, int],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    box, port = inbox
    settings = lab(httpserver, port, tmp_path)
    run_at(settings, YESTERDAY)
    sent_before = len(box.messages)

    told = watch_missed(settings, OUTAGE + dt.timedelta(hours=3))
    again = watch_missed(settings, OUTAGE + dt.timedelta(hours=5))

    assert sorted(o.status for o in told) == ["notice sent"] * 5
    assert sorted(o.status for o in again) == ["notice already sent"] * 5
    assert len(notices(hooks, "lab")) == len(notices(hooks, "alice")) == 1
    assert len(box.messages) - sent_before == 3


def test_after_run_profile_alone_the_others_are_told_their_digest_is_missing(
    arxiv: LabArxiv,
    hooks: Hooks,
    inbox: tuple[Inbox, int],
    combined_feed: bytes,
    tmp_path: Path,
) -> None:
    box, port = inbox
    settings = lab(arxiv.server, port, tmp_path)
    arxiv.body = feed_of(combined_feed, "Tue, 01 Dec 2026")
    run_at(settings, YESTERDAY - dt.timedelta(days=1))  # the store was in use before
    arxiv.body = feed_of(combined_feed, "Wed, 02 Dec 2026")
    run_at(settings, YESTERDAY, only="bob")
    sent_before = len(box.messages)

    told = watch_missed(settings, YESTERDAY + dt.timedelta(hours=3))

    assert sorted(o.channel for o in told) == ["email", "email", "generic", "phone"]
    [notice] = notices(hooks, "lab")
    assert notice["text"].startswith(
        "arXiv digest: no digest for 2026-12-02: only bob's digest was made (run --profile);"
    )
    told_by_mail = [to for (_, rcpt) in box.envelopes[sent_before:] for to in rcpt]
    assert sorted(told_by_mail) == ["alice@example.org", LAB]  # bob has his
