"""The shapes of the JSON API's answers, as pydantic models.

Every response body of ``/api/v1/`` is one of these, dumped with ``model_dump(mode="json")``,
and the OpenAPI document (:mod:`arxiv_digest.web.openapi`) is generated from the same
models, so the two cannot disagree. Fields are only ever added, within ``v1``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "API_MODELS",
    "DigestDay",
    "DigestList",
    "DigestPaper",
    "DigestSummary",
    "ErrorBody",
    "Listing",
    "PaperDetail",
    "RatingBody",
    "RatingCleared",
    "RatingList",
    "RatingOut",
    "SearchHitOut",
    "SearchResults",
    "SummaryOut",
]

Vote = Literal["up", "down"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SummaryOut(_Model):
    """The stored AI summary of one paper version (the most recent one)."""

    text: str = Field(description="Markdown, as the model wrote it.")
    model: str = Field(description="The model that wrote it.")
    prompt_hash: str = Field(description="Hash of the instructions it was given.")
    input: str = Field(description="What it read: fulltext, file or abstract.")
    note: str = Field(description="Why the abstract stood in for the full text; empty if not.")
    created_at: dt.datetime


class DigestPaper(_Model):
    """One paper of a digest, in rank order."""

    rank: int = Field(ge=1)
    arxiv_id: str = Field(description="Without version, e.g. 2411.17712.")
    version: int = Field(ge=0, description="The version ranked (0: not given by the source).")
    title: str
    authors: list[str]
    primary_category: str
    categories: list[str]
    category: str = Field(description="The monitored category it is listed under.")
    announced: dt.date
    score: float
    matched: list[str] = Field(description="The configured keywords it matched.")
    why: str = Field(description="One line: why it is in the digest (may be empty).")
    summary: SummaryOut | None
    rating: Vote | None = Field(description="The reader's rating of the paper, if any.")
    url: str = Field(description="Its arXiv abstract page.")
    pdf_url: str
    api: str = Field(description="Its record in this API, relative to /api/v1/.")


class DigestSummary(_Model):
    """A published digest, without its papers."""

    date: dt.date = Field(description="The latest announcement day it covers.")
    updated_at: dt.datetime = Field(description="When this content was first published.")
    papers: int = Field(ge=0, description="How many papers it lists.")
    api: str = Field(description="Its papers in this API, relative to /api/v1/.")


class DigestList(_Model):
    digests: list[DigestSummary] = Field(description="Newest first.")
    total: int = Field(ge=0)
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    previous: str | None = Field(description="The previous page, relative to /api/v1/.")
    next: str | None = Field(description="The next page, relative to /api/v1/.")


class DigestDay(_Model):
    date: dt.date
    updated_at: dt.datetime
    papers: list[DigestPaper]
    newer: str | None = Field(description="The next newer digest's date, if any.")
    older: str | None = Field(description="The next older digest's date, if any.")


class Listing(_Model):
    """A paper's place in one published digest."""

    date: dt.date
    rank: int = Field(ge=1)
    version: int = Field(ge=0)
    score: float
    category: str
    matched: list[str]
    why: str


class RatingOut(_Model):
    arxiv_id: str
    rating: Vote
    value: Literal[1, -1]
    rated_at: dt.datetime
    source: str = Field(description="Where it was given: cli, link, api or mcp.")


class RatingCleared(_Model):
    arxiv_id: str
    rating: None = Field(description="No rating any more.")
    cleared: bool = Field(description="False when the paper had no rating.")


class PaperDetail(_Model):
    """One stored version of a paper (the latest unless one was asked for)."""

    arxiv_id: str
    version: int = Field(ge=0)
    versioned_id: str
    title: str
    authors: list[str]
    abstract: str
    primary_category: str
    categories: list[str]
    announce_type: str = Field(description="new, cross, replace or replace-cross.")
    announced: dt.date
    url: str
    pdf_url: str
    summary: SummaryOut | None
    digests: list[Listing] = Field(description="The published digests that listed it.")
    rating: RatingOut | None


class RatingList(_Model):
    ratings: list[RatingOut] = Field(description="Newest first.")


class RatingBody(_Model):
    """The body of ``PUT /ratings/{arxiv_id}``."""

    rating: Vote


class SearchHitOut(_Model):
    """One search result: the same object as in ``/search.json``."""

    arxiv_id: str
    version: int
    title: str
    title_html: str = Field(description="Escaped; the matches in <mark>, the only tag.")
    authors: list[str]
    primary_category: str
    categories: list[str]
    announced: dt.date
    score: float
    snippet: str
    snippet_html: str = Field(description="Escaped; the matches in <mark>, the only tag.")
    snippet_from: Literal["abstract", "summary"]
    shown_on: dt.date | None = Field(description="The latest digest that listed it.")
    rating: Literal[1, -1] | None
    url: str
    page: str = Field(description="Its page on the site, relative to the site's root.")


class SearchResults(_Model):
    """One page of a search: the same object as ``/search.json`` gives."""

    query: str
    total: int = Field(ge=0)
    total_capped: bool = Field(description="More matched: these rank the newest matches.")
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    previous: str | None = Field(description="The previous page, relative to /api/v1/.")
    next: str | None = Field(description="The next page, relative to /api/v1/.")
    results: list[SearchHitOut]


class ErrorBody(_Model):
    """Every error: a stable code, a sentence, and the parameter at fault, if one is."""

    error: Literal[
        "bad_parameter",
        "not_found",
        "method_not_allowed",
        "unauthorized",
        "forbidden",
        "writes_disabled",
        "unavailable",
        "internal",
    ]
    message: str
    parameter: str | None = None


API_MODELS: tuple[type[BaseModel], ...] = (
    DigestList,
    DigestDay,
    PaperDetail,
    SearchResults,
    RatingList,
    RatingOut,
    RatingCleared,
    RatingBody,
    ErrorBody,
)
