"""Polite, resilient GETs against arXiv.

One function, :func:`get`, used by every source: timeouts, a User-Agent naming the tool,
retries with exponential backoff and jitter that honour ``Retry-After`` on 429/503, and
conditional requests (ETag / Last-Modified). After the last try it raises FetchError.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from arxiv_digest import __version__
from arxiv_digest.config import HttpSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Validators

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status: int  # 200 or 304
    content: bytes
    content_type: str
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _RetryableStatus(Exception):
    def __init__(self, response: httpx2.Response) -> None:
        super().__init__(f"HTTP {response.status_code} {response.reason_phrase}")
        self.response = response


def make_client(
    settings: HttpSettings, transport: httpx2.BaseTransport | None = None
) -> httpx2.Client:
    user_agent = (
        f"arxiv-digest/{__version__} (+https://github.com/arxiv-digest; {settings.contact})"
    )
    return httpx2.Client(
        timeout=httpx2.Timeout(settings.timeout),
        headers={"User-Agent": user_agent},
        follow_redirects=True,
        transport=transport,
    )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Wait:
    """Retry-After when the server gives one (capped), else exponential backoff + jitter."""

    def __init__(self, settings: HttpSettings) -> None:
        self.cap = settings.max_backoff
        self.backoff = wait_exponential_jitter(
            multiplier=settings.backoff, max=settings.max_backoff, jitter=settings.backoff
        )

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _RetryableStatus):
            asked = retry_after_seconds(error.response.headers.get("Retry-After"))
            if asked is not None:
                return min(asked, self.cap)
        return float(self.backoff(state))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning("request failed (%s); retry %d in %.1f s", error, state.attempt_number, wait)


def get(
    client: httpx2.Client,
    url: str,
    settings: HttpSettings,
    *,
    params: dict[str, str] | None = None,
    validators: Validators | None = None,
    accept_status: frozenset[int] = frozenset(),
    sleep: Sleep | None = None,
) -> Response:
    """GET with retries; statuses in ``accept_status`` are returned instead of raised."""
    headers: dict[str, str] = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified

    def attempt() -> httpx2.Response:
        response = client.get(url, params=params, headers=headers)
        if response.status_code in RETRYABLE_STATUS:
            raise _RetryableStatus(response)
        return response

    retrying = Retrying(
        stop=stop_after_attempt(settings.retries + 1),
        wait=_Wait(settings),
        retry=retry_if_exception_type((_RetryableStatus, httpx2.TransportError)),
        before_sleep=_log_retry,
        sleep=sleep if sleep is not None else time.sleep,
        reraise=True,
    )
    shown = url if not params else f"{url}?{httpx2.QueryParams(params)}"
    try:
        response = retrying(attempt)
    except (_RetryableStatus, httpx2.TransportError) as exc:
        tries = settings.retries + 1
        raise FetchError(f"GET {shown} failed after {tries} attempt(s): {exc}") from exc
    if response.status_code == 304:
        content = b""
    elif response.status_code >= 400 and response.status_code not in accept_status:
        raise FetchError(
            f"GET {shown} failed: HTTP {response.status_code} {response.reason_phrase}"
        )
    else:
        content = response.content
    return Response(
        url=str(response.url),
        status=response.status_code,
        content=content,
        content_type=response.headers.get("Content-Type", ""),
        validators=Validators(
            etag=response.headers.get("ETag") or (validators.etag if validators else None),
            last_modified=response.headers.get("Last-Modified")
            or (validators.last_modified if validators else None),
        ),
    )
