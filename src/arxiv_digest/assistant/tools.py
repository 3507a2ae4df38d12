"""The MCP server's tools: their arguments (checked as the HTTP API checks parameters),
their one-line descriptions, and what each one answers, as compact text.

Every tool reads the store through :class:`arxiv_digest.api.reader.Reader`; none reaches
arXiv or an LLM. Lists are capped at :data:`MAX_LIMIT` papers, so an agent cannot pull the
whole store in one call. ``rate_paper`` is the only tool that writes, and only when the
caller may (:class:`Tools` is told per call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arxiv_digest.api import params
from arxiv_digest.api.models import RatingCleared
from arxiv_digest.api.reader import Reader
from arxiv_digest.assistant import text

__all__ = ["MAX_LIMIT", "TOOLS", "ToolRefused", "ToolSpec", "Tools"]

MAX_LIMIT = 50


class ToolRefused(Exception):
    """The call cannot be answered as asked; the message says why, for the agent."""


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _limit() -> Any:
    return Field(10, ge=1, le=MAX_LIMIT, description=f"How many papers, 1 to {MAX_LIMIT}.")


def _arxiv_id() -> Any:
    return Field(
        min_length=1, max_length=64, description="An arXiv id: 2411.17712, or 2411.17712v2."
    )


class LatestDigestArgs(_Args):
    limit: int = _limit()


class SearchArgs(_Args):
    query: str = Field(
        min_length=1,
        max_length=1000,
        description='Words (all must match), "a phrase", -excluded, this OR that.',
    )
    category: str | None = Field(None, description="cs.LG (primary or cross-list), or cs.")
    since: str | None = Field(None, alias="from", description="First day, YYYY-MM-DD.")
    until: str | None = Field(None, alias="to", description="Last day, YYYY-MM-DD.")
    limit: int = _limit()


class PaperArgs(_Args):
    arxiv_id: str = _arxiv_id()


class RateArgs(_Args):
    arxiv_id: str = _arxiv_id()
    vote: Literal["up", "down", "clear"] = Field(
        description="up (👍), down (👎), or clear to forget the rating."
    )


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    args: type[_Args]
    writes: bool = False

    def input_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema(by_alias=True)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "latest_digest",
        "The latest published arXiv digest: ranked papers with links, scores and why each "
        "was picked.",
        LatestDigestArgs,
    ),
    ToolSpec(
        "search_papers",
        "Search every stored arXiv paper (titles, authors, abstracts, AI summaries); "
        "best matches first.",
        SearchArgs,
    ),
    ToolSpec(
        "get_paper",
        "One stored paper: metadata, abstract, stored AI summary, the digests that listed "
        "it, the reader's rating.",
        PaperArgs,
    ),
    ToolSpec(
        "explain_pick",
        "Why a paper was picked for a digest: its why line and the library papers behind it.",
        PaperArgs,
    ),
    ToolSpec(
        "rate_paper",
        "Rate a paper 👍 (up) or 👎 (down), or clear its rating; changes the next digests. "
        "Needs write permission.",
        RateArgs,
        writes=True,
    ),
)
SPECS = {spec.name: spec for spec in TOOLS}


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "arguments"
    return f"{where}: {first['msg']}"


class Tools:
    """Runs the tools over one reader; ``source`` is what ratings record as their origin."""

    def __init__(self, reader: Reader, *, source: str = "mcp") -> None:
        self.reader = reader
        self.source = source
        self.run: dict[str, Callable[[Any], str]] = {
            "latest_digest": self.latest_digest,
            "search_papers": self.search_papers,
            "get_paper": self.get_paper,
            "explain_pick": self.explain_pick,
            "rate_paper": self.rate_paper,
        }

    def call(self, name: str, arguments: dict[str, Any] | None, *, no_writes: str | None) -> str:
        """The tool's text answer; raises :class:`ToolRefused` with the reason. ``no_writes``
        says why this caller may not write (None: it may)."""
        spec = SPECS.get(name)
        if spec is None:
            raise ToolRefused(f"there is no tool {name!r}: use {', '.join(SPECS)}")
        try:
            args = spec.args.model_validate(arguments or {}, by_alias=True)
        except ValidationError as exc:
            raise ToolRefused(_problem(exc)) from None
        if spec.writes and no_writes is not None:
            raise ToolRefused(f"{name} is refused: {no_writes}")
        try:
            return self.run[name](args)
        except params.BadParameter as exc:
            raise ToolRefused(str(exc)) from None

    def latest_digest(self, args: LatestDigestArgs) -> str:
        day = self.reader.digest()
        if day is None:
            return "No digest has been published yet.\n"
        return text.digest_text(day, args.limit)

    def search_papers(self, args: SearchArgs) -> str:
        query = {"q": args.query, "limit": str(args.limit)}
        for name, value in (("category", args.category), ("from", args.since), ("to", args.until)):
            if value is not None:
                query[name] = value
        return text.search_text(self.reader.search(query))

    def get_paper(self, args: PaperArgs) -> str:
        arxiv_id, version = params.arxiv_id(args.arxiv_id)
        found = self.reader.paper(arxiv_id, version)
        if found is None:
            name = f"{arxiv_id}v{version}" if version else arxiv_id
            raise ToolRefused(f"{name} is not in the store")
        return text.paper_text(found, asked_version=version)

    def explain_pick(self, args: PaperArgs) -> str:
        arxiv_id, _ = params.arxiv_id(args.arxiv_id)
        found = self.reader.explain(arxiv_id)
        if found is None:
            raise ToolRefused(f"{arxiv_id} is not in the store")
        return text.explanation_text(found)

    def rate_paper(self, args: RateArgs) -> str:
        arxiv_id, _ = params.arxiv_id(args.arxiv_id)
        done = self.reader.rate(arxiv_id, args.vote, self.source)
        if isinstance(done, RatingCleared):
            return (
                f"Cleared the rating of {arxiv_id}.\n"
                if done.cleared
                else f"{arxiv_id} had no rating.\n"
            )
        symbol = text.SYMBOLS[done.rating]
        return (
            f"Rated {arxiv_id} {symbol} (every version). The next digests take it into account.\n"
        )
