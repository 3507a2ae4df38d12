"""Parameters from outside (a query string, a path, an MCP tool call), checked one way.

Whole numbers are ASCII digits only (``str.isdigit()`` also takes "²" and "①", which
``int()`` refuses), days are ``YYYY-MM-DD``, ids are arXiv ids in the one pattern of
:mod:`arxiv_digest.ids`. A bad value is a :class:`BadParameter` naming the parameter, with
one short sentence saying what it should be: HTTP answers it with 400, the MCP server with a
tool error.
"""

from __future__ import annotations

import datetime as dt
import re

from arxiv_digest.errors import DigestError, SearchError
from arxiv_digest.ids import ARXIV_ID_FORMS, VERSIONED_ID
from arxiv_digest.web.search import FIELDS

__all__ = [
    "VOTES",
    "BadParameter",
    "arxiv_id",
    "day",
    "number",
    "search_parameter",
    "vote",
]

NUMBER = re.compile(r"[0-9]{1,6}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
VOTES = ("up", "down", "clear")


class BadParameter(DigestError):
    """A parameter that does not make sense; ``parameter`` names it."""

    exit_code = 2

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def number(raw: str | None, name: str, default: int, *, low: int = 1, high: int = 100) -> int:
    """A whole number from ``low`` to ``high``; ``default`` when absent or blank."""
    if raw is None or not raw.strip():
        return default
    value = raw.strip()
    if not NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise BadParameter(name, f"{name} is a whole number from {low} to {high}")
    return int(value)


def day(raw: str | None, name: str) -> dt.date | None:
    """A day, ``YYYY-MM-DD``; None when absent or blank."""
    if raw is None or not raw.strip():
        return None
    try:
        if not DAY.fullmatch(raw.strip()):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise BadParameter(name, f"{name} is a day: YYYY-MM-DD") from None


def arxiv_id(raw: str, name: str = "arxiv_id", *, versioned: bool = True) -> tuple[str, int]:
    """``2411.17712`` or ``2411.17712v2`` (version 0 when not given), exactly: no URL, no
    spaces, so one paper has one address."""
    match = VERSIONED_ID.fullmatch(raw)
    if match is None or (match["version"] and not versioned):
        forms = ARXIV_ID_FORMS + (", with an optional version such as v2" if versioned else "")
        raise BadParameter(name, f"{name} is an arXiv id: {forms}")
    return match["id"], int(match["version"] or 0)


def vote(raw: str, name: str = "vote", choices: tuple[str, ...] = VOTES) -> str:
    if raw not in choices:
        raise BadParameter(name, f"{name} is one of {', '.join(choices)}")
    return raw


def search_parameter(error: SearchError) -> BadParameter:
    """The search's own error as a :class:`BadParameter`: its message starts with the name
    of the parameter it is about ("limit is from 1 to 100"); the rest are about ``q``, but
    for a date range that ends before it starts (``to``)."""
    message = str(error)
    first = message.split(" ", 1)[0]
    if first in (*FIELDS, "page"):
        return BadParameter(first, message)
    return BadParameter("to" if "date range" in message else "q", message)
