"""The sections that run the machinery rather than describe the reader: the arXiv endpoints
and the HTTP behaviour papers are fetched with (``arxiv``, ``http``), the LLM that writes
summaries (``ai_summary``), where results are kept and published (``output``, ``store``,
``feeds``) and when the daily run starts (``schedule``). In team mode these are set once in
the config for every member; a profile may only pick its own README, summary prompt and
summary language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from arxiv_digest.config.common import HttpUrl, _Section


class ArxivEndpoints(_Section):
    rss_url: HttpUrl = Field(
        "https://rss.arxiv.org/rss",
        description="Base of the RSS feed; the request is {rss_url}/{cat1}+{cat2}+...",
    )
    api_url: HttpUrl = Field(
        "https://export.arxiv.org/api/query", description="arXiv API endpoint used by backfill."
    )
    pdf_url: HttpUrl = Field("https://arxiv.org/pdf", description="Base of PDF links.")
    abs_url: HttpUrl = Field("https://arxiv.org/abs", description="Base of abstract-page links.")
    api_delay: float = Field(
        3.0, ge=0, description="Seconds between two API requests (arXiv asks for 3)."
    )


class HttpSettings(_Section):
    timeout: float = Field(
        30.0,
        gt=0,
        description="Deadline in seconds for one whole request (connecting to the last byte); "
        "past it the request fails as a timeout and is retried.",
    )
    retries: int = Field(4, ge=0, le=10, description="Extra attempts after a failed request.")
    backoff: float = Field(2.0, ge=0, description="First retry delay in seconds; doubles.")
    max_backoff: float = Field(120.0, ge=0, description="Longest wait between two attempts.")
    contact: str = Field(
        "mailto:arxiv-digest@example.invalid",
        description="Contact put in the User-Agent, as arXiv asks of automated clients.",
    )


class OutputSettings(_Section):
    readme: Path = Field(Path("README.md"), description="The Markdown digest file.")
    site_dir: Path = Field(Path("site"), description="Directory of the static site and feeds.")
    readme_template: Path | None = Field(
        None,
        description="README template: the original's README.template.md placeholders or "
        "a Jinja2 file. Default: README.template.md beside the config, if present.",
    )
    render_processes: int | None = Field(
        None,
        ge=0,
        le=64,
        description="Worker processes that render a team's member sites beside the run. "
        "Default: one per spare CPU core (at most 4) for 8 or more public sites; 0: the "
        "run renders every site itself.",
    )


class StoreSettings(_Section):
    url: str = Field(
        "sqlite:///data/arxiv-digest.sqlite",
        description="SQLAlchemy URL; relative SQLite paths are relative to the config file.",
    )
    history_dir: Path | None = Field(
        None,
        description="Folder of append-only day files (JSON Lines) that rebuild the store: "
        "what a fork commits instead of the database file. Unset: none.",
    )
    retention_days: int = Field(
        0,
        ge=0,
        description="Days a candidate that was never shown, rated or summarized keeps its "
        "abstract (and vectors); 0 keeps everything.",
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        return value


class FeedSettings(_Section):
    keep_days: int = Field(30, ge=1, description="Days of digests the feeds keep.")
    max_items: int = Field(100, ge=1, le=10000, description="Most items in one feed.")
    title: str = Field("arXiv digest", min_length=1, description="Title of the site and feeds.")


class ScheduleSettings(_Section):
    time: str = Field("12:00", description="Daily run time, HH:MM (24 h).")
    timezone: str = Field("UTC", description="IANA time zone of `time`.")
    grace_minutes: int = Field(
        180,
        ge=0,
        le=24 * 60,
        description="Minutes after `time` before a missing digest on an arXiv announcement "
        "day makes /health degraded (scheduled runners often start late).",
    )

    @field_validator("time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM, e.g. 12:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


SummaryInput = Literal["fulltext", "file", "abstract"]


class AISummarySettings(_Section):
    enabled: bool = Field(False, description="Summarize the top papers with an LLM.")
    api_key_env: str = Field(
        "DASHSCOPE_API_KEY", description="Environment variable holding the API key."
    )
    base_url: HttpUrl = Field(
        "https://dashscope.aliyuncs.com/compatible-mode/v1",
        description="OpenAI-compatible API base URL.",
    )
    model: str = Field("qwen-long", min_length=1, description="Model name.")
    prompt_file: Path | None = Field(None, description="File holding a custom prompt.")
    max_papers_to_summarize: int = Field(15, ge=0, description="Summaries per run.")
    max_calls_per_run: int | None = Field(
        None,
        ge=0,
        description="Most new summaries (LLM calls) in one run, for all profiles together; "
        "cached ones do not count. Unset: no cap beyond max_papers_to_summarize.",
    )
    max_workers: int = Field(3, ge=1, le=64, description="Summaries in flight at once.")
    language: str = Field(
        "zh", min_length=1, description='Language of the summaries: "zh", "en", or a name.'
    )
    input: SummaryInput = Field(
        "fulltext",
        description='"fulltext": the PDF\'s text; "file": upload the PDF (DashScope '
        'file-extract); "abstract": no download.',
    )
    max_input_tokens: int = Field(
        30000, ge=1000, description="Budget for the paper text sent (estimated tokens)."
    )
    temperature: float = Field(0.3, ge=0, le=2, description="Sampling temperature.")
    max_output_tokens: int = Field(4096, ge=64, description="Longest summary, in tokens.")
    timeout: float = Field(
        300.0,
        gt=0,
        description="Deadline in seconds for one whole LLM call (connecting to the last byte "
        "of the answer); past it the call fails as a timeout and is retried.",
    )
    retries: int = Field(4, ge=0, le=10, description="Extra attempts after a failed LLM call.")
    pdf_delay: float = Field(
        1.0,
        ge=0,
        description="Seconds between the starts of two PDF downloads from arXiv, after the "
        "first ones (one per LLM worker, at most 3).",
    )
    price_input_per_1k: float = Field(0.0, ge=0, description="Price of 1,000 input tokens.")
    price_output_per_1k: float = Field(0.0, ge=0, description="Price of 1,000 output tokens.")
    currency: str = Field("USD", description="Currency of the prices, for the cost report.")

    @property
    def is_local(self) -> bool:
        """A server on this machine (Ollama, vLLM...) needs no API key."""
        host = re.sub(r"^https?://", "", self.base_url).split("/", 1)[0].rsplit(":", 1)[0]
        return host.strip("[]") in {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
