"""The whole store as portable files (``export``), and back into an empty store (``import``).

An export is a folder: one JSON Lines file per table (``papers.jsonl``: one row per line,
see :mod:`arxiv_digest.store.portable`) and ``manifest.json``, which names the tool's schema
version and, per file, its row count and SHA-256. Files are plain UTF-8 text, so they move
between machines, compress well and can be read or fixed by hand; SQLite and PostgreSQL
export and import the same files.

Import checks every file completely (checksum, row count, every value against its
column) before it writes anything, then writes everything in one transaction: a corrupt or
truncated export is one error naming the file and line, and the store stays as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import ConfigError, StoreError
from arxiv_digest.store import schema
from arxiv_digest.store.portable import RowError, decode_row, dump_line
from arxiv_digest.store.repo import Store
from arxiv_digest.store.rows import one_line

FORMAT = "arxiv-digest-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000

# Every table, in an order that inserts a row after the rows it refers to.
EXPORTED: tuple[Table, ...] = (
    schema.papers,
    schema.announcements,
    schema.runs,
    schema.rankings,
    schema.summaries,
    schema.triage,
    schema.ratings,
    schema.deliveries,
    schema.notices,
    schema.vectors,
    schema.library_sync,
)
# ...but these, which the store makes again by itself.
NOT_EXPORTED = {
    "meta": "the schema version: the importing store has its own",
    "http_cache": "conditional-GET validators: the next poll simply downloads the feed",
    "search_docs": "the search index: rebuilt by the store's triggers as rows are imported",
    "name_counts": "author name statistics: counted again from the announcements by a run",
    "name_days": "the days name_counts holds: counted again with it",
    "summary_html": "summaries rendered as HTML: rendered again from the summaries",
}


@dataclass(frozen=True, slots=True)
class TableFile:
    table: str
    file: str
    rows: int
    sha256: str


def export_store(store: Store, output: Path) -> list[TableFile]:
    """Write every exported table of ``store`` to the new folder ``output``.

    The files are written to a temporary folder beside it and renamed into place, so
    ``output`` appears complete or not at all.
    """
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ConfigError(f"--output {output} exists and is not an empty folder")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        written = [_export_table(store, table, staging) for table in EXPORTED]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema_version": store.schema_version(),
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tables": [
                {"table": t.table, "file": t.file, "rows": t.rows, "sha256": t.sha256}
                for t in written
            ],
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if output.exists():
            output.rmdir()
        staging.rename(output)
    except SQLAlchemyError as exc:
        raise StoreError(f"store {store.safe_url}: cannot export: {one_line(exc)}") from None
    except OSError as exc:
        raise StoreError(f"cannot write the export {output}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _export_table(store: Store, table: Table, folder: Path) -> TableFile:
    name = f"{table.name}.jsonl"
    digest = hashlib.sha256()
    count = 0
    order = list(table.primary_key.columns)
    with (
        (folder / name).open("w", encoding="utf-8", newline="\n") as handle,
        store.engine.connect() as conn,
    ):
        rows = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
        for row in rows.mappings():
            line = dump_line(table, row) + "\n"
            handle.write(line)
            digest.update(line.encode("utf-8"))
            count += 1
    return TableFile(table.name, name, count, digest.hexdigest())


def import_store(store: Store, source: Path) -> dict[str, int]:
    """Load the export in ``source`` into ``store``, which must hold no data yet.

    Returns the rows imported per table. Nothing is written unless every file is whole.
    """
    files = read_manifest(source, store.schema_version())
    for entry in files:
        for _ in _rows(source, entry):  # the whole check first: nothing half-imported
            pass
    try:
        with store.engine.begin() as conn:
            _require_empty(conn, store)
            for entry in files:
                _insert(conn, schema.metadata.tables[entry.table], _rows(source, entry))
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('runs', 'id'), "
                        "coalesce(max(id), 0) + 1, false) FROM runs"
                    )
                )
    except SQLAlchemyError as exc:
        raise StoreError(f"store {store.safe_url}: cannot import: {one_line(exc)}") from None
    return {entry.table: entry.rows for entry in files}


def read_manifest(source: Path, schema_version: int) -> list[TableFile]:
    """The export's files in import order; ConfigError when it is not one we can read."""
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source} is not an arxiv-digest export: no {MANIFEST}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ConfigError(f"{path}: not an arxiv-digest export manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"{path}: export format {manifest.get('format_version')!r} is unknown")
    made_by = manifest.get("schema_version")
    if not isinstance(made_by, int) or made_by > schema_version:
        raise ConfigError(
            f"{path}: made by a newer arxiv-digest (store schema {made_by!r}, this one "
            f"{schema_version}): upgrade arxiv-digest first"
        )
    return _manifest_files(path, manifest.get("tables"))


def _manifest_files(path: Path, tables: Any) -> list[TableFile]:
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: 'tables' is not a list")
    known = {t.name: n for n, t in enumerate(EXPORTED)}
    files: list[TableFile] = []
    for n, entry in enumerate(tables):
        try:
            item = TableFile(entry["table"], entry["file"], int(entry["rows"]), entry["sha256"])
        except (TypeError, KeyError, ValueError):
            raise ConfigError(f"{path}: tables[{n}] is not a table entry") from None
        if item.table not in known or Path(item.file).name != item.file:
            raise ConfigError(f"{path}: tables[{n}]: unknown table or file {item.file!r}")
        files.append(item)
    return sorted(files, key=lambda f: known[f.table])


def _rows(source: Path, entry: TableFile) -> Iterator[dict[str, Any]]:
    """Decoded rows of one file, checking each line and, at the end, count and checksum."""
    table = schema.metadata.tables[entry.table]
    path = source / entry.file
    digest = hashlib.sha256()
    count = 0
    try:
        with path.open("rb") as handle:
            for count, raw in enumerate(handle, start=1):
                digest.update(raw)
                yield _decode_line(path, count, table, raw)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if count != entry.rows:
        raise ConfigError(
            f"{path}: {count} rows where {MANIFEST} says {entry.rows} (cut short or changed?)"
        )
    if digest.hexdigest() != entry.sha256:
        raise ConfigError(f"{path}: does not match its checksum in {MANIFEST} (changed?)")


def _decode_line(path: Path, number: int, table: Table, raw: bytes) -> dict[str, Any]:
    where = f"{path} line {number}"
    if not raw.endswith(b"\n"):
        raise ConfigError(f"{where}: the line is cut short (the file is truncated)")
    try:
        return decode_row(table, json.loads(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: not a JSON row ({exc})") from None
    except RowError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _require_empty(conn: Connection, store: Store) -> None:
    for table in EXPORTED:
        count = conn.scalar(select(func.count()).select_from(table))
        if count:
            raise ConfigError(
                f"store {store.safe_url} already holds data ({count} {table.name} rows): "
                "import into a new, empty store"
            )


def _insert(conn: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
