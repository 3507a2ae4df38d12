"""`export` and `import`: the whole store as portable files, e.g. to move to PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arxiv_digest.cli.base import ConfigOption, _fail, _state, app, out
from arxiv_digest.config import load_settings
from arxiv_digest.errors import DigestError
from arxiv_digest.store import Store
from arxiv_digest.store.export import export_store, import_store


@app.command("export")
def export(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="New folder for the export's files.")
    ],
    config: ConfigOption = None,
) -> None:
    """Write the whole store (papers, digests, summaries, ratings...) as portable files."""
    try:
        settings = load_settings(config)
        with Store(settings.store.url) as store:
            files = export_store(store, output)
    except DigestError as exc:
        raise _fail(exc) from None
    if not _state["quiet"]:
        rows = ", ".join(f"{f.rows} {f.table}" for f in files if f.rows)
        out.print(f"Exported to {output}: {rows or 'an empty store'}.", markup=False)


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="A folder written by `arxiv-digest export`.")],
    config: ConfigOption = None,
) -> None:
    """Load an export into the configured store, which must be empty (all or nothing)."""
    try:
        settings = load_settings(config)
        with Store(settings.store.url) as store:
            counts = import_store(store, source)
            where = store.safe_url
    except DigestError as exc:
        raise _fail(exc) from None
    if not _state["quiet"]:
        rows = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
        out.print(f"Imported into {where}: {rows or 'nothing (the export is empty)'}.")
