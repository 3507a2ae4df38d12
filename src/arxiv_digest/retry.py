"""One retry policy for every remote call (arXiv, PDFs, the LLM): exponential backoff with
jitter, or exactly what the server asked for in ``Retry-After`` (capped)."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]
RetryAfter = Callable[[BaseException], float | None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int  # extra attempts after the first
    backoff: float  # first wait, doubling each time
    max_backoff: float  # cap on any wait, Retry-After included


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_after_header(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` (used by OpenAI-compatible servers) or ``Retry-After``."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    return retry_after_seconds(headers.get("Retry-After"))


class _Wait:
    def __init__(self, policy: RetryPolicy, retry_after: RetryAfter) -> None:
        self.cap = policy.max_backoff
        self.retry_after = retry_after
        self.backoff = wait_exponential_jitter(
            multiplier=policy.backoff, max=policy.max_backoff, jitter=policy.backoff
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = self.retry_after(error) if error is not None else None
        if asked is not None:
            return min(asked, self.cap)
        return float(self.backoff(state))


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s failed (%s); retry %d in %.1f s", what, error, state.attempt_number, wait)

    return before_sleep


def retrying(
    policy: RetryPolicy,
    retry_on: tuple[type[BaseException], ...],
    *,
    retry_after: RetryAfter = lambda error: None,
    sleep: Sleep | None = None,
    what: str = "request",
) -> Retrying:
    """A tenacity ``Retrying`` that re-raises the last error once attempts run out."""
    return Retrying(
        stop=stop_after_attempt(policy.retries + 1),
        wait=_Wait(policy, retry_after),
        retry=retry_if_exception_type(retry_on),
        before_sleep=_log_retry(what),
        sleep=sleep if sleep is not None else time.sleep,
        reraise=True,
    )
