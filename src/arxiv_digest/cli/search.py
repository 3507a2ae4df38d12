"""`search`: every stored paper, from the command line; the engine ``serve``'s /search uses."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from arxiv_digest.cli.base import ConfigOption, _fail, app, out
from arxiv_digest.cli.team import ProfileOption, reader
from arxiv_digest.config import load_settings
from arxiv_digest.errors import DigestError, SearchError
from arxiv_digest.models import Marked, SearchPage
from arxiv_digest.ratings import SYMBOLS
from arxiv_digest.store import Store
from arxiv_digest.store.search import MAX_LIMIT


def _rich(text: Marked) -> str:
    """Rich markup of marked text: matches in reverse video, everything else escaped."""
    return "".join(f"[reverse]{escape(t)}[/]" if hit else escape(t) for t, hit in text.parts)


def _table(found: SearchPage) -> Table:
    table = Table("#", "paper", "announced", "rated", expand=True)
    for number, hit in enumerate(found.hits, start=found.offset + 1):
        paper = hit.paper
        meta = [f"[link={paper.abs_url}]{paper.versioned_id}[/link]", paper.primary_category]
        if hit.shown_on:
            meta.append(f"in the digest of {hit.shown_on.isoformat()}")
        source = "[italic]AI summary:[/] " if hit.snippet_from == "summary" else ""
        cell = "\n".join(
            (
                f"[bold]{_rich(hit.title)}[/]",
                f"[dim]{_rich(hit.authors)}[/]",
                f"{source}{_rich(hit.snippet)}",
                f"[dim]{escape(' · '.join(meta[1:]))}[/] {meta[0]}",
            )
        )
        rating = "" if hit.rating is None else SYMBOLS["up" if hit.rating > 0 else "down"]
        table.add_row(str(number), cell, paper.announced.isoformat(), rating)
    return table


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SearchError(f"{name} is a day: YYYY-MM-DD") from None


@app.command()
def search(
    query: Annotated[
        str,
        typer.Argument(help='Words, "phrases", -excluded, a OR b (after -- if it starts with -).'),
    ],
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="Results per page.")] = 20,
    page: Annotated[int, typer.Option(min=1, help="Which page of results.")] = 1,
    category: Annotated[
        str | None, typer.Option(help="Only this category (cs.LG) or archive (cs).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Announced on or after (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Announced on or before (YYYY-MM-DD).")
    ] = None,
    shown: Annotated[
        bool | None,
        typer.Option("--shown/--not-shown", help="Only papers a digest listed, or never listed."),
    ] = None,
    rated: Annotated[str | None, typer.Option(help="any, up, down or none.")] = None,
    newest: Annotated[bool, typer.Option("--newest", help="Newest first, not best match.")] = False,
    config: ConfigOption = None,
    profile: ProfileOption = None,
) -> None:
    """Search every stored paper: titles, authors, abstracts and AI summaries."""
    try:
        settings = load_settings(config)
        with Store(settings.store.url) as opened:
            _, store = reader(settings, opened, profile)  # "rated", "shown": theirs
            found = store.search(
                query,
                limit=limit,
                offset=(page - 1) * limit,
                category=category,
                since=_day(since, "--from"),
                until=_day(until, "--to"),
                shown=shown,
                rated=rated,
                sort="newest" if newest else "relevance",
            )
    except DigestError as exc:
        raise _fail(exc) from None
    if as_json:
        from arxiv_digest.web.search import page_json  # the web app's modules, for --json only

        typer.echo(json.dumps(page_json(found), ensure_ascii=False, indent=2))
        return
    if not found.hits:
        message = (
            f"Page {page} is past the last result ({found.total} in all)."
            if found.total
            else f"No stored paper matches {query}."
        )
        out.print(message, markup=False)
        return
    out.print(_table(found))
    shown_to = found.offset + len(found.hits)
    more = f"; --page {page + 1} for more" if found.has_next else ""
    of = (
        f"the best of the {found.total} most recently stored matches"
        if found.capped
        else found.total
    )
    out.print(f"{found.offset + 1}–{shown_to} of {of}{more}", markup=False)
