"""Chat delivery: the digest POSTed to Slack, Discord, Feishu, DingTalk, WeCom, Telegram or
any webhook, as that platform's own messages (built in ``chat_formats``).

    ChatError        a message could not be delivered; one line, never a URL, token or secret
    └── MissingSecret  an environment variable the channel names is unset (nothing was sent)

Webhook URLs, bot tokens and signing secrets come from the environment when a digest is
sent and appear nowhere else: errors and logs name the channel and the variable instead.
A digest of several messages is sent in order; ``on_sent`` hears of each one delivered, so
that a run which failed halfway can resume with ``start`` instead of repeating itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from arxiv_digest.config import HttpSettings
from arxiv_digest.config.delivery import (
    ChatChannel,
    DiscordChannel,
    FeishuChannel,
    GenericChannel,
    SlackChannel,
    TelegramChannel,
)
from arxiv_digest.delivery import chat_formats as formats
from arxiv_digest.delivery.chat_text import Format, clip, plain
from arxiv_digest.delivery.outline import Outline
from arxiv_digest.errors import FetchError
from arxiv_digest.retry import RetryPolicy, Sleep, retrying
from arxiv_digest.sources.http import Response
from arxiv_digest.sources.http import post as http_post

__all__ = ["ChatError", "MissingSecret", "chat_messages", "send_chat"]

log = logging.getLogger(__name__)

# Every 4xx but 429 comes back as an answer, so that the platform's own reason can be shown;
# 429 and 5xx are retried by ``http.post`` (Retry-After honoured).
_ANSWERED = frozenset(range(400, 500)) - {429}
_REASON_CHARS = 200
# Answers (HTTP 200) that mean "too many messages, later": WeCom 45009 (api freq out of
# limit), DingTalk 130101 (send too fast, over 20 a minute), Feishu 11232 (frequency
# limited). Their limits count per minute, so the message is tried again a minute later,
# up to ``http.retries`` times, and only then is the channel's failure.
THROTTLED = {
    "wecom": frozenset({45009}),
    "dingtalk": frozenset({130101}),
    "feishu": frozenset({11232}),
}
THROTTLE_WAIT = 60.0
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class ChatError(Exception):
    """A chat message was not delivered."""


class MissingSecret(ChatError):
    """An environment variable named by the channel is unset or empty."""


def chat_messages(channel: ChatChannel, outline: Outline) -> list[dict[str, object]]:
    """The JSON bodies to POST, in order, each within the platform's limits (unsigned)."""
    if isinstance(channel, GenericChannel):
        return [_generic_body(outline)]  # one request, never split
    return _format(channel).messages(outline)


def _generic_body(outline: Outline) -> dict[str, object]:
    """The whole digest as JSON: every field of every paper, the summary as written."""
    return {
        "date": outline.date.isoformat(),
        "title": outline.title,
        "total": outline.total,
        "count": outline.count,
        "omitted": outline.omitted,
        "site_url": outline.site_url,
        "categories": list(outline.categories),
        "items": [
            {
                "rank": i.rank,
                "arxiv_id": i.arxiv_id,
                "title": i.title,
                "abs_url": i.abs_url,
                "pdf_url": i.pdf_url,
                "authors": list(i.authors),
                "category": i.category,
                "score": i.score,
                "matched": list(i.matched),
                "why": i.why,
                "abstract": i.abstract,
                "summary": i.summary,
                "summary_model": i.summary_model,
                "rate_up": i.rate_up,
                "rate_down": i.rate_down,
            }
            for i in outline.items
        ],
    }


def _format(channel: ChatChannel) -> Format[Any]:
    if isinstance(channel, TelegramChannel):
        return formats.TelegramFormat(channel.chat_id)
    builders: dict[str, type[Format[Any]]] = {
        "slack": formats.SlackFormat,
        "discord": formats.DiscordFormat,
        "feishu": formats.FeishuFormat,
        "dingtalk": formats.DingTalkFormat,
        "wecom": formats.WeComFormat,
    }
    return builders[channel.type]()


def send_chat(
    channel: ChatChannel,
    outline: Outline,
    *,
    environ: Mapping[str, str],
    client: httpx2.Client,
    http: HttpSettings,
    start: int = 0,
    on_sent: Callable[[int], None] = lambda i: None,
    sleep: Sleep | None = None,
    now: Callable[[], float] = time.time,
    messages: list[dict[str, object]] | None = None,
) -> int:
    """POST ``messages[start:]`` in order, calling ``on_sent(index)`` after each; returns how
    many messages the digest has. ``messages`` are :func:`chat_messages` of the outline, if
    the caller has made them already. Raises MissingSecret before any request when a
    variable is unset, and ChatError when a message is refused or keeps failing."""
    target = _target(channel, environ)
    if messages is None:
        messages = chat_messages(channel, outline)
    for index in range(max(start, 0), len(messages)):
        where = f"{channel.label}: message {index + 1} of {len(messages)}"

        def attempt(message: dict[str, object] = messages[index]) -> str | None:
            """The platform's refusal of one try (None: delivered); _Throttled to retry."""
            url, body = target.signed(message, now())  # signed anew: signatures expire
            response = http_post(
                client,
                url,
                http,
                json=body,
                shown=target.shown,
                accept_status=_ANSWERED,
                sleep=sleep,
            )
            code, refusal = _answer(channel, response)
            if refusal is not None and code in THROTTLED.get(channel.type, ()):
                raise _Throttled(refusal)
            return refusal

        attempts = retrying(
            RetryPolicy(http.retries, http.backoff, http.max_backoff),
            (_Throttled,),
            retry_after=lambda error: THROTTLE_WAIT,
            sleep=sleep,
            what=where,
        )
        try:
            refusal = attempts(attempt)
        except FetchError as exc:
            raise ChatError(f"{where}: {target.scrub(str(exc))}") from None
        except _Throttled as exc:
            tries = http.retries + 1
            raise ChatError(
                f"{where} was refused {tries} time(s): {target.scrub(str(exc))}"
            ) from None
        if refusal is not None:
            raise ChatError(f"{where} was refused: {target.scrub(refusal)}")
        log.info("%s delivered", where)
        on_sent(index)
    return len(messages)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one channel's messages go, with the secrets needed to get them there."""

    kind: str
    url: str
    shown: str  # the channel's name for logs and errors, in place of the URL
    secret: str | None = None  # the signing secret (Feishu, DingTalk)
    hidden: tuple[str, ...] = ()  # more that must never be shown (a bot token)

    def signed(self, body: dict[str, object], now: float) -> tuple[str, dict[str, object]]:
        """The URL and body of one request, signed as the platform asks when a secret is set."""
        if self.secret is None:
            return self.url, body
        if self.kind == "feishu":
            stamp = str(int(now))
            return self.url, {**body, "timestamp": stamp, "sign": feishu_sign(stamp, self.secret)}
        stamp = str(int(now * 1000))
        params = {"timestamp": stamp, "sign": dingtalk_sign(stamp, self.secret)}
        return str(httpx2.URL(self.url).copy_merge_params(params)), body

    def scrub(self, text: str) -> str:
        """``text`` on one line, short, with nothing of the URL's secrets or the secret."""
        secrets = [self.url, self.secret or "", *self.hidden, *_url_secrets(self.url)]
        for secret in sorted(filter(None, secrets), key=len, reverse=True):
            text = text.replace(secret, "[hidden]")
        return clip(plain(text), _REASON_CHARS)


def feishu_sign(timestamp: str, secret: str) -> str:
    """Feishu's signature: HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing, base64."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """DingTalk's signature: HMAC-SHA256 keyed by the secret over "timestamp\\nsecret", base64
    (URL-encoded when it is put in the query)."""
    message = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _target(channel: ChatChannel, environ: Mapping[str, str]) -> _Target:
    def need(variable: str) -> str:
        value = environ.get(variable, "").strip()
        if not value:
            raise MissingSecret(f"{channel.label}: {variable} is not set")
        return value

    if isinstance(channel, TelegramChannel):
        token = need(channel.token_env)
        url = f"{channel.api_url.rstrip('/')}/bot{token}/sendMessage"
        return _Target("telegram", url, f"{channel.label} bot", hidden=(token,))
    url = need(channel.url_env)
    secret_env = getattr(channel, "secret_env", None)
    secret = need(secret_env) if secret_env else None
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ChatError(f"{channel.label}: {channel.url_env} is not an http(s) URL")
    return _Target(channel.type, url, f"{channel.label} webhook", secret)


def _url_secrets(url: str) -> list[str]:
    """The parts of a webhook URL that may be its key: query values and long path segments."""
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        return []
    values = [value for _, value in parsed.params.multi_items()]
    return [v for v in [*values, *parsed.path.split("/")] if len(v) >= 8]


class _Throttled(Exception):
    """The platform took the request but asks for fewer messages a minute."""


def _answer(channel: ChatChannel, response: Response) -> tuple[object, str | None]:
    """The platform's code in its answer (None where it gives none) and its reason for
    refusing the message (None when it took it)."""
    text = response.content.decode("utf-8", "replace").strip()
    if isinstance(channel, SlackChannel):
        return None, None if response.status < 300 and text == "ok" else text or _status(response)
    if isinstance(channel, DiscordChannel | GenericChannel):
        return None, _webhook_refusal(channel, response, text)
    answer = _json(text)
    if isinstance(channel, FeishuChannel):
        code = answer.get("code", answer.get("StatusCode"))
        reason = answer.get("msg", answer.get("StatusMessage"))
    elif isinstance(channel, TelegramChannel):
        code = 0 if answer.get("ok") is True else answer.get("error_code", "?")
        reason = answer.get("description")
    else:  # DingTalk, WeCom
        code, reason = answer.get("errcode"), answer.get("errmsg")
    if response.status < 300 and code == 0:
        return code, None
    if code is None:
        return None, f"{_status(response)}, not the expected answer"
    return code, f"code {code}: {reason or _status(response)}"


def _webhook_refusal(
    channel: DiscordChannel | GenericChannel, response: Response, text: str
) -> str | None:
    """Why Discord or a generic webhook did not take the message; None when it did.

    Discord answers 204 and no body (or the message as JSON with ``?wait=true``); any other
    webhook, a 2xx. An HTML page is nobody's webhook answer, whatever its status: a login
    page, a proxy's or captive portal's page, or a website at the URL instead of a webhook.
    """
    if response.status < 300 and _is_html(response):
        return f"{_status(response)} with an HTML page, not a webhook's answer"
    if response.status >= 300:
        reason = _json(text).get("message") if isinstance(channel, DiscordChannel) else None
        return str(reason or text or _status(response))
    if isinstance(channel, DiscordChannel) and text and not _json(text):
        return f"{_status(response)}, not Discord's answer"
    return None


def _is_html(response: Response) -> bool:
    """A page: an HTML type or an HTML start (an empty body is no page, whatever its type)."""
    start = response.content[:256].lstrip().lower()
    kind = response.content_type.partition(";")[0].strip().lower()
    return bool(start) and (kind in _HTML_TYPES or start.startswith((b"<!doctype html", b"<html")))


def _json(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _status(response: Response) -> str:
    return f"HTTP {response.status}"
