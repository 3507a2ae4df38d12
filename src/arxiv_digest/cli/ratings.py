"""`rate`: the reader's 👍/👎 from the command line."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from arxiv_digest.cli.base import ConfigOption, _fail, _state, app, out
from arxiv_digest.cli.team import ProfileOption, reader
from arxiv_digest.config import (
    load_settings,
)
from arxiv_digest.errors import ConfigError, DigestError
from arxiv_digest.ids import ARXIV_ID_FORMS
from arxiv_digest.models import RATING_VALUES, Rating
from arxiv_digest.ratings import SYMBOLS
from arxiv_digest.sources.text import split_arxiv_id
from arxiv_digest.store import Store


def _rating_table(store: Store, found: list[Rating]) -> Table:
    table = Table("id", "rating", "when", "source", "title")
    for rating in found:
        paper = store.paper(rating.arxiv_id)
        symbol = SYMBOLS["up" if rating.value > 0 else "down"]
        when = f"{rating.rated_at:%Y-%m-%d %H:%M} UTC"
        title = escape(paper.title) if paper else "[dim](not in the store)[/]"
        table.add_row(rating.arxiv_id, f"{symbol} {rating.value:+d}", when, rating.source, title)
    return table


def _rate_one(store: Store, raw_id: str, action: str) -> str:
    try:
        arxiv_id, _ = split_arxiv_id(raw_id)  # every version of a paper shares its rating
    except ValueError:
        raise ConfigError(
            f"not an arXiv identifier: {raw_id!r} (write {ARXIV_ID_FORMS}, in ASCII digits, "
            "with a month from 01 to 12; an abs URL or a version such as v2 is fine too)"
        ) from None
    if action not in (*RATING_VALUES, "clear"):
        raise ConfigError(f"the rating is up, down or clear, not {action!r}")
    paper = store.paper(arxiv_id)
    name = f"{arxiv_id} ({paper.title})" if paper else arxiv_id
    if action == "clear":
        cleared = store.clear_rating(arxiv_id)
        return f"Cleared the rating of {name}." if cleared else f"{name} had no rating."
    store.rate(arxiv_id, RATING_VALUES[action], "cli", dt.datetime.now(dt.UTC))
    message = f"Rated {name} {SYMBOLS[action]} ({action})."
    if paper is None:
        message += " It is not in the store yet: the rating is kept for when it is."
    return message


@app.command()
def rate(
    arxiv_id: Annotated[
        str | None, typer.Argument(help="arXiv id, e.g. 2512.14082 (any version).")
    ] = None,
    action: Annotated[str | None, typer.Argument(help="up, down or clear.")] = None,
    list_all: Annotated[bool, typer.Option("--list", "-l", help="Show every rating.")] = False,
    config: ConfigOption = None,
    profile: ProfileOption = None,
) -> None:
    """Rate a paper up or down (or clear its rating); --list shows every rating."""
    try:
        if list_all == (arxiv_id is not None) or (arxiv_id is not None and action is None):
            raise ConfigError("give an arXiv id and up, down or clear; or --list alone")
        settings = load_settings(config)
        with Store(settings.store.url) as opened:
            _, store = reader(settings, opened, profile)
            if list_all:
                found = store.ratings()
                out.print(_rating_table(store, found) if found else "No ratings yet.")
                return
            assert arxiv_id is not None and action is not None
            message = _rate_one(store, arxiv_id, action.lower())
    except DigestError as exc:
        raise _fail(exc) from None
    if not _state["quiet"]:
        out.print(message, markup=False)
