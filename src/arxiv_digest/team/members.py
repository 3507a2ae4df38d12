"""The members of a team config: each profile as a view of the shared config and store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arxiv_digest.config import Settings
from arxiv_digest.config.profiles import PROFILES_URL, profile_settings, profile_view
from arxiv_digest.errors import ConfigError
from arxiv_digest.store import Store
from arxiv_digest.store.summaries import SummaryChoice
from arxiv_digest.summarize.prompt import instructions, prompt_hash

__all__ = ["Member", "is_team", "member", "members", "summary_choice"]


@dataclass(frozen=True, slots=True)
class Member:
    """One reader: ``name`` ("" for the config's own reader), what their stages read."""

    name: str
    settings: Settings  # a view: the config's shared sections, the member's personal fields
    private: bool = False
    token_env: str | None = None
    readme: Path | None = None  # their Markdown digest, when they asked for one

    def store(self, store: Store) -> Store:
        """Their view of the store: their runs, ratings and deliveries, and of a paper's
        summaries the one made with their model and prompt (their language) first."""
        return store.for_profile(self.name, summaries=summary_choice(self.settings))

    @property
    def path(self) -> str:
        """Where their pages live, relative to the site's root: "p/alice/" ("" for the
        config's own reader)."""
        return f"{PROFILES_URL}/{self.name}/" if self.name else ""

    @property
    def label(self) -> str:
        return self.name or "(config)"


def summary_choice(settings: Settings) -> SummaryChoice | None:
    """(model, prompt hash) of the summaries this reader's settings make; None when their
    prompt file cannot be read (a run says so: any stored summary will do until then)."""
    config = settings.ai_summary
    try:
        return config.model, prompt_hash(instructions(config))
    except ConfigError:
        return None


def is_team(settings: Settings) -> bool:
    return bool(settings.profiles)


def members(settings: Settings) -> tuple[Member, ...]:
    """Every profile of the config, in its order (none for a single-reader config)."""
    return tuple(
        Member(
            name,
            profile_view(settings, name, profile),
            private=profile.private,
            token_env=profile.token_env,
            readme=profile.output.readme,
        )
        for name, profile in profile_settings(settings).items()
    )


def member(settings: Settings, name: str) -> Member:
    """The profile called ``name``; ConfigError naming the profiles there are."""
    for found in members(settings):
        if found.name == name:
            return found
    known = ", ".join(settings.profiles) or "none: the config has no profiles"
    raise ConfigError(f"no profile {name!r} in the config (profiles: {known})")
