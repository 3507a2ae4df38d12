"""Store rows as JSON values and back, the same for SQLite and PostgreSQL.

The one encoding shared by ``export``/``import`` (a whole store as files) and the history
folder a fork commits (``store.history_dir``): a row is a JSON object of its columns, dates
as ``YYYY-MM-DD``, timestamps as ISO 8601 in UTC, binary values in base64. Every table's
columns decide the decoding, so an export file can carry nothing the table cannot hold.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Column, Date, DateTime, Float, Integer, LargeBinary, Table
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from arxiv_digest.store.rows import utc


class RowError(ValueError):
    """A value that does not fit its column; the message names the column."""


def encode_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return utc(value).isoformat()
    if isinstance(column.type, Date):
        return value.isoformat()
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def encode_row(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored row as a JSON object, its columns in the table's order."""
    return {c.name: encode_value(c, row[c.name]) for c in table.columns}


def dump_line(table: Table, row: Mapping[Any, Any]) -> str:
    """One row as one line of JSON (non-ASCII kept as is: the files stay readable)."""
    return json.dumps(encode_row(table, row), ensure_ascii=False, separators=(",", ":"))


def decode_row(table: Table, values: object) -> dict[str, Any]:
    """A JSON object back into a row of ``table``; :class:`RowError` on anything else."""
    if not isinstance(values, dict):
        raise RowError(f"a {table.name} row is a JSON object, not {type(values).__name__}")
    unknown = sorted(set(values) - {c.name for c in table.columns})
    if unknown:
        raise RowError(f"{table.name} has no column {unknown[0]!r}")
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in values:
            default = column.default
            if column.primary_key and isinstance(default, ScalarElementColumnDefault):
                row[column.name] = default.arg  # ratings.profile, in files from before 0017
                continue
            if column.primary_key or (not column.nullable and column.default is None):
                raise RowError(f"{table.name}.{column.name} is missing")
            continue
        try:
            row[column.name] = decode_value(column, values[column.name])
        except (TypeError, ValueError, binascii.Error) as exc:
            raise RowError(f"{table.name}.{column.name}: {exc}") from None
    return row


def decode_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        if not column.nullable or column.primary_key:
            raise ValueError("may not be null")
        return None
    for kind, decode in _DECODERS:
        if isinstance(column.type, kind):
            return decode(value)
    return _text(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"an integer, not {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a number, not {value!r}")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a string, not {value!r}")
    return value


# DateTime before Date: the order in which a column's type is tested.
_DECODERS: tuple[tuple[type[Any], Callable[[Any], Any]], ...] = (
    (DateTime, lambda value: utc(dt.datetime.fromisoformat(_text(value)))),
    (Date, lambda value: dt.date.fromisoformat(_text(value))),
    (LargeBinary, lambda value: base64.b64decode(_text(value), validate=True)),
    (Integer, _integer),
    (Float, _number),
)
