"""The config's sections and fields: the original bot's ``config.json`` plus our own options.

Every field carries a description; the README's config reference is checked against them
by the tests.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from arxiv_digest.config.api import ApiSettings
from arxiv_digest.config.common import HttpUrl
from arxiv_digest.config.delivery import DeliverySettings, EnvName
from arxiv_digest.ids import ARXIV_ID, VERSION

log = logging.getLogger(__name__)

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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Keyword(_Section):
    term: str = Field(min_length=1, description="Word or phrase to look for.")
    weight: float = Field(1.0, gt=0, description="Multiplies this keyword's points.")

    @field_validator("term")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


def _keyword_from_str(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


KeywordItem = Annotated[Keyword, Field(description="A term or {term, weight}.")]


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


class ScoringSettings(_Section):
    keyword: float = Field(1.0, ge=0, description="Points per keyword found in title+abstract.")
    title: float = Field(0.5, ge=0, description="Extra points per keyword found in the title.")
    author: float = Field(10.0, ge=0, description="Points per followed author on the paper.")


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


_ARXIV_REF = re.compile(
    rf"(?:arXiv:)?{ARXIV_ID}(?:{VERSION})?|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/\S+",
    re.IGNORECASE | re.ASCII,
)
LibraryKind = Literal["bibtex", "csl-json", "arxiv", "zotero"]
_LIBRARY_KEYS = {
    "bibtex": "bibtex",
    "csl_json": "csl-json",
    "csl-json": "csl-json",
    "arxiv": "arxiv",
    "zotero": "zotero",
}


class ZoteroSource(_Section):
    """A Zotero library read through the Zotero Web API (v3, over the project's HTTP client)."""

    library_id: str = Field(min_length=1, description="The user or group id (digits).")
    library_type: Literal["user", "group"] = Field("user", description='"user" or "group".')
    collection: str | None = Field(
        None, description="Only this collection (its key, e.g. ABCD2345); default: everything."
    )
    api_key_env: EnvName = Field(
        "ZOTERO_API_KEY",
        description="Environment variable holding the API key (not needed for a public group).",
    )
    base_url: HttpUrl = Field("https://api.zotero.org", description="The Zotero API's address.")


class LibrarySource(_Section):
    """One source of the reader's library: a BibTeX file, a CSL-JSON file (the export of
    Zotero, Mendeley, Paperpile) or one arXiv paper (id or abs/pdf URL)."""

    kind: LibraryKind = Field(description="bibtex, csl-json, arxiv or zotero.")
    path: Path | None = Field(None, description="The file (bibtex, csl-json).")
    arxiv: str | None = Field(None, description="The arXiv id or URL (arxiv).")
    zotero: ZoteroSource | None = Field(None, description="The Zotero library (zotero).")

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _library_shorthand(value.strip())
        if isinstance(value, dict) and "kind" not in value and len(value) == 1:
            ((key, item),) = value.items()
            kind = _LIBRARY_KEYS.get(str(key))
            if kind is None:
                raise ValueError(
                    f"unknown library source {key!r} (bibtex, csl_json, arxiv, zotero)"
                )
            field = {"arxiv": "arxiv", "zotero": "zotero"}.get(kind, "path")
            return {"kind": kind, field: item}
        return value


def _library_shorthand(value: str) -> dict[str, str]:
    if _ARXIV_REF.fullmatch(value):
        return {"kind": "arxiv", "arxiv": value}
    suffix = value.rsplit(".", 1)[-1].lower() if "." in value else ""
    if suffix in ("bib", "bibtex"):
        return {"kind": "bibtex", "path": value}
    if suffix == "json":
        return {"kind": "csl-json", "path": value}
    raise ValueError(
        f"{value!r} is neither a .bib or .json file nor an arXiv id or URL; "
        'write {"bibtex": "file"} or {"csl_json": "file"} for other file names'
    )


class RelevanceWeights(_Section):
    keywords: float = Field(1.0, ge=0, description="Multiplies the keyword points.")
    similarity: float = Field(
        2.0,
        ge=0,
        description="Points per standard deviation a paper's similarity to the library lies "
        "above the day's average.",
    )
    library_authors: float = Field(
        8.0,
        ge=0,
        description="Points per author of the paper who is in the library, times 1 + log2 "
        "of that author's papers in the library; only for a name something corroborates "
        "(a shared co-author, close content, a name rare in the store).",
    )
    ratings: float = Field(
        2.0,
        ge=0,
        description="Points per standard deviation of the model learned from your ratings.",
    )
    categories: float = Field(
        0.5,
        ge=0,
        description="Points per standard deviation a paper's arXiv category fits the "
        "library's categories better than the day's average (negative below it).",
    )


class TriageSettings(_Section):
    enabled: bool = Field(
        False,
        description="Ask an LLM to judge the best-ranked candidates against "
        "relevance.interests (a score 0-10 and a one-line reason, cached).",
    )
    model: str | None = Field(
        None,
        min_length=1,
        description="The judging model (default: ai_summary.model; same endpoint and key).",
    )
    top_k: int = Field(20, ge=1, description="How many of the best-ranked candidates are judged.")
    max_calls: int = Field(
        20, ge=0, description="Most LLM calls per run (cached judgements do not count)."
    )
    weight: float = Field(
        1.0,
        ge=0,
        description="Points per triage point above 5: score += weight × (triage − 5).",
    )
    max_output_tokens: int = Field(
        300,
        ge=64,
        description="Longest judgement, in tokens (a score and one line; a cap on the cost of "
        "a model that rambles).",
    )


class RelevanceSettings(_Section):
    interests: str | None = Field(
        None,
        min_length=1,
        description="Your interests in plain language, for the LLM triage.",
    )
    triage: TriageSettings = Field(
        default_factory=TriageSettings,
        description="Optional LLM triage of the top candidates (off by default).",
    )
    library: list[LibrarySource] = Field(
        default_factory=list,
        description="The reader's library: BibTeX or CSL-JSON files, arXiv ids or URLs "
        "(paths relative to the config file); re-read at every run.",
    )
    embedder: str = Field(
        "tfidf",
        pattern=r"^(tfidf|fastembed:\S+|openai:\S+)$",
        description='How texts are compared: "tfidf" (word statistics, no model); '
        '"fastembed:<model>" (a local ONNX model, e.g. BAAI/bge-small-en-v1.5, downloaded '
        'once); "openai:<model>" (the ai_summary endpoint, e.g. text-embedding-3-small). '
        "A model's similarity is added to the word statistics.",
    )
    model_path: Path | None = Field(
        None,
        description="A local copy of the fastembed model (offline use); relative paths are "
        "relative to the config file.",
    )
    cache_dir: Path | None = Field(
        None, description="Where fastembed keeps downloaded models (default: its own cache)."
    )
    min_ratings: int = Field(
        10,
        ge=2,
        description="Ratings (with at least one 👍 and one 👎) before a model learned from "
        "them joins the score.",
    )
    weights: RelevanceWeights = Field(
        default_factory=RelevanceWeights, description="The blend of the relevance signals."
    )
    min_similarity: float = Field(
        1.0,
        description="A paper without a keyword or a library author enters the digest only "
        "when its similarity is at least this many standard deviations above the day's "
        "average.",
    )

    @model_validator(mode="after")
    def _triage_needs_interests(self) -> RelevanceSettings:
        if self.triage.enabled and not (self.interests or "").strip():
            raise ValueError(
                "relevance.triage.enabled needs relevance.interests: a plain-language "
                "statement of what you want to read"
            )
        return self


class TermLists(_Section):
    """The keyword and name lists a reader sets: the config's own, and each profile's."""

    @field_validator("keywords", mode="before", check_fields=False)
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        return [_keyword_from_str(v) for v in value] if isinstance(value, list) else value

    @field_validator("exclude_keywords", "authors", check_fields=False)
    @classmethod
    def _no_blank_terms(cls, value: list[str]) -> list[str]:
        if any(not term.strip() for term in value):
            raise ValueError("contains an empty term")
        return [term.strip() for term in value]


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
