"""`explain`: the signals behind a paper's place in today's digest."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from arxiv_digest.cli.base import ConfigOption, _fail, app, out
from arxiv_digest.cli.team import ProfileOption, reader
from arxiv_digest.config import load_settings
from arxiv_digest.errors import DigestError
from arxiv_digest.sources import http
from arxiv_digest.store import Store


@app.command()
def explain(
    arxiv_id: Annotated[str, typer.Argument(help="arXiv id, e.g. 2512.14082 (any version).")],
    config: ConfigOption = None,
    profile: ProfileOption = None,
) -> None:
    """Why a paper is where it is in today's digest: each signal and its points."""
    from arxiv_digest.explain import explain_paper, render  # the ranking: not for `run`

    try:
        settings = load_settings(config)
        with http.make_client(settings.http) as client, Store(settings.store.url) as opened:
            view, store = reader(settings, opened, profile)
            found = explain_paper(view, store, client, arxiv_id)
    except DigestError as exc:
        raise _fail(exc) from None
    out.print(escape(render(found)))
