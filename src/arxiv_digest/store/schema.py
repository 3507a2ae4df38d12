"""Tables of the store (SQLAlchemy Core) and their ordered, named migrations.

``meta.schema_version`` holds the number of migrations applied; a later version of the
tool appends to :data:`MIGRATIONS` and never edits an existing step.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

papers = Table(
    "papers",
    metadata,
    Column("arxiv_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON list
    Column("abstract", Text, nullable=False),
    Column("primary_category", String(64), nullable=False),
    Column("categories", Text, nullable=False),  # JSON list
)

announcements = Table(
    "announcements",
    metadata,
    Column("arxiv_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("announced", Date, primary_key=True, index=True),
    Column("announce_type", String(16), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("fetched", Integer, nullable=False, default=0),
    Column("candidates", Integer, nullable=False, default=0),
    Column("ranked", Integer, nullable=False, default=0),
    Column("fingerprint", String(64)),  # hash of the published digest content
    Column("message", Text, nullable=False, default=""),
)

rankings = Table(
    "rankings",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("arxiv_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("matched", Text, nullable=False),  # JSON list of config terms
    Column("category", String(64), nullable=False),
)

http_cache = Table(
    "http_cache",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
)


def _initial(conn: Connection) -> None:
    for table in (meta, papers, announcements, runs, rankings, http_cache):
        table.create(conn, checkfirst=True)


Migration = tuple[str, Callable[[Connection], None]]
MIGRATIONS: list[Migration] = [
    ("0001_initial", _initial),
]
SCHEMA_VERSION = len(MIGRATIONS)
