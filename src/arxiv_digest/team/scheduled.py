"""The daily run that ``serve --schedule`` and the service's refresh start: a team's for a
config with profiles (every member's digest), the single reader's otherwise."""

from __future__ import annotations

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.models import RunReport
from arxiv_digest.team.members import is_team

__all__ = ["run_configured"]


def run_configured(settings: Settings) -> RunReport:
    """The config's daily run with its configured store and HTTP client; the report of
    the run itself (a team's ingestion, its own digest and the whole bill)."""
    if is_team(settings):
        from arxiv_digest.team.run import run_team_configured  # team configs only

        return run_team_configured(settings).run
    return pipeline.run_configured(settings)
