"""Team mode on the command line: ``profiles``, and the ``--profile`` option the reader's
commands (``run``, ``rate``, ``search``, ``deliver``) share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from arxiv_digest.cli.base import ConfigOption, _fail, _state, app, out
from arxiv_digest.config import Settings, load_settings
from arxiv_digest.errors import DigestError
from arxiv_digest.models import SummaryStats
from arxiv_digest.store import Store
from arxiv_digest.team import member, members

if TYPE_CHECKING:
    from arxiv_digest.team.run import TeamReport

__all__ = ["ProfileOption", "print_team_report", "reader"]

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="A team member's profile (default: the config's own reader).",
        show_default=False,
    ),
]


def reader(settings: Settings, store: Store, profile: str | None) -> tuple[Settings, Store]:
    """The config and store as ``profile`` sees them (ConfigError for an unknown name)."""
    if profile is None:
        return settings, store
    found = member(settings, profile)
    return found.settings, found.store(store)


def _bill(stats: SummaryStats, currency: str) -> str:
    return (
        f"{stats.made} new, {stats.cached} cached, {stats.failed} failed; tokens "
        f"{stats.tokens_in:,} in / {stats.tokens_out:,} out; {stats.cost:.4f} {currency}"
    )


def print_team_report(team: TeamReport, currency: str) -> None:
    if _state["quiet"]:
        return
    table = Table("profile", "papers", "summaries (its share)", "new also wanted by others")
    for m in team.members:
        bill = _bill(m.report.summaries, currency)
        table.add_row(m.name, str(m.report.ranked), bill, str(m.shared))
    if team.members:
        out.print(table)
        out.print(f"Team total: {_bill(team.run.summaries, currency)}")


@app.command()
def profiles(config: ConfigOption = None) -> None:
    """List the team's profiles: their last digest, channels and whether they are private."""
    try:
        settings = load_settings(config)
        team = members(settings)
        table = Table("profile", "last digest", "papers", "channels", "private")
        with Store(settings.store.url) as store:
            for m in team:
                published = m.store(store).published_runs()
                last = published[0] if published else None
                papers = len(m.store(store).ranking(last[1])) if last else 0
                delivery = m.settings.delivery
                channels = delivery.channels if delivery is not None else []
                table.add_row(
                    m.name,
                    last[0].isoformat() if last else "none yet",
                    str(papers),
                    ", ".join(channels) or "-",
                    "yes" if m.private else "no",
                )
    except DigestError as exc:
        raise _fail(exc) from None
    if not team:
        out.print("No profiles: this config has one reader (see Running it for a team).")
        return
    out.print(table)
