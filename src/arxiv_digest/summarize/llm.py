"""The OpenAI-compatible API through the real ``openai`` SDK, with our retry policy.

429, 5xx, timeouts and connection errors are retried (``Retry-After`` honoured); an empty
or refused completion is a failure, never a summary. Error messages never carry the key.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, cast

import httpx2
import openai
from openai import OpenAI

from arxiv_digest.config import AISummarySettings, HttpSettings
from arxiv_digest.errors import SummarizeError
from arxiv_digest.retry import RetryPolicy, Sleep, retry_after_header, retrying

log = logging.getLogger(__name__)

_THINKING = re.compile(r"<think>.*?</think>", re.S)
RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)
FATAL = (openai.AuthenticationError, openai.PermissionDeniedError)


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int


class CredentialsRejected(SummarizeError):
    """The provider refused the key: no point asking again this run."""


def _retry_after(error: BaseException) -> float | None:
    if isinstance(error, openai.APIStatusError):
        return retry_after_header(error.response.headers)
    return None


def _describe(error: Exception) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code} from the LLM API"
    if isinstance(error, openai.APITimeoutError):
        return "the LLM API timed out"
    if isinstance(error, openai.APIConnectionError):
        return "cannot connect to the LLM API"
    return type(error).__name__


class LlmClient:
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
        self.policy = RetryPolicy(settings.retries, http.backoff, http.max_backoff)
        self.sleep = sleep
        self._client = OpenAI(
            api_key=api_key,
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=0,  # ours below: logged, capped, testable
            http_client=http_client,
        )

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        attempts = retrying(
            self.policy, RETRYABLE, retry_after=_retry_after, sleep=self.sleep, what=what
        )
        try:
            return attempts(fn, *args, **kwargs)
        except FATAL as exc:
            raise CredentialsRejected(f"{_describe(exc)}: the API key was refused") from None
        except openai.OpenAIError as exc:
            tries = self.policy.retries + 1 if isinstance(exc, RETRYABLE) else 1
            raise SummarizeError(f"{_describe(exc)} (after {tries} attempt(s))") from None

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        response = self._call(
            "LLM call",
            self._client.chat.completions.create,
            model=self.model,
            messages=cast(Any, messages),
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_output_tokens,
        )
        if not response.choices:
            raise SummarizeError("the LLM answered with no choices")
        choice = response.choices[0]
        # Reasoning models (DeepSeek-R1, Qwen3 on Ollama...) may prepend their thinking.
        text = _THINKING.sub("", choice.message.content or "").strip()
        if choice.finish_reason == "content_filter" or getattr(choice.message, "refusal", None):
            raise SummarizeError("the model refused to answer")
        if not text:
            raise SummarizeError("the LLM answered with an empty summary")
        usage = response.usage
        return Completion(
            text=text,
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
        )

    def upload_pdf(self, name: str, pdf: bytes) -> str:
        """Upload for DashScope-style ``file-extract``; returns the file id."""
        uploaded = self._call(
            "PDF upload",
            self._client.files.create,
            file=(name, pdf, "application/pdf"),
            purpose=cast(Any, "file-extract"),
        )
        return str(uploaded.id)

    def delete_file(self, file_id: str) -> None:
        """Best effort: an uploaded PDF is not needed once summarized."""
        try:
            self._client.files.delete(file_id)
        except openai.OpenAIError as exc:
            log.debug("could not delete uploaded file %s: %s", file_id, _describe(exc))

    def close(self) -> None:
        self._client.close()
