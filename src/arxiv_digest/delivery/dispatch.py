"""Sending published digests to every configured channel, each exactly once.

The store keeps, per digest day and channel, how many of that channel's messages arrived.
A channel that has its digest is skipped; one that failed part-way goes on from the first
message that did not arrive, on the next run (and only that channel). The e-mail's recipients
that the server refused for now (a 4xx, when the others took it) are kept as that channel's
pending ones: the next run sends it to them alone. One channel's failure, whatever it is, is
that channel's outcome and never stops another.
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
from arxiv_digest.delivery.email import (
    EmailError,
    Refused,
    build_message,
    envelope_recipients,
    send_email,
)
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
        resumed = record if record is not None and record.status == "partial" else None
        attempts = (record.attempts if record else 0) + 1
        return self._attempt(day.date, channel, outline, None if resend else resumed, attempts)

    def _attempt(
        self,
        day: dt.date,
        channel: Channel,
        outline: Outline,
        resumed: DeliveryRecord | None,
        attempts: int,
    ) -> DeliveryOutcome:
        """Send what is due (from where ``resumed`` stopped); record and return the outcome."""
        label = channel_label(channel)
        try:
            if isinstance(channel, EmailSettings):
                pending = resumed.pending if resumed is not None else ()
                return self._email(day, channel, outline, attempts, pending)
            start = resumed.messages_sent if resumed is not None else 0
            total = self._chat(channel, outline, start, day, attempts)
        except MissingSecret as exc:
            log.warning("delivery to %s skipped: %s", label, exc)
            return DeliveryOutcome(day, label, "skipped", detail=str(exc))
        except Exception as exc:  # one channel's failure, whatever it is, is its own
            reason = _one_line(exc)
            log.error("delivery of the %s digest to %s failed: %s", day, label, reason)
            self._record_failure(day, label, attempts, reason)
            return DeliveryOutcome(day, label, "failed", detail=reason)
        return self._sent(day, label, total, attempts)

    def _sent(
        self, day: dt.date, label: str, total: int, attempts: int, detail: str = ""
    ) -> DeliveryOutcome:
        self._save(day, label, "sent", sent=total, total=total, attempts=attempts)
        log.info("delivered the %s digest to %s (%d message(s))", day, label, total)
        return DeliveryOutcome(day, label, "sent", total, detail)

    def _email(
        self,
        day: dt.date,
        channel: EmailSettings,
        outline: Outline,
        attempts: int,
        pending: tuple[str, ...],
    ) -> DeliveryOutcome:
        """One e-mail to every recipient, or to those still due; the ones the server
        refused for now are this channel's pending recipients, and it is not done."""
        recipients = _email_recipients(channel, pending)
        if not recipients:  # the pending ones were taken out of delivery.email.to
            return self._sent(day, "email", 1, attempts)
        password = self._password(channel)
        message = build_message(channel, outline, now=self.now)
        http = self.settings.http
        policy = RetryPolicy(http.retries, http.backoff, http.max_backoff)
        refused = send_email(
            channel,
            message,
            password=password,
            policy=policy,
            sleep=self.sleep,
            recipients=recipients,
        )
        if not refused.for_now:
            return self._sent(day, "email", 1, attempts, _refused_for_good(refused))
        reason = _refused_for_now(refused)
        log.error("delivery of the %s digest to email is not complete: %s", day, reason)
        self._save(
            day,
            "email",
            "partial",
            sent=1,
            total=1,
            attempts=attempts,
            error=reason,
            pending=tuple(refused.for_now),
        )
        return DeliveryOutcome(day, "email", "failed", 1, reason)

    def _chat(
        self, channel: ChatChannel, outline: Outline, start: int, day: dt.date, attempts: int
    ) -> int:
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
        partial = record is not None and record.status == "partial"
        sent = record.messages_sent if record is not None and partial else 0
        pending = record.pending if record is not None and partial else ()
        total = record.messages_total if record else 0
        status = "partial" if sent else "failed"
        self._save(
            day,
            label,
            status,
            sent=sent,
            total=total,
            attempts=attempts,
            error=reason,
            pending=pending,
        )

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
        pending: tuple[str, ...] = (),
    ) -> None:
        self.store.save_delivery(
            DeliveryRecord(day, label, status, sent, total, attempts, error, self.now, pending)
        )


def _email_recipients(channel: EmailSettings, pending: tuple[str, ...]) -> list[str]:
    """Every recipient, or, resuming, those still due that the config still lists."""
    everyone = envelope_recipients(channel)
    return [a for a in everyone if a in pending] if pending else everyone


def _refused_for_now(refused: Refused) -> str:
    """The run report's line for an e-mail some recipients refused for now."""
    parts = [f"refused for now, sent again by the next run: {_replies(refused.for_now)}"]
    if refused.for_good:
        parts.append(f"refused: {_replies(refused.for_good)}")
    return "; ".join([*parts, "the other recipients have it"])


def _refused_for_good(refused: Refused) -> str:
    """The line for an e-mail sent, except to addresses the server will never take."""
    if not refused.for_good:
        return ""
    return f"refused: {_replies(refused.for_good)}; the other recipients have it"


def _replies(replies: dict[str, str]) -> str:
    return ", ".join(f"{address} ({reply})" for address, reply in replies.items())


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ChatError | EmailError | DigestError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # Its text may hold a webhook URL (an invalid one, say): the type alone is shown.
    return f"unexpected {type(exc).__name__}"
