"""What a reader types into search, read safely: words, "quoted phrases", -excluded words
and OR (:func:`parse_query`), and the marked passages shown back (:func:`marked`).

Nothing here touches a database: a :class:`Query` becomes an FTS5 expression of quoted
strings, or a PostgreSQL tsquery of bound parameters, and ``store.search`` runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column

from arxiv_digest.errors import SearchError
from arxiv_digest.models import Marked
from arxiv_digest.store.schema import SEARCH_CONFIG

MAX_QUERY_CHARS = 300
MAX_TERMS = 16
START, STOP = "\ue000", "\ue001"  # private-use characters: marks no paper text contains
PG_CONFIG: ColumnElement[Any] = literal_column(f"'{SEARCH_CONFIG}'::regconfig")  # accents folded
_WORD = re.compile(r"[^\W_]")  # a letter or digit: something a tokenizer keeps
_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# Control characters (a NUL ends an FTS5 string, PostgreSQL refuses it in any text) and lone
# surrogates (undecodable bytes on a command line): no paper holds them, so they separate words
_UNSEARCHABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MARKDOWN = re.compile(r"\*\*|__|`|^#+\s*|\s*\|\s*|^\s*[-*]\s+", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Query:
    """A reader's query: every group must match (one of its phrases), no excluded one may."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...]

    def fts5(self) -> str:
        """The FTS5 expression: every phrase a quoted string, so nothing in it is syntax."""

        def quoted(phrase: str) -> str:
            return '"' + phrase.replace('"', '""') + '"'

        required = " AND ".join("(" + " OR ".join(map(quoted, g)) + ")" for g in self.groups)
        return required + "".join(f" NOT {quoted(p)}" for p in self.excluded)

    def tsquery(self) -> ColumnElement[Any]:
        """The PostgreSQL tsquery: each phrase a bound ``phraseto_tsquery`` parameter."""

        def phrase(text: str) -> ColumnElement[Any]:
            return func.phraseto_tsquery(PG_CONFIG, text)

        query: ColumnElement[Any] | None = None
        for group in self.groups:
            either = phrase(group[0])
            for other in group[1:]:
                either = func.tsquery_or(either, phrase(other))
            query = either if query is None else func.tsquery_and(query, either)
        assert query is not None
        for text in self.excluded:
            query = func.tsquery_and(query, func.tsquery_not(phrase(text)))
        return query


def parse_query(text: str) -> Query:
    """Words and ``"phrases"`` (all required), ``-word`` or ``-"phrase"`` (excluded), ``a OR b``.

    An unclosed quote runs to the end. Raises :class:`SearchError` for a query with no word
    in it, only exclusions, or beyond the length limits. Control characters separate words.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(f"the query is too long: at most {MAX_QUERY_CHARS} characters")
    text = _UNSEARCHABLE.sub(" ", text)
    groups: list[list[str]] = []
    excluded: list[str] = []
    joining = after_group = False  # "a OR b": b joins a's group; "-a OR b" joins nothing
    for match in _TERM.finditer(text):
        negated, quoted, bare = match.groups()
        if bare == "OR":
            joining = after_group
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        phrase = " ".join((quoted if quoted is not None else bare).split())
        if not _WORD.search(phrase):
            continue
        if negated:
            excluded.append(phrase)
        elif joining:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        joining, after_group = False, not negated
    if sum(map(len, groups)) + len(excluded) > MAX_TERMS:
        raise SearchError(f"too many words: at most {MAX_TERMS}")
    if not groups:
        raise SearchError(
            "nothing to search for: type a word or two"
            if not excluded
            else "a search needs a word to find, not only words to exclude"
        )
    return Query(tuple(map(tuple, groups)), tuple(excluded))


def marked(text: str | None, *, markdown: bool = False) -> Marked:
    """The engine's highlighted text (matches between START and STOP) as pieces."""
    parts: list[tuple[str, bool]] = []
    for k, raw in enumerate(re.split(f"[{START}{STOP}]", text or "")):
        piece = re.sub(r"\s+", " ", _MARKDOWN.sub(" ", raw) if markdown else raw)
        if piece:
            parts.append((piece, k % 2 == 1))
    if parts:  # no space before the first word or after the last
        parts[0] = (parts[0][0].lstrip(), parts[0][1])
        parts[-1] = (parts[-1][0].rstrip(), parts[-1][1])
    return Marked(tuple(part for part in parts if part[0]))
