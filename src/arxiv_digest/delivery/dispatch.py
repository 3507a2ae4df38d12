"""Sending published digests to every configured channel, each exactly once.

The store keeps, per digest day and channel, how many of that channel's messages arrived.
A channel that has its digest is skipped; one that failed part-way goes on from the first
message that did not arrive, on the next run (and only that channel). One channel's
failure, whatever it is, is that channel's outcome and never stops another.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.config.delivery import ChatChannel, DeliverySettings, EmailSettings
from arxiv_digest.delivery.chat import ChatError, MissingSecret, chat_messages, send_chat
from arxiv_digest.delivery.email import EmailError, build_message, send_email
from arxiv_digest.delivery.outline import Outline, make_outline
from arxiv_digest.errors import DigestError
from arxiv_digest.models import DeliveryOutcome, DeliveryRecord, PublishedDigest
from arxiv_digest.publish.content import published_days
from arxiv_digest.retry import RetryPolicy, Sleep
from arxiv_digest.store import Store

log = logging.getLogger(__name__)

# A day whose delivery failed is tried again by the runs of the next week, then given up.
RETRY_DAYS = 7
Channel = EmailSettings | ChatChannel


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """What to deliver: by default the latest digest and any unfinished recent day."""

    day: dt.date | None = None  # only this digest day
    channels: tuple[str, ...] = ()  # only these channel labels (default: every one)
    resend: bool = False  # send even what was sent
    dry_run: bool = False  # render and report, send and record nothing


def channel_label(channel: Channel) -> str:
    return "email" if isinstance(channel, EmailSettings) else channel.label


def secret_variables(channel: Channel) -> list[str]:
    """The environment variables this channel reads its secrets from."""
    if isinstance(channel, EmailSettings):
        return [channel.password_env] if channel.username is not None else []
    names = [getattr(channel, key, None) for key in ("url_env", "token_env", "secret_env")]
    return [name for name in names if name]


def missing_secrets(channel: Channel, environ: Mapping[str, str] = os.environ) -> list[str]:
    return [name for name in secret_variables(channel) if not environ.get(name, "").strip()]


def configured_channels(delivery: DeliverySettings) -> list[Channel]:
    return ([delivery.email] if delivery.email is not None else []) + list(delivery.chat)


def deliver(
    settings: Settings,
    store: Store,
    client: httpx2.Client,
    *,
    now: dt.datetime,
    request: DeliveryRequest = DeliveryRequest(),
    environ: Mapping[str, str] = os.environ,
    sleep: Sleep | None = None,
) -> list[DeliveryOutcome]:
    """Deliver what is due; one outcome per (day, channel) considered."""
    delivery = settings.delivery
    if delivery is None:
        return []
    channels = [
        c
        for c in configured_channels(delivery)
        if not request.channels or channel_label(c) in request.channels
    ]
    if not channels:
        return []
    sender = _Sender(
        settings=settings,
        delivery=delivery,
        store=store,
        client=client,
        now=now,
        environ=environ,
        sleep=sleep,
        dry_run=request.dry_run,
    )
    outcomes: list[DeliveryOutcome] = []
    for day in _days_due(store, now.date(), request):
        for channel in channels:
            outcomes.append(sender.deliver_day(day, channel, resend=request.resend))
    return outcomes


def _days_due(store: Store, today: dt.date, request: DeliveryRequest) -> list[PublishedDigest]:
    """Oldest first: the latest digest, and recent days some channel has not finished."""
    if request.day is not None:
        return [d for d in published_days(store, since=request.day) if d.date == request.day]
    recent = published_days(store, since=today - dt.timedelta(days=RETRY_DAYS))
    if not recent:
        runs = store.published_runs()  # a first delivery of an older digest
        return list(published_days(store, since=runs[0][0])[:1]) if runs else []
    unfinished = _unfinished_days(store, recent[-1].date)
    due = [d for d in recent[1:] if d.date in unfinished]
    return [*reversed(due), recent[0]]


def _unfinished_days(store: Store, since: dt.date) -> set[dt.date]:
    return {r.digest_date for r in store.deliveries(since=since) if r.status != "sent"}


@dataclass(slots=True)
class _Sender:
    settings: Settings
    delivery: DeliverySettings
    store: Store
    client: httpx2.Client
    now: dt.datetime
    environ: Mapping[str, str]
    sleep: Sleep | None
    dry_run: bool

    def deliver_day(
        self, day: PublishedDigest, channel: Channel, *, resend: bool
    ) -> DeliveryOutcome:
        label = channel_label(channel)
        record = self.store.delivery(day.date, label)
        if record is not None and record.status == "sent" and not resend:
            return DeliveryOutcome(day.date, label, "already sent", record.messages_total)
        if not day.entries and not self.delivery.send_empty:
            return DeliveryOutcome(
                day.date, label, "skipped", detail="no papers (delivery.send_empty is off)"
            )
        outline = make_outline(day, self.settings, self.delivery.max_items)
        if self.dry_run:
            return self._preview(day.date, label, channel, outline)
        start = record.messages_sent if record and record.status == "partial" and not resend else 0
        attempts = (record.attempts if record else 0) + 1
        try:
            total = self._send(channel, outline, start, day.date, attempts)
        except MissingSecret as exc:
            log.warning("delivery to %s skipped: %s", label, exc)
            return DeliveryOutcome(day.date, label, "skipped", detail=str(exc))
        except Exception as exc:  # one channel's failure, whatever it is, is its own
            reason = _one_line(exc)
            log.error("delivery of the %s digest to %s failed: %s", day.date, label, reason)
            self._record_failure(day.date, label, attempts, reason)
            return DeliveryOutcome(day.date, label, "failed", detail=reason)
        self._save(day.date, label, "sent", sent=total, total=total, attempts=attempts)
        log.info("delivered the %s digest to %s (%d message(s))", day.date, label, total)
        return DeliveryOutcome(day.date, label, "sent", total)

    def _send(
        self, channel: Channel, outline: Outline, start: int, day: dt.date, attempts: int
    ) -> int:
        if isinstance(channel, EmailSettings):
            password = self._password(channel)
            message = build_message(channel, outline, now=self.now)
            http = self.settings.http
            policy = RetryPolicy(http.retries, http.backoff, http.max_backoff)
            send_email(channel, message, password=password, policy=policy, sleep=self.sleep)
            return 1
        label = channel.label
        messages = chat_messages(channel, outline)  # made once: counted here, sent below
        total = len(messages)

        def sent(index: int) -> None:
            done = index + 1
            status = "sent" if done >= total else "partial"
            self._save(day, label, status, sent=done, total=total, attempts=attempts)

        return send_chat(
            channel,
            outline,
            environ=self.environ,
            client=self.client,
            http=self.settings.http,
            start=start,
            on_sent=sent,
            sleep=self.sleep,
            messages=messages,
        )

    def _password(self, email: EmailSettings) -> str | None:
        if email.username is None:
            return None
        password = self.environ.get(email.password_env, "")
        if not password:
            raise MissingSecret(f"email: {email.password_env} is not set")
        return password

    def _preview(
        self, day: dt.date, label: str, channel: Channel, outline: Outline
    ) -> DeliveryOutcome:
        if isinstance(channel, EmailSettings):
            message = build_message(channel, outline, now=self.now)
            text = message.get_body(("plain",))
            body = text.get_content() if text is not None else ""
            detail = f"Subject: {message['Subject']}\nTo: {message['To']}\n\n{body}"
            return DeliveryOutcome(day, label, "would send", 1, detail)
        messages = chat_messages(channel, outline)
        detail = "\n".join(json.dumps(m, ensure_ascii=False, indent=2) for m in messages)
        return DeliveryOutcome(day, label, "would send", len(messages), detail)

    def _record_failure(self, day: dt.date, label: str, attempts: int, reason: str) -> None:
        record = self.store.delivery(day, label)
        sent = record.messages_sent if record and record.status == "partial" else 0
        total = record.messages_total if record else 0
        status = "partial" if sent else "failed"
        self._save(day, label, status, sent=sent, total=total, attempts=attempts, error=reason)

    def _save(
        self,
        day: dt.date,
        label: str,
        status: str,
        *,
        sent: int,
        total: int,
        attempts: int,
        error: str = "",
    ) -> None:
        self.store.save_delivery(
            DeliveryRecord(day, label, status, sent, total, attempts, error, self.now)
        )


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ChatError | EmailError | DigestError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # Its text may hold a webhook URL (an invalid one, say): the type alone is shown.
    return f"unexpected {type(exc).__name__}"
