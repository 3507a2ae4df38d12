"""One short notice to the delivery channels when an announcement day has no digest.

"arXiv digest: no digest for 2026-12-03: <why>; next try at Fri 2026-12-04 12:00 UTC"
goes to every configured channel once per day: the store keeps what each channel got
(``notices``, as ``deliveries`` for digests), so a second failing run that day sends
nothing, and a channel that could not be told is tried again by the next run that finds
the day still missing. Plain text on every platform, through the digest's own senders.

In team mode every reader's channels are told: the config's own (the lab's shared ones)
and each member's, once each, when that reader has no digest of the day. A notice names
the day and why, never a paper, so a private member's says nothing of anyone's picks.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.config.delivery import EmailSettings, GenericChannel, TelegramChannel
from arxiv_digest.delivery.chat import ChatError, MissingSecret, send_chat
from arxiv_digest.delivery.chat_text import clip, plain
from arxiv_digest.delivery.dispatch import Channel, channel_label, configured_channels
from arxiv_digest.delivery.email import EmailError, send_email
from arxiv_digest.delivery.outline import Outline
from arxiv_digest.errors import DigestError
from arxiv_digest.models import DeliveryOutcome, NoticeRecord
from arxiv_digest.retry import RetryPolicy, Sleep
from arxiv_digest.sources.calendar import moment_label, next_run
from arxiv_digest.sources.http import make_client
from arxiv_digest.store import Store
from arxiv_digest.team.members import members
from arxiv_digest.watch import Missing, has_digest, missing_day

__all__ = [
    "has_channels",
    "notice_body",
    "notice_email",
    "notice_text",
    "notify_missed",
    "watch_missed",
]

log = logging.getLogger(__name__)
WHY_CHARS = 400  # the whole notice stays one short message on every platform
TITLE = "arXiv digest"


def notice_text(missing: Missing, next_try: str) -> str:
    why = clip(plain(missing.why), WHY_CHARS)
    return f"{TITLE}: no digest for {missing.day.isoformat()}: {why}; next try at {next_try}"


def notice_body(channel: Channel, text: str, day: dt.date) -> dict[str, object]:
    """The platform's plain-text message (no markup: nothing to escape)."""
    if isinstance(channel, TelegramChannel):
        return {
            "chat_id": channel.chat_id,
            "text": text,
            "link_preview_options": {"is_disabled": True},
        }
    if isinstance(channel, GenericChannel):
        return {"type": "notice", "date": day.isoformat(), "title": TITLE, "text": text}
    bodies: dict[str, dict[str, object]] = {
        "slack": {"text": text},
        "discord": {"content": text, "allowed_mentions": {"parse": []}},
        "feishu": {"msg_type": "text", "content": {"text": text}},
        "dingtalk": {"msgtype": "text", "text": {"content": text}},
        "wecom": {"msgtype": "text", "text": {"content": text}},
    }
    return bodies[str(getattr(channel, "type", ""))]


def notice_email(email: EmailSettings, text: str, day: dt.date, now: dt.datetime) -> EmailMessage:
    message = EmailMessage(policy=SMTP.clone(cte_type="7bit"))
    message["Subject"] = f"{TITLE}: no digest for {day.isoformat()}"
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=f"notice{day:%Y%m%d}", domain=_domain(email))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message.set_content(text + "\n", charset="utf-8")
    return message


def _domain(email: EmailSettings) -> str:
    """The sender's domain for the Message-ID (never this machine's name)."""
    domain = parseaddr(email.sender)[1].rpartition("@")[2].strip("[]")
    try:
        return domain.encode("idna").decode("ascii") or "arxiv-digest.invalid"
    except UnicodeError:
        return "arxiv-digest.invalid"


def _readers(settings: Settings, store: Store) -> list[tuple[Settings, Store, bool]]:
    """Every reader with channels: the config's own, then each team member's (the flag
    says which: a member is told only of a day they have no digest of)."""
    readers = [(settings, store, False)]
    readers += [(m.settings, m.store(store), True) for m in members(settings)]
    return [reader for reader in readers if reader[0].delivery is not None]


def has_channels(settings: Settings) -> bool:
    """Whether anyone is to be told of a missing digest: the config's channels, or in team
    mode a member's own."""
    return settings.delivery is not None or any(m.settings.delivery for m in members(settings))


def notify_missed(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    *,
    now: dt.datetime,
    environ: Mapping[str, str] = os.environ,
    sleep: Sleep | None = None,
) -> list[DeliveryOutcome]:
    """Tell every channel that the day :func:`missing_day` names has no digest, once; in
    team mode each member's channels too, unless the member has their digest of that day.

    The day is the config's own: its run is the day's ingestion for every member (a run
    that fails fetching has no member rows at all)."""
    readers = _readers(settings, store)
    missing = missing_day(settings, store, now) if readers else None
    if missing is None:
        return []
    schedule = settings.schedule
    text = notice_text(missing, moment_label(next_run(now, schedule), schedule.timezone))
    outcomes: list[DeliveryOutcome] = []
    for view, view_store, member in readers:
        if view.delivery is None or (member and has_digest(view_store, missing.day)):
            continue
        notifier = _Notifier(view, view_store, client, now, environ, sleep)
        channels = configured_channels(view.delivery)
        outcomes += [notifier.notify(channel, missing.day, text) for channel in channels]
    return outcomes


@dataclass(slots=True)
class _Notifier:
    settings: Settings
    store: Store
    client: httpx2.Client
    now: dt.datetime
    environ: Mapping[str, str]
    sleep: Sleep | None

    def notify(self, channel: Channel, day: dt.date, text: str) -> DeliveryOutcome:
        label = channel_label(channel)
        record = self.store.notice(day, label)
        if record is not None and record.status == "sent":
            return DeliveryOutcome(day, label, "notice already sent")
        attempts = (record.attempts if record else 0) + 1
        try:
            self._send(channel, text, day)
        except MissingSecret as exc:
            log.warning("notice to %s skipped: %s", label, exc)
            return DeliveryOutcome(day, label, "notice skipped", detail=str(exc))
        except Exception as exc:  # one channel's failure, whatever it is, is its own
            reason = _one_line(exc)
            log.error("notice of the missing %s digest to %s failed: %s", day, label, reason)
            self._save(day, label, "failed", text, attempts=attempts, error=reason)
            return DeliveryOutcome(day, label, "notice failed", detail=reason)
        self._save(day, label, "sent", text, attempts=attempts)
        log.warning("told %s: %s", label, text)
        return DeliveryOutcome(day, label, "notice sent", 1, text)

    def _send(self, channel: Channel, text: str, day: dt.date) -> None:
        http = self.settings.http
        if isinstance(channel, EmailSettings):
            password = None
            if channel.username is not None:
                password = self.environ.get(channel.password_env, "")
                if not password:
                    raise MissingSecret(f"email: {channel.password_env} is not set")
            policy = RetryPolicy(http.retries, http.backoff, http.max_backoff)
            message = notice_email(channel, text, day, self.now)
            send_email(channel, message, password=password, policy=policy, sleep=self.sleep)
            return
        send_chat(
            channel,
            Outline(day, TITLE, (), 0, None, ()),  # unused: the message is given
            environ=self.environ,
            client=self.client,
            http=http,
            sleep=self.sleep,
            messages=[notice_body(channel, text, day)],
        )

    def _save(
        self, day: dt.date, label: str, status: str, text: str, *, attempts: int, error: str = ""
    ) -> None:
        record = NoticeRecord(day, label, status, text, attempts, error, self.now)
        self.store.save_notice(record)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ChatError | EmailError | DigestError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # Its text may hold a webhook URL (an invalid one, say): the type alone is shown.
    return f"unexpected {type(exc).__name__}"


def watch_missed(settings: Settings, now: dt.datetime) -> list[DeliveryOutcome]:
    """``serve``'s daily look, at ``schedule.time`` plus the grace period: a digest that no
    run made (the runner never started) is told to the channels, as a failed run does."""
    with make_client(settings.http) as client, Store(settings.store.url) as store:
        latest = store.runs(1)
        if latest and latest[0]["status"] == "running":
            return []  # a run is at it, and tells the channels itself if it fails
        return notify_missed(settings, store, client, now=now)
