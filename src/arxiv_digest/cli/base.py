"""The Typer app, its global options, the consoles and the error exit shared by every command."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from arxiv_digest import __version__
from arxiv_digest.config import (
    CONFIG_ENV,
)
from arxiv_digest.errors import DigestError

log = logging.getLogger("arxiv_digest")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="A daily, ranked digest of new arXiv papers: README, site and feeds.",
)
_state = {"quiet": False}

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar=CONFIG_ENV,
        help="Config file (default: ./config.json).",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        out.print(f"arxiv-digest {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every step.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    _state["quiet"] = quiet
    handler = RichHandler(console=err, show_path=False, show_time=False, rich_tracebacks=verbose)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(exc: DigestError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def _spinner(message: str) -> AbstractContextManager[Any]:
    if _state["quiet"] or not err.is_terminal:
        return nullcontext()
    return err.status(message)
