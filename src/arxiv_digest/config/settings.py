"""The whole config file as one model, :class:`Settings`: the original bot's ``config.json``
keys (categories, keywords, max_papers, deduplication...) and our own, each nested section
taken from the module of its theme (``ranking``, ``infrastructure``, ``delivery``, ``api``),
together with the names the loader needs around it: the environment variables that point at
a config or override the store URL, and the legacy keys still accepted but ignored. Every
field, nested ones included, carries a description, and the tests check the README's config
reference against them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from arxiv_digest.config.api import ApiSettings
from arxiv_digest.config.common import HttpUrl
from arxiv_digest.config.delivery import DeliverySettings
from arxiv_digest.config.infrastructure import (
    AISummarySettings,
    ArxivEndpoints,
    FeedSettings,
    HttpSettings,
    OutputSettings,
    ScheduleSettings,
    StoreSettings,
)
from arxiv_digest.config.ranking import (
    KeywordItem,
    LibrarySource,
    RelevanceSettings,
    ScoringSettings,
    TermLists,
)

CONFIG_ENV = "ARXIV_DIGEST_CONFIG"
STORE_URL_ENV = "ARXIV_DIGEST_STORE_URL"  # overrides store.url (e.g. a read-only deployment)
CATEGORY_RE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
DedupMethod = Literal["id", "title", "link"]
DEDUP_METHODS: tuple[DedupMethod, ...] = ("id", "title", "link")
DEFAULT_ANNOUNCE_TYPES: tuple[AnnounceType, ...] = ("new",)
# Keys of the original bot that we accept but that no longer do anything.
IGNORED_LEGACY_KEYS = {
    "fetch_ratings": "ratings are not fetched; the key is ignored",
    "display_limit": "every ranked paper up to max_papers is shown; the key is ignored",
}


class Settings(TermLists):
    categories: list[str] = Field(min_length=1, description="arXiv categories to monitor.")
    keywords: list[KeywordItem] = Field(
        default_factory=list, description="Terms that make a paper relevant."
    )
    exclude_keywords: list[str] = Field(
        default_factory=list, description="Terms that drop a paper."
    )
    max_papers: int = Field(30, ge=1, description="Papers in the digest.")
    days_back: int = Field(
        1,
        ge=1,
        le=3660,
        description="Calendar days, counted back from the latest announcement, that the "
        "digest draws papers from (1 = the latest announcement only).",
    )
    min_score: float = Field(0.0, ge=0, description="Papers scoring less are left out.")
    enable_deduplication: bool = Field(True, description="Drop repeated papers.")
    deduplication_methods: list[DedupMethod] = Field(
        default_factory=lambda: list(DEDUP_METHODS),
        description="What makes two entries the same paper.",
    )
    match: Literal["word", "substring"] = Field(
        "word", description='"word": whole words and phrases; "substring": the original bot.'
    )
    exclude_scope: Literal["title", "all"] | None = Field(
        None,
        description='Where exclude keywords apply: "title" or "all" (title and abstract). '
        'Default: "title" with match "word" (so "we review" keeps a paper), "all" with '
        '"substring".',
    )
    announce_types: list[AnnounceType] = Field(
        default_factory=lambda: list(DEFAULT_ANNOUNCE_TYPES),
        min_length=1,
        description="Announcement types kept.",
    )
    authors: list[str] = Field(
        default_factory=list, description="Authors to follow: their papers always make it."
    )
    scoring: ScoringSettings = Field(
        default_factory=ScoringSettings, description="How papers are scored."
    )
    arxiv: ArxivEndpoints = Field(default_factory=ArxivEndpoints, description="arXiv endpoints.")
    http: HttpSettings = Field(
        default_factory=HttpSettings, description="Network behaviour: timeouts, retries."
    )
    output: OutputSettings = Field(
        default_factory=OutputSettings, description="Where files are written."
    )
    store: StoreSettings = Field(default_factory=StoreSettings, description="The database.")
    feeds: FeedSettings = Field(default_factory=FeedSettings, description="Site and feeds.")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="When the daily run happens."
    )
    site_url: HttpUrl | None = Field(
        None, description="Link to your published site, in the README."
    )
    repo_url: HttpUrl | None = Field(None, description="Link to your repository, in the README.")
    ai_summary: AISummarySettings = Field(
        default_factory=AISummarySettings, description="LLM summaries of the top papers."
    )
    relevance: RelevanceSettings | None = Field(
        None,
        description="Ranking by similarity to the reader's own library (off without it: "
        "keywords only, as the original).",
    )
    delivery: DeliverySettings | None = Field(
        None, description="Send each new digest by e-mail and to chat channels."
    )
    api: ApiSettings = Field(
        default_factory=ApiSettings, description="The JSON API of serve (/api/v1/)."
    )
    profiles: dict[str, Any] = Field(
        default_factory=dict,
        description="Team mode: one digest per member, by name; each sets only personal keys "
        "(see Running it for a team).",
    )
    profiles_dir: Path | None = Field(
        None,
        description="A folder of profiles, one NAME.json file per member (relative to the "
        "config file).",
    )
    fetch_ratings: Any = Field(None, description="Legacy, ignored with a notice.")
    display_limit: Any = Field(None, description="Legacy, ignored with a notice.")

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        for cat in value:
            if not CATEGORY_RE.match(cat):
                raise ValueError(f"{cat!r} is not an arXiv category such as cs.AI or stat")
        if len(set(value)) != len(value):
            raise ValueError("lists a category twice")
        return value

    @model_validator(mode="after")
    def _something_to_match(self) -> Settings:
        team = bool(self.profiles) or self.profiles_dir is not None
        if not team and not self.keywords and not self.authors and not self.library:
            raise ValueError(
                "give at least one keyword, followed author or relevance.library entry"
            )
        return self

    @property
    def library(self) -> list[LibrarySource]:
        return self.relevance.library if self.relevance is not None else []

    @property
    def has_terms(self) -> bool:
        """Whether the config has a reader of its own (in team mode it may have none)."""
        return bool(self.keywords or self.authors or self.library)

    @property
    def keyword_terms(self) -> list[str]:
        return [k.term for k in self.keywords]
