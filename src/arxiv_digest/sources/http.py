"""Polite, resilient GETs against arXiv.

One function, :func:`get`, used by every source: timeouts, a User-Agent naming the tool,
retries with exponential backoff and jitter that honour ``Retry-After`` on 429/503, and
conditional requests (ETag / Last-Modified). After the last try it raises FetchError.

Every client of ours (arXiv, PDFs, and the LLM's, see ``summarize/llm.py``) is a
:class:`DeadlineClient`: its timeout is a deadline for the whole request, not httpx's
per-read timeout, which a server trickling a byte now and then never trips.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    status: int  # 200 or 304 (or one of the caller's ``accept_status``)
    content: bytes
    content_type: str
    validators: Validators
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive from httpx

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _RetryableStatus(Exception):
    def __init__(self, response: httpx2.Response) -> None:
        super().__init__(f"HTTP {response.status_code} {response.reason_phrase}")
        self.response = response


class _DeadlineStream(httpx2.SyncByteStream):
    """A response body that raises ReadTimeout once its request's deadline has passed."""

    def __init__(self, inner: httpx2.SyncByteStream, deadline: float, seconds: float) -> None:
        self.inner = inner
        self.deadline = deadline
        self.seconds = seconds

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            _check(self.deadline, self.seconds)
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _check(deadline: float, seconds: float, request: httpx2.Request | None = None) -> None:
    if time.monotonic() > deadline:
        message = f"no complete response within the {seconds:g} s deadline"
        raise httpx2.ReadTimeout(message, request=request)


class DeadlineClient(httpx2.Client):
    """An ``httpx2.Client`` whose ``deadline`` bounds each request from start to last byte.

    Connecting, waiting for a pooled connection and each read are capped at the deadline
    (httpx's own per-operation timeouts); the body is checked against it after every chunk,
    so a response still arriving at the deadline fails with ``httpx2.ReadTimeout`` at the
    next chunk, at most one read later. Redirects share their request's deadline. It is a
    client rather than a transport wrapper so that httpx still builds its own transports,
    proxies from the environment (HTTPS_PROXY, NO_PROXY) included.

    Limit: httpx offers no hook between the reads of the status line and headers, so a
    server trickling its *headers* is only bounded per read (and by h11's header size cap);
    the deadline is then enforced as soon as the headers are in.
    """

    def __init__(self, *, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = deadline

    def send(
        self,
        request: httpx2.Request,
        *,
        stream: bool = False,
        auth: Any = httpx2.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx2.USE_CLIENT_DEFAULT,
    ) -> httpx2.Response:
        deadline = time.monotonic() + self.deadline
        self._cap_timeouts(request)
        response = super().send(request, stream=True, auth=auth, follow_redirects=follow_redirects)
        try:
            _check(deadline, self.deadline, request)
            assert isinstance(response.stream, httpx2.SyncByteStream)
            response.stream = _DeadlineStream(response.stream, deadline, self.deadline)
            if not stream:
                response.read()
        except BaseException:
            response.close()
            raise
        return response

    def _cap_timeouts(self, request: httpx2.Request) -> None:
        """No single connect, pool wait or read may outlast the whole deadline."""
        timeouts = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            phase: self.deadline
            if timeouts.get(phase) is None
            else min(timeouts[phase], self.deadline)
            for phase in ("connect", "read", "write", "pool")
        }


def make_client(
    settings: HttpSettings, transport: httpx2.BaseTransport | None = None
) -> httpx2.Client:
    """The client for arXiv and PDFs: ``settings.timeout`` is each request's deadline."""
    user_agent = (
        f"arxiv-digest/{__version__} (+https://github.com/arxiv-digest; {settings.contact})"
    )
    return DeadlineClient(
        deadline=settings.timeout,
        timeout=httpx2.Timeout(settings.timeout),
        headers={"User-Agent": user_agent},
        follow_redirects=True,
        transport=transport,
    )


# What a server may say to slow us down: the standard header, and Zotero's own name for it.
RETRY_AFTER_HEADERS = ("Retry-After", "Backoff")


def _retry_after(error: BaseException) -> float | None:
    if not isinstance(error, _RetryableStatus):
        return None
    waits = [retry_after_seconds(error.response.headers.get(h)) for h in RETRY_AFTER_HEADERS]
    waits.append(_retry_after_in_body(error.response))
    return max((w for w in waits if w is not None), default=None)


def _retry_after_in_body(response: httpx2.Response) -> float | None:
    """The wait a 429's JSON body asks for: Telegram's ``parameters.retry_after``, Discord's
    ``retry_after`` (seconds), which may come without a header."""
    if response.status_code != 429 or "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    parameters = body.get("parameters")
    asked = parameters.get("retry_after") if isinstance(parameters, dict) else None
    asked = asked if asked is not None else body.get("retry_after")
    if isinstance(asked, bool) or not isinstance(asked, int | float) or asked < 0:
        return None
    return float(asked)


def get(
    client: httpx2.Client,
    url: str,
    settings: HttpSettings,
    *,
    params: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    validators: Validators | None = None,
    accept_status: frozenset[int] = frozenset(),
    sleep: Sleep | None = None,
) -> Response:
    """GET with retries; statuses in ``accept_status`` are returned instead of raised.

    ``headers`` travel with the request only (an API key there never reaches a message).
    """
    headers = dict(headers or {})
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    shown = url if not params else f"{url}?{httpx2.QueryParams(params)}"
    response = _send(
        lambda: client.get(url, params=params, headers=headers),
        settings,
        f"GET {shown}",
        accept_status,
        sleep,
    )
    return _response(response, validators)


def post(
    client: httpx2.Client,
    url: str,
    settings: HttpSettings,
    *,
    json: object,
    shown: str,
    headers: Mapping[str, str] | None = None,
    accept_status: frozenset[int] = frozenset(),
    sleep: Sleep | None = None,
) -> Response:
    """POST a JSON body with the same retries as :func:`get`.

    ``shown`` names the target in logs and errors in place of the URL, which for a chat
    webhook is itself the secret.
    """
    try:
        response = _send(
            lambda: client.post(url, json=json, headers=dict(headers or {})),
            settings,
            f"POST {shown}",
            accept_status,
            sleep,
        )
    except FetchError as exc:
        raise FetchError(str(exc)) from None  # the cause's traceback would show the URL
    return _response(response, None)


def _send(
    request: Callable[[], httpx2.Response],
    settings: HttpSettings,
    what: str,
    accept_status: frozenset[int],
    sleep: Sleep | None,
) -> httpx2.Response:
    def attempt() -> httpx2.Response:
        response = request()
        if response.status_code in RETRYABLE_STATUS and response.status_code not in accept_status:
            raise _RetryableStatus(response)
        return response

    policy = RetryPolicy(settings.retries, settings.backoff, settings.max_backoff)
    attempts = retrying(
        policy,
        (_RetryableStatus, httpx2.TransportError),
        retry_after=_retry_after,
        sleep=sleep,
        what=what,
    )
    try:
        response = attempts(attempt)
    except (_RetryableStatus, httpx2.TransportError) as exc:
        tries = settings.retries + 1
        raise FetchError(f"{what} failed after {tries} attempt(s): {_safe(exc)}") from exc
    if response.status_code >= 400 and response.status_code not in accept_status:
        raise FetchError(f"{what} failed: HTTP {response.status_code} {response.reason_phrase}")
    return response


def _safe(exc: BaseException) -> str:
    """The error without the request's URL (httpx puts it in some messages)."""
    if isinstance(exc, _RetryableStatus):
        return str(exc)
    return type(exc).__name__ + (": " + str(exc) if "://" not in str(exc) else "")


def _response(response: httpx2.Response, validators: Validators | None) -> Response:
    return Response(
        url=str(response.url),
        status=response.status_code,
        content=b"" if response.status_code == 304 else response.content,
        content_type=response.headers.get("Content-Type", ""),
        validators=Validators(
            etag=response.headers.get("ETag") or (validators.etag if validators else None),
            last_modified=response.headers.get("Last-Modified")
            or (validators.last_modified if validators else None),
        ),
        headers=response.headers,
    )
