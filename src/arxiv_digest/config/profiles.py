"""Team mode's profiles: one reader each, in ``"profiles": {"NAME": {...}}`` or one file per
member in ``profiles_dir``.

A profile sets only what is personal (terms, authors, a subset of the categories, how many
papers, its library and ratings, its delivery channels, its summary prompt and language,
its README, whether it is private). Everything else (store, arXiv, LLM provider, schedule,
http, feeds) is the config's, set once. :func:`profile_view` makes the
:class:`~arxiv_digest.config.settings.Settings` a member's stages read: the shared sections
are the very same objects, only the personal fields differ.

Errors name the field as ``profiles.NAME.field`` and are raised before any request.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from arxiv_digest.config.common import _Section
from arxiv_digest.config.delivery import DeliverySettings, EnvName
from arxiv_digest.config.ranking import KeywordItem, RelevanceSettings, TermLists
from arxiv_digest.config.settings import Settings
from arxiv_digest.errors import ConfigError

__all__ = [
    "PROFILE_NAME",
    "ProfileOutput",
    "ProfileSettings",
    "ProfileSummary",
    "profile_settings",
    "profile_view",
    "read_profiles_dir",
    "validate_profiles",
]

PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # a URL path segment, a file name
PROFILES_URL = "p"  # a member's pages: {site_dir}/p/NAME/, {site_url}/p/NAME/


class ProfileSummary(_Section):
    prompt_file: Path | None = Field(
        None, description="The member's own prompt file (default: ai_summary.prompt_file)."
    )
    language: str | None = Field(
        None,
        min_length=1,
        description="Language of the member's summaries (default: ai_summary.language).",
    )


class ProfileOutput(_Section):
    readme: Path | None = Field(
        None, description="The member's Markdown digest (default: none written)."
    )


class ProfileSettings(TermLists):
    """What one team member sets; the rest is the config's."""

    keywords: list[KeywordItem] = Field(
        default_factory=list, description="The member's terms (a term or {term, weight})."
    )
    exclude_keywords: list[str] = Field(
        default_factory=list, description="Terms that drop a paper for this member."
    )
    authors: list[str] = Field(default_factory=list, description="Authors the member follows.")
    categories: list[str] | None = Field(
        None, description="A subset of the config's categories (default: all of them)."
    )
    max_papers: int | None = Field(
        None, ge=1, description="Papers in the member's digest (default: max_papers)."
    )
    min_score: float | None = Field(
        None, ge=0, description="The member's lowest score (default: min_score)."
    )
    relevance: RelevanceSettings | None = Field(
        None, description="The member's library, interests and triage (ratings are theirs)."
    )
    delivery: DeliverySettings | None = Field(
        None, description="Where the member's digest is sent (only theirs)."
    )
    ai_summary: ProfileSummary = Field(
        default_factory=ProfileSummary, description="The member's summary prompt and language."
    )
    output: ProfileOutput = Field(
        default_factory=ProfileOutput, description="The member's own files."
    )
    private: bool = Field(
        False,
        description="Pages and feeds only with the token: not on the public site or the team page.",
    )
    token_env: EnvName | None = Field(
        None, description="Environment variable holding a private profile's token."
    )

    @model_validator(mode="after")
    def _checked(self) -> ProfileSettings:
        library = self.relevance.library if self.relevance is not None else []
        if not self.keywords and not self.authors and not library:
            raise ValueError(
                "give at least one keyword, followed author or relevance.library entry"
            )
        if self.private and not self.token_env:
            raise ValueError("a private profile needs token_env: the variable holding its token")
        return self


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate_profiles(settings: Settings, source: str = "config") -> dict[str, ProfileSettings]:
    """Every profile of ``settings.profiles`` checked; ConfigError naming each bad field as
    ``profiles.NAME.field``."""
    problems: list[str] = []
    checked: dict[str, ProfileSettings] = {}
    for name, raw in settings.profiles.items():
        where = f"profiles.{name}"
        if not PROFILE_NAME.fullmatch(name):
            problems.append(
                f"{where}: a profile name is a URL-safe slug: a-z, 0-9, '-' and '_', "
                "at most 40 characters, starting with a letter or digit"
            )
            continue
        if isinstance(raw, ProfileSettings):
            profile = raw
        else:
            try:
                profile = ProfileSettings.model_validate(raw)
            except ValidationError as exc:
                for error in exc.errors():
                    message = str(error["msg"]).removeprefix("Value error, ")
                    if error["type"] == "extra_forbidden":
                        message = "unknown key (only personal keys go in a profile)"
                    problems.append(f"{where}{_location(tuple(error['loc']))}: {message}")
                continue
        outside = [c for c in profile.categories or [] if c not in settings.categories]
        if outside:
            problems.append(
                f"{where}.categories: {', '.join(outside)} not in the config's categories "
                "(a profile reads a subset of the one feed)"
            )
            continue
        checked[name] = profile
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(f"  {p}" for p in problems))
    return checked


def read_profiles_dir(folder: Path, inline: dict[str, Any]) -> dict[str, Any]:
    """``inline`` plus one profile per ``NAME.json`` file of ``folder`` (raw JSON objects)."""
    if not folder.is_dir():
        raise ConfigError(f"profiles_dir: {folder} is not a folder")
    found = dict(inline)
    for path in sorted(folder.glob("*.json")):
        name = path.stem
        if name in found:
            raise ConfigError(f"profiles_dir: {path.name}: profile {name!r} is also in profiles")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"profiles_dir: cannot read {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"profiles_dir: {path.name}: not valid JSON at line {exc.lineno}: {exc.msg}"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"profiles_dir: {path.name}: a profile is a JSON object")
        found[name] = {k: v for k, v in data.items() if not str(k).startswith("//")}
    return found


def profile_settings(settings: Settings) -> dict[str, ProfileSettings]:
    """The checked profiles of a loaded config, by name (in the config's order)."""
    profiles: dict[str, ProfileSettings] = {}
    for name, raw in settings.profiles.items():
        profiles[name] = (
            raw if isinstance(raw, ProfileSettings) else validate_profiles(settings)[name]
        )
    return profiles


def _absolute(base: Path, value: Path | None) -> Path | None:
    if value is None:
        return None
    return value if value.is_absolute() else base / value


def resolve_profile_paths(profile: ProfileSettings, base: Path) -> ProfileSettings:
    """The profile's file paths made relative to ``base``, the config's folder."""
    update: dict[str, object] = {
        "ai_summary": profile.ai_summary.model_copy(
            update={"prompt_file": _absolute(base, profile.ai_summary.prompt_file)}
        ),
        "output": profile.output.model_copy(
            update={"readme": _absolute(base, profile.output.readme)}
        ),
    }
    if profile.relevance is not None:
        library = [
            s.model_copy(update={"path": _absolute(base, s.path)}) if s.path is not None else s
            for s in profile.relevance.library
        ]
        update["relevance"] = profile.relevance.model_copy(update={"library": library})
    return profile.model_copy(update=update)


def profile_view(settings: Settings, name: str, profile: ProfileSettings) -> Settings:
    """What member ``name``'s stages read: the config with their personal fields. The shared
    sections (store, arxiv, http, schedule, scoring...) are the config's own objects."""
    summary = settings.ai_summary
    personal_summary = summary.model_copy(
        update={
            "prompt_file": profile.ai_summary.prompt_file or summary.prompt_file,
            "language": profile.ai_summary.language or summary.language,
        }
    )
    site_dir = Path(settings.output.site_dir) / PROFILES_URL / name
    output = settings.output.model_copy(
        update={"site_dir": site_dir, "readme": profile.output.readme or site_dir / "README.md"}
    )
    feeds = settings.feeds.model_copy(update={"title": f"{settings.feeds.title} · {name}"})
    site_url = f"{settings.site_url}/{PROFILES_URL}/{name}" if settings.site_url else None
    return settings.model_copy(
        update={
            "keywords": profile.keywords,
            "exclude_keywords": profile.exclude_keywords,
            "authors": profile.authors,
            "categories": profile.categories or settings.categories,
            "max_papers": profile.max_papers or settings.max_papers,
            "min_score": (
                profile.min_score if profile.min_score is not None else settings.min_score
            ),
            "relevance": profile.relevance,
            "delivery": profile.delivery,
            "ai_summary": personal_summary,
            "output": output,
            "feeds": feeds,
            "site_url": site_url,
            "profiles": {},
            "profiles_dir": None,
        }
    )
