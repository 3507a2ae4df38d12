"""`mcp`: the MCP server over stdio, for a desktop AI assistant (Claude Desktop, Cursor...).

stdout carries protocol messages only: every log line goes to stderr (the app's logging
handler writes there), and nothing here prints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from arxiv_digest.cli.base import ConfigOption, _fail, app
from arxiv_digest.config import load_settings
from arxiv_digest.errors import DigestError
from arxiv_digest.store import Store


@app.command()
def mcp(
    config: ConfigOption = None,
    allow_writes: Annotated[
        bool,
        typer.Option("--allow-writes", help="Let the assistant rate papers (rate_paper)."),
    ] = False,
) -> None:
    """Serve the digest to an AI assistant over MCP (stdio); read-only unless --allow-writes."""
    try:
        settings = load_settings(config)
        store = Store(settings.store.url)
    except DigestError as exc:
        raise _fail(exc) from None
    from arxiv_digest.assistant.server import Permission, build_server, run_stdio

    try:
        run_stdio(build_server(settings, store, Permission(allow_writes=allow_writes)))
    finally:
        store.close()
