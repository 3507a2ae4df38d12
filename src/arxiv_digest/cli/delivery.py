"""`deliver`: send (or, with --dry-run, show) the digest to the e-mail and chat channels."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from arxiv_digest.cli.base import ConfigOption, _fail, _state, app, err, out
from arxiv_digest.cli.team import ProfileOption
from arxiv_digest.config import load_settings
from arxiv_digest.errors import ConfigError, DeliveryError, DigestError
from arxiv_digest.models import DeliveryOutcome
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.team import member

_STYLE = {"sent": "green", "failed": "red", "skipped": "yellow", "would send": "cyan"}


def print_deliveries(outcomes: list[DeliveryOutcome]) -> None:
    """One line per channel and day; what a dry run would send after it."""
    if _state["quiet"] or not outcomes:
        return
    table = Table("digest", "channel", "outcome", "messages", "detail", box=None)
    for o in outcomes:
        style = _STYLE.get(o.status, "dim")
        detail = "" if o.status == "would send" else escape(o.detail)
        table.add_row(
            str(o.digest_date), o.channel, f"[{style}]{o.status}[/]", str(o.messages), detail
        )
    out.print(table)


def exit_for_failed_deliveries(outcomes: list[DeliveryOutcome]) -> None:
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        names = ", ".join(f"{o.channel} ({o.digest_date})" for o in failed)
        err.print(f"[bold red]error:[/] delivery failed: {escape(names)}", highlight=False)
        raise typer.Exit(DeliveryError.exit_code)


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--date: {value!r} is not a date such as 2026-04-27") from None


def _no_digest(day: dt.date | None) -> str:
    return "no digest has been published yet" if day is None else f"there is no digest for {day}"


@app.command(name="deliver")
def deliver_command(
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be sent; send nothing.")
    ] = False,
    resend: Annotated[
        bool, typer.Option("--resend", help="Send again, even to channels that have it.")
    ] = False,
    date: Annotated[
        str | None,
        typer.Option("--date", help="The digest of this day (YYYY-MM-DD); default: the latest."),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Only this channel (email, slack or its name); repeatable."),
    ] = None,
    config: ConfigOption = None,
    profile: ProfileOption = None,
) -> None:
    """Send the latest digest to the configured e-mail and chat channels (each once)."""
    # The channels' modules (e-mail, chat formats) load for this command, not for every one.
    from arxiv_digest.delivery.dispatch import DeliveryRequest, deliver

    try:
        settings = load_settings(config)
        reader = member(settings, profile) if profile is not None else None
        if reader is not None:
            settings = reader.settings
        if settings.delivery is None:
            whose = f"profile {profile!r}" if profile is not None else "the config"
            raise ConfigError(f"no delivery section in {whose}: nothing to send to")
        unknown = sorted(set(channel or ()) - set(settings.delivery.channels))
        if unknown:
            raise ConfigError(
                f"--channel: no channel called {', '.join(unknown)} "
                f"(configured: {', '.join(settings.delivery.channels) or 'none'})"
            )
        request = DeliveryRequest(
            day=_day(date), channels=tuple(channel or ()), resend=resend, dry_run=dry_run
        )
        with http.make_client(settings.http) as client, Store(settings.store.url) as opened:
            store = reader.store(opened) if reader is not None else opened
            now = dt.datetime.now(dt.UTC)
            if dry_run:
                outcomes = deliver(settings, store, client, now=now, request=request)
            else:
                with store.exclusive_run():  # never beside a run that is delivering too
                    outcomes = deliver(settings, store, client, now=now, request=request)
    except DigestError as exc:
        raise _fail(exc) from None
    if not outcomes and not _state["quiet"]:
        out.print(f"Nothing to deliver: {_no_digest(request.day)}.")
    for o in outcomes:
        if o.status == "would send":
            out.rule(f"{o.channel}: {o.messages} message(s) for the {o.digest_date} digest")
            out.print(o.detail, markup=False)
    print_deliveries(outcomes)
    exit_for_failed_deliveries(outcomes)
