"""Row <-> record conversions and the idempotent upsert shared by the store's queries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Table, or_
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import StoreError
from arxiv_digest.models import Paper, Summary

T = TypeVar("T")


def one_line(error: SQLAlchemyError) -> str:
    """The driver's own first line ("attempt to write a readonly database"), without
    SQLAlchemy's SQL echo, parameters and "Background on this error" link."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first or type(cause).__name__


KEYS_PER_QUERY = 400  # bound keys per SELECT ... IN (...), well under SQLite's parameter limit


def batches(items: Sequence[T], size: int = KEYS_PER_QUERY) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``: one statement each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing the non-key columns of rows that already exist.

    A row that is already stored as it is stays untouched: no write, and none of the
    triggers that follow it (a paper's search document is indexed again on every update;
    a rerun ingests the same 900 papers).
    """
    if rows:
        conn.execute(_upsert_statement(conn.dialect.name, table), list(rows))


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table) -> Any:
    """The statement :func:`upsert` runs, built once per table (building it costs more
    than running it on a few rows: a team run saves 50 rankings)."""
    keys = [c.name for c in table.primary_key.columns]
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(table)
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # not loaded for SQLite stores

        stmt = postgresql.insert(table)
    else:
        raise StoreError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
    others = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    changed = or_(*(table.c[name].is_distinct_from(value) for name, value in others.items()))
    return (
        stmt.on_conflict_do_update(index_elements=keys, set_=others, where=changed)
        if others
        else stmt.on_conflict_do_nothing(index_elements=keys)
    )


def paper_row(paper: Paper) -> dict[str, Any]:
    return {
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "authors": json.dumps(list(paper.authors), ensure_ascii=False),
        "abstract": paper.abstract,
        "primary_category": paper.primary_category,
        "categories": json.dumps(list(paper.categories)),
        "listed_on": paper.announced,
        "listed_as": paper.announce_type,
    }


def paper_from_row(row: Any) -> Paper:
    return Paper(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"])),
        abstract=row["abstract"],
        primary_category=row["primary_category"],
        categories=tuple(json.loads(row["categories"])),
        announce_type=row["announce_type"],
        announced=row["announced"],
    )


def summary_from_row(row: Any) -> Summary:
    return Summary(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        model=row["model"],
        text=row["text"],
        input_mode=row["input_mode"],
        note=row["note"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
    )


def utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
