"""Polite, resilient GETs against arXiv.

One function, :func:`get`, used by every source: timeouts, a User-Agent naming the tool,
retries with exponential backoff and jitter that honour ``Retry-After`` on 429/503, and
conditional requests (ETag / Last-Modified). After the last try it raises FetchError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx2

from arxiv_digest import __version__
from arxiv_digest.config import HttpSettings
from arxiv_digest.errors import FetchError
from arxiv_digest.models import Validators
from arxiv_digest.retry import RetryPolicy, Sleep, retry_after_seconds, retrying

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


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


def _retry_after(error: BaseException) -> float | None:
    if isinstance(error, _RetryableStatus):
        return retry_after_seconds(error.response.headers.get("Retry-After"))
    return None


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

    policy = RetryPolicy(settings.retries, settings.backoff, settings.max_backoff)
    shown = url if not params else f"{url}?{httpx2.QueryParams(params)}"
    attempts = retrying(
        policy,
        (_RetryableStatus, httpx2.TransportError),
        retry_after=_retry_after,
        sleep=sleep,
        what=f"GET {shown}",
    )
    try:
        response = attempts(attempt)
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
