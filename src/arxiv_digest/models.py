"""Typed records passed between the pipeline stages. No I/O here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")


def is_monitored(category: str, monitored: Collection[str]) -> bool:
    """``cs.AI`` is monitored by ``cs.AI`` and by the whole archive ``cs``."""
    return category in monitored or category.split(".", 1)[0] in monitored


@dataclass(frozen=True, slots=True)
class Paper:
    """One version of one arXiv paper, as announced on one day."""

    arxiv_id: str  # without version, e.g. "2512.14082"
    version: int  # 0 when the source does not say (OAI-PMH arXiv format)
    title: str
    authors: tuple[str, ...]
    abstract: str
    primary_category: str
    categories: tuple[str, ...]
    announce_type: str
    announced: dt.date

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}" if self.version else self.arxiv_id

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"


@dataclass(frozen=True, slots=True)
class RankedPaper:
    paper: Paper
    score: float
    matched: tuple[str, ...]  # keyword terms as written in the config, in config order
    category: str  # the monitored category the paper is shown under
    followed_authors: tuple[str, ...] = ()
    why: str = ""  # one line: what put it in the digest (empty for a keyword-only config)


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one signal adds to a paper's score, and what it saw (for ``explain``)."""

    signal: str  # "keywords", "similarity", "library authors", "category fit", ...
    points: float
    detail: str  # one line


def digest_order(ranked: RankedPaper) -> tuple[float, int, str, int]:
    """The digest's order: higher score, then newer announcement, then arXiv id."""
    paper = ranked.paper
    return (-ranked.score, -paper.announced.toordinal(), paper.arxiv_id, paper.version)


@dataclass(frozen=True, slots=True)
class Summary:
    """An LLM's summary of one paper version; cached under (paper, model, prompt, input)."""

    arxiv_id: str
    version: int
    model: str
    text: str
    input_mode: str = "abstract"  # fulltext | file | abstract
    note: str = ""  # e.g. why the abstract was used in place of the full text
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(slots=True)
class SummaryStats:
    made: int = 0
    cached: int = 0
    failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    failures: list[str] = field(default_factory=list)  # "2604.00001: why"
    deferred: int = 0  # papers left unsummarized by ai_summary.max_calls_per_run, for a later run


@dataclass(frozen=True, slots=True)
class DigestEntry:
    ranked: RankedPaper
    summary: Summary | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """What the publishers render: the ranked papers of one run."""

    updated_at: dt.datetime  # UTC; the first time this exact content was published
    entries: tuple[DigestEntry, ...]
    window: tuple[dt.date, dt.date] | None  # first and last announcement day considered


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server told us last time, to ask "has it changed?" next time."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class RunReport:
    status: str = "running"  # running | ok | empty | failed | interrupted (a run that died)
    fetched: int = 0
    not_modified: bool = False
    candidates: int = 0
    ranked: int = 0
    readme_written: bool = False
    digest_date: dt.date | None = None
    summaries: SummaryStats = field(default_factory=SummaryStats)
    triage_calls: int = 0  # LLM triage: judgements asked this run (cached ones not counted)
    triage_cached: int = 0
    triage_failed: int = 0
    triage_tokens_in: int = 0
    triage_tokens_out: int = 0
    triage_cost: float = 0.0  # at the ai_summary prices
    outputs: list[str] = field(default_factory=list)
    message: str = ""
    deliveries: list[DeliveryOutcome] = field(default_factory=list)

    @property
    def delivery_failures(self) -> list[DeliveryOutcome]:
        return [d for d in self.deliveries if d.status == "failed"]


@dataclass(frozen=True, slots=True)
class PublishedDigest:
    """A digest as published: what the site, the feeds and the service show."""

    date: dt.date  # the latest announcement day it covers
    updated_at: dt.datetime
    entries: tuple[DigestEntry, ...]


RATING_VALUES = {"up": 1, "down": -1}
RATING_SOURCES = ("cli", "link", "api", "mcp")  # api: /api/v1/ratings; mcp: rate_paper


@dataclass(frozen=True, slots=True)
class Rating:
    """The reader's verdict on one paper (every version): +1 (👍) or -1 (👎)."""

    arxiv_id: str  # without version
    value: int  # +1 or -1
    rated_at: dt.datetime  # UTC
    source: str  # cli | link | api | mcp


DELIVERY_STATUSES = ("sent", "partial", "failed")


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """What one channel received of one day's digest, kept so a rerun sends nothing twice."""

    digest_date: dt.date
    channel: str  # the channel's label: "email", "slack", or its configured name
    status: str  # sent | partial (some of its messages or recipients) | failed (none yet)
    messages_sent: int
    messages_total: int
    attempts: int
    error: str  # the last failure, one line, no secret in it
    updated_at: dt.datetime  # UTC
    pending: tuple[str, ...] = ()  # e-mail: the recipients refused for now, to try again


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What this run did for one channel and one digest day."""

    digest_date: dt.date
    channel: str
    status: str  # sent | already sent | skipped | failed | would send (dry run)
    messages: int = 0
    detail: str = ""  # why it was skipped or failed; what a dry run would send


NOTICE_STATUSES = ("sent", "failed")


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """The notice one channel got about a day without its digest: sent once, however many
    runs fail that day (a failed one is tried again by the next)."""

    day: dt.date  # the arXiv announcement day whose digest is missing
    channel: str  # the channel's label, as in DeliveryRecord
    status: str  # sent | failed
    text: str  # the notice, one line
    attempts: int
    error: str  # the last failure, one line, no secret in it
    updated_at: dt.datetime  # UTC


@dataclass(frozen=True, slots=True)
class Marked:
    """Text with the spans a search matched: (text, matched) pieces, never markup."""

    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        return "".join(part for part, _ in self.parts)

    @property
    def html(self) -> str:
        """Escaped text; the matched spans in ``<mark>``, the only markup it can hold."""
        from html import escape

        return "".join(
            f"<mark>{escape(part)}</mark>" if matched else escape(part)
            for part, matched in self.parts
        )

    @property
    def matched(self) -> bool:
        return any(matched for _, matched in self.parts)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One stored paper (its latest version) that matches a search."""

    paper: Paper
    score: float  # higher is better; comparable within one search only
    title: Marked
    authors: Marked
    snippet: Marked  # a passage of the abstract or the AI summary, matches marked
    snippet_from: str  # abstract | summary
    shown_on: dt.date | None  # the latest published digest that listed it
    rating: int | None  # the reader's +1 / -1

    @property
    def shown(self) -> bool:
        return self.shown_on is not None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a search's hits, best first, and how many there are in all."""

    query: str
    hits: tuple[SearchHit, ...]
    total: int
    limit: int
    offset: int
    capped: bool = False  # more matched: these are the best of the ``total`` newest stored

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.hits) < self.total
