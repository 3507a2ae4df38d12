"""The config file: the original bot's ``config.json`` plus our own options.

Every field carries a description; ``docs/config.md`` is checked against them by the tests.
Loading never falls back to defaults on error: a bad file raises :class:`ConfigError`
naming the JSON path of the offending value.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from arxiv_digest.errors import ConfigError

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


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_http_url)]


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


class StoreSettings(_Section):
    url: str = Field(
        "sqlite:///data/arxiv-digest.sqlite",
        description="SQLAlchemy URL; relative SQLite paths are relative to the config file.",
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
    pdf_delay: float = Field(1.0, ge=0, description="Seconds between two PDF downloads from arXiv.")
    price_input_per_1k: float = Field(0.0, ge=0, description="Price of 1,000 input tokens.")
    price_output_per_1k: float = Field(0.0, ge=0, description="Price of 1,000 output tokens.")
    currency: str = Field("USD", description="Currency of the prices, for the cost report.")

    @property
    def is_local(self) -> bool:
        """A server on this machine (Ollama, vLLM...) needs no API key."""
        host = re.sub(r"^https?://", "", self.base_url).split("/", 1)[0].rsplit(":", 1)[0]
        return host.strip("[]") in {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class Settings(_Section):
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

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        return [_keyword_from_str(v) for v in value] if isinstance(value, list) else value

    @field_validator("exclude_keywords", "authors")
    @classmethod
    def _no_blank_terms(cls, value: list[str]) -> list[str]:
        if any(not term.strip() for term in value):
            raise ValueError("contains an empty term")
        return [term.strip() for term in value]

    @model_validator(mode="after")
    def _something_to_match(self) -> Settings:
        if not self.keywords and not self.authors:
            raise ValueError("give at least one keyword or followed author")
        return self

    @property
    def keyword_terms(self) -> list[str]:
        return [k.term for k in self.keywords]


def _json_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _describe(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    if error["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        return f"{_json_path(loc)}: unknown key{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{_json_path(loc)}: {message}"


def _strip_comments(data: Any) -> Any:
    """JSON has no comments: keys starting with "//" serve as comments and are dropped."""
    if isinstance(data, dict):
        return {k: _strip_comments(v) for k, v in data.items() if not str(k).startswith("//")}
    if isinstance(data, list):
        return [_strip_comments(v) for v in data]
    return data


def parse_settings(data: Any, source: str = "config") -> Settings:
    """Validate already-decoded JSON; raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a JSON object")
    data = _strip_comments(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_describe(e)}" for e in exc.errors())
        raise ConfigError(f"{source} is invalid:\n{problems}") from None
    for key, notice in IGNORED_LEGACY_KEYS.items():
        if key in data:
            log.warning("%s: %s (%s)", source, key, notice)
    return settings


def resolve_config_path(path: str | Path | None) -> Path:
    chosen = path or os.environ.get(CONFIG_ENV) or "config.json"
    return Path(chosen).expanduser().resolve()


def _absolute(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else (base / value)


def _absolute_store_url(base: Path, url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    database = parsed.database or ""
    uri = database.startswith("file:")  # sqlite:///file:data/x.sqlite?mode=ro&uri=true
    path = _absolute(base, Path(database.removeprefix("file:")))
    # Replace the path in the text itself: rendering the URL would escape "file:" as "file%3A".
    return url.replace(database, f"file:{path}" if uri else str(path), 1)


def with_paths_resolved(settings: Settings, base: Path) -> Settings:
    """Make every relative path in the config relative to ``base`` (the config's folder)."""
    output = settings.output
    template = output.readme_template
    if template is None and (base / "README.template.md").is_file():
        template = base / "README.template.md"
    new_output = output.model_copy(
        update={
            "readme": _absolute(base, output.readme),
            "site_dir": _absolute(base, output.site_dir),
            "readme_template": _absolute(base, template) if template else None,
        }
    )
    summary = settings.ai_summary
    prompt = summary.prompt_file
    new_summary = summary.model_copy(
        update={"prompt_file": _absolute(base, prompt) if prompt else None}
    )
    new_store = settings.store.model_copy(
        update={"url": _absolute_store_url(base, settings.store.url)}
    )
    return settings.model_copy(
        update={"output": new_output, "ai_summary": new_summary, "store": new_store}
    )


def _unreadable(path: Path) -> str | None:
    """Why a file the config names cannot be used, or None when it can."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} does not exist"
    except IsADirectoryError:
        return f"{path} is a directory, not a file"
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {path}: {exc}"
    return f"{path} is empty" if not text.strip() else None


def check_files(settings: Settings, source: str = "config") -> None:
    """Files the config names must exist now, not half-way through a run: raise ConfigError
    naming the field before anything is fetched or created."""
    named = [("output.readme_template", settings.output.readme_template)]
    if settings.ai_summary.enabled:
        named.append(("ai_summary.prompt_file", settings.ai_summary.prompt_file))
    problems = [
        f"  {field}: {why}"
        for field, path in named
        if path is not None and (why := _unreadable(Path(path))) is not None
    ]
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(problems))


def load_settings(path: str | Path | None = None) -> Settings:
    """Read, validate and resolve a config file; never touches any output."""
    config_path = resolve_config_path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {config_path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{config_path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(data, dict) and os.environ.get(STORE_URL_ENV):
        data = {**data, "store": {**data.get("store", {}), "url": os.environ[STORE_URL_ENV]}}
    source = str(config_path)
    settings = with_paths_resolved(parse_settings(data, source=source), config_path.parent)
    check_files(settings, source=source)
    return settings
