"""The OpenAI-compatible API through the real ``openai`` SDK, with our retry policy.

429, 5xx, timeouts and connection errors are retried (``Retry-After`` honoured); an empty
or refused completion is a failure, never a summary. Error messages name the API's host
and port, never the key or the URL's user info.

The SDK is imported the first time a call is really due (:meth:`LlmClient.prepare`), not
with this module: it costs most of a second, which a run that finds every summary cached
(or a command that never calls the LLM) should not pay.

The answer's body is checked by our own lenient model rather than the SDK's, which lets a
gateway's HTML error page through as a ``str`` and truncated JSON as a ``JSONDecodeError``:
anything that is not a chat completion is a :class:`MalformedAnswer`, retried once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel, ValidationError

from arxiv_digest.config import AISummarySettings, HttpSettings
from arxiv_digest.errors import SummarizeError
from arxiv_digest.retry import RetryPolicy, Sleep, retry_after_header, retrying
from arxiv_digest.sources.http import DeadlineClient

if TYPE_CHECKING:
    from openai import OpenAI

log = logging.getLogger(__name__)

_THINKING = re.compile(r"<think>.*?</think>", re.S)
# A malformed 200 is most likely a gateway hiccup, worth one more try; more would re-pay a
# provider that bills for answers a broken proxy then mangles.
MALFORMED_RETRIES = 1
DEFAULT_PORTS = {"http": 80, "https": 443}


def _sdk() -> ModuleType:
    """The ``openai`` package, imported on first use."""
    import openai

    return openai


def _retryable() -> tuple[type[Exception], ...]:
    openai = _sdk()
    return (
        openai.RateLimitError,
        openai.InternalServerError,
        openai.APITimeoutError,
        openai.APIConnectionError,
    )


def _fatal() -> tuple[type[Exception], ...]:
    openai = _sdk()
    return (openai.AuthenticationError, openai.PermissionDeniedError)


def endpoint(base_url: str) -> str:
    """``host:port`` of a base URL, for messages: never its user info, path or query."""
    parts = urlsplit(base_url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port that is not a number: the config check lets none through
        port = None
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def connection_failure(error: BaseException) -> str:
    """Why a connection failed, from the OS error under the SDK's and httpx's wrappers:
    "Connection refused", "Name or service not known"... (never a URL)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    return "no connection"


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int


class CredentialsRejected(SummarizeError):
    """The provider refused the key: no point asking again this run."""


class MalformedAnswer(SummarizeError):
    """HTTP 200 whose body is not a chat completion (an HTML page, cut-off JSON...)."""


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Answer(BaseModel):
    """The part of a chat completion we read; extra fields are ignored, as providers vary."""

    choices: list[_Choice]
    usage: _Usage | None = None


def _deadline_client(seconds: float) -> httpx2.Client:
    """The SDK's HTTP client, with ``ai_summary.timeout`` as a deadline for each call.

    Without it the SDK's timeout is httpx's per-read one: a provider or proxy trickling
    its answer could hold a worker for ever. Redirects followed, as the SDK's default does.
    """
    return DeadlineClient(deadline=seconds, timeout=httpx2.Timeout(seconds), follow_redirects=True)


def _parse_answer(response: httpx2.Response) -> _Answer:
    try:
        return _Answer.model_validate_json(response.content)
    except ValidationError as exc:
        not_json = any(error["type"] == "json_invalid" for error in exc.errors())
        what = "a body that is not JSON" if not_json else "JSON that is not a chat completion"
        kind = response.headers.get("Content-Type", "no content type").split(";")[0].strip()
        raise MalformedAnswer(
            f"the LLM API answered HTTP {response.status_code} with {what}"
            f" ({kind}, {len(response.content)} bytes)"
        ) from None


def _retry_after(error: BaseException) -> float | None:
    if isinstance(error, _sdk().APIStatusError):
        return retry_after_header(error.response.headers)
    return None


def _describe(error: Exception, where: str) -> str:
    """One line on a failed call, naming the API's host and port (``where``)."""
    openai = _sdk()
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code} from the LLM API at {where}"
    if isinstance(error, openai.APITimeoutError):
        return f"the LLM API at {where} timed out"
    if isinstance(error, openai.APIConnectionError):
        return f"cannot connect to the LLM API at {where}: {connection_failure(error)}"
    return type(error).__name__


class LlmClient:
    """One provider's API; the SDK and its client are made by the first call (or
    :meth:`prepare`), once, whichever thread comes first."""

    def __init__(
        self,
        settings: AISummarySettings,
        api_key: str,
        http: HttpSettings,
        *,
        http_client: httpx2.Client | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.model = settings.model
        self.settings = settings
        self.where = endpoint(settings.base_url)
        self.policy = RetryPolicy(settings.retries, http.backoff, http.max_backoff)
        self.sleep = sleep
        self._api_key = api_key
        self._http_client = http_client
        self._client: OpenAI | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Import the SDK and make its client now, e.g. while a PDF downloads."""
        self._sdk_client()

    def _sdk_client(self) -> OpenAI:
        with self._lock:
            if self._client is None:
                self._client = _sdk().OpenAI(
                    api_key=self._api_key,
                    base_url=self.settings.base_url,
                    timeout=self.settings.timeout,
                    max_retries=0,  # ours below: logged, capped, testable
                    http_client=self._http_client or _deadline_client(self.settings.timeout),
                )
                # The SDK loads its chat resources (~50 ms of imports) and works out its
                # platform headers on the first call: done here, they overlap a PDF's
                # download instead of delaying the first request.
                _ = self._client.chat.completions
                _ = self._client.default_headers
            return self._client

    def _call(self, what: str, method: Callable[[OpenAI], Any], **kwargs: Any) -> Any:
        """``method`` of the SDK's client, called with ``kwargs`` and our retries."""
        fn = method(self._sdk_client())
        retryable = _retryable()
        attempts = retrying(
            self.policy,
            retryable,
            retry_after=_retry_after,
            sleep=self.sleep,
            what=f"{what} to {self.where}",
        )
        try:
            return attempts(fn, **kwargs)
        except _fatal() as exc:
            raise CredentialsRejected(
                f"{_describe(exc, self.where)}: the API key was refused"
            ) from None
        except _sdk().OpenAIError as exc:
            tries = self.policy.retries + 1 if isinstance(exc, retryable) else 1
            raise SummarizeError(
                f"{_describe(exc, self.where)} (after {tries} attempt(s))"
            ) from None

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        policy = RetryPolicy(
            min(MALFORMED_RETRIES, self.policy.retries),
            self.policy.backoff,
            self.policy.max_backoff,
        )
        attempts = retrying(policy, (MalformedAnswer,), sleep=self.sleep, what="LLM call")
        try:
            answer: _Answer = attempts(self._ask, messages)
        except MalformedAnswer as exc:
            raise MalformedAnswer(f"{exc} (after {policy.retries + 1} attempt(s))") from None
        return _completion(answer)

    def _ask(self, messages: list[dict[str, str]]) -> _Answer:
        raw = self._call(
            "LLM call",
            lambda sdk: sdk.chat.completions.with_raw_response.create,
            model=self.model,
            messages=cast(Any, messages),
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_output_tokens,
        )
        return _parse_answer(raw.http_response)

    def embeddings(self, model: str, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (the relevance embedder's call), same retries."""
        answer = self._call(
            "embedding call",
            lambda sdk: sdk.embeddings.create,
            model=model,
            input=texts,
            encoding_format="float",  # what every OpenAI-compatible server speaks
        )
        return [list(d.embedding) for d in sorted(answer.data, key=lambda d: d.index)]

    def upload_pdf(self, name: str, pdf: bytes) -> str:
        """Upload for DashScope-style ``file-extract``; returns the file id."""
        uploaded = self._call(
            "PDF upload",
            lambda sdk: sdk.files.create,
            file=(name, pdf, "application/pdf"),
            purpose=cast(Any, "file-extract"),
        )
        return str(uploaded.id)

    def delete_file(self, file_id: str) -> None:
        """Best effort: an uploaded PDF is not needed once summarized."""
        try:
            self._sdk_client().files.delete(file_id)
        except _sdk().OpenAIError as exc:
            log.debug("could not delete uploaded file %s: %s", file_id, _describe(exc, self.where))

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
        elif self._http_client is not None:
            self._http_client.close()


def _completion(answer: _Answer) -> Completion:
    """The summary in a well-formed answer, or why there is none."""
    if not answer.choices:
        raise SummarizeError("the LLM answered with no choices")
    choice = answer.choices[0]
    # Reasoning models (DeepSeek-R1, Qwen3 on Ollama...) may prepend their thinking.
    text = _THINKING.sub("", choice.message.content or "").strip()
    if choice.finish_reason == "content_filter" or choice.message.refusal:
        raise SummarizeError("the model refused to answer")
    if not text:
        raise SummarizeError("the LLM answered with an empty summary")
    usage = answer.usage or _Usage()
    return Completion(
        text=text, tokens_in=usage.prompt_tokens or 0, tokens_out=usage.completion_tokens or 0
    )
