"""Full-text search over every stored paper: SQLite FTS5 or PostgreSQL tsvector, one interface.

The index (migration 0012) holds one document per paper, its latest stored version: title,
authors, abstract and latest AI summary, kept in step by triggers. What a reader types is
never handed to the database's query syntax: :func:`parse_query` reads it as words,
``"quoted phrases"``, ``-excluded`` words and ``OR``, and each engine is given those as
quoted strings (FTS5) or bound parameters (``phraseto_tsquery``). Anything else in the text
is an ordinary character, but control characters (a NUL would end an FTS5 string) separate
words; a query that cannot be searched is a :class:`SearchError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    and_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)

from arxiv_digest.errors import SearchError
from arxiv_digest.models import Marked, Paper, SearchHit, SearchPage
from arxiv_digest.store import schema
from arxiv_digest.store.papers import ANNOUNCED, announced_papers
from arxiv_digest.store.rows import paper_from_row
from arxiv_digest.store.search_query import PG_CONFIG, START, STOP, Query, marked, parse_query

MAX_LIMIT = 100
RANKED = 2_000  # most recently stored matches ranked: bounded work for a word in every paper
MAX_OFFSET = RANKED - 1
RATED = ("any", "up", "down", "none")
SORTS = ("relevance", "newest")
CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
SNIPPET_TOKENS = 32
SHORT_TEXT = 240  # characters: PostgreSQL shows such a text whole, not a passage
WEIGHTS = (10.0, 4.0, 2.0, 1.0)  # FTS5 bm25: title, authors, abstract, summary
# ts_rank_cd's weights of D (summary), C (abstract), B (authors), A (title)
_PG_WEIGHTS: ColumnElement[Any] = literal_column("'{0.1, 0.2, 0.4, 1.0}'::real[]")
_fts = table("search_fts", column("rowid"))
_FTS: ColumnElement[Any] = literal_column("search_fts")


@dataclass(frozen=True, slots=True)
class _Found:
    id: int
    arxiv_id: str
    version: int
    score: float


class SearchQueries:
    engine: Engine
    profile: str  # whose ratings and digests "rated" and "shown" mean

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        category: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        shown: bool | None = None,
        rated: str | None = None,
        sort: str = "relevance",
    ) -> SearchPage:
        """Every stored paper matching ``query`` (latest versions), best first, one page.

        ``category``: primary or cross-list, ``cs.LG`` or a whole archive ``cs``; ``since``/
        ``until``: the announcement day, inclusive; ``shown``: listed in a published digest
        (or never); ``rated``: any, up, down or none; ``sort``: relevance or newest.
        """
        parsed = parse_query(query)
        _check(limit=limit, offset=offset, category=category, since=since, until=until)
        if rated is not None and rated not in RATED:
            raise SearchError(f"rated is one of {', '.join(RATED)}")
        if sort not in SORTS:
            raise SearchError(f"sort is one of {', '.join(SORTS)}")
        pg = self.engine.dialect.name == "postgresql"
        tsquery = parsed.tsquery() if pg else None
        # "+rowid": a condition SQLite must not hand FTS5 as one lookup per listed id
        doc_id = schema.search_docs.c.id if pg else literal_column("+search_fts.rowid")
        by_column, by_id = _filters(
            doc_id,
            category=category,
            since=since,
            until=until,
            shown=shown,
            rated=rated,
            profile=self.profile,
        )
        with self.engine.connect() as conn:
            if tsquery is not None:
                found, total = _ranked_pg(
                    conn, tsquery, by_column + by_id, sort=sort, limit=limit, offset=offset
                )
            else:
                found, total = _ranked_sqlite(
                    conn, parsed.fts5(), by_column, by_id, sort=sort, limit=limit, offset=offset
                )
            hits = self._hits(conn, found, parsed, tsquery)
        return SearchPage(
            query=query,
            hits=hits,
            total=min(total, RANKED),
            limit=limit,
            offset=offset,
            capped=total > RANKED,
        )

    def _hits(
        self, conn: Any, found: list[_Found], parsed: Query, tsquery: ColumnElement[Any] | None
    ) -> tuple[SearchHit, ...]:
        if not found:
            return ()
        ids = [f.id for f in found]
        arxiv_ids = sorted({f.arxiv_id for f in found})
        marks = _highlights(conn, ids, parsed, tsquery)
        papers = _papers(conn, [(f.arxiv_id, f.version) for f in found])
        shown = _shown_on(conn, arxiv_ids, self.profile)
        r = schema.ratings.c
        mine = (r.profile == self.profile) & r.arxiv_id.in_(arxiv_ids)
        ratings = dict(conn.execute(select(r.arxiv_id, r.value).where(mine)).all())
        hits = []
        for f in found:
            paper = papers.get((f.arxiv_id, f.version))
            if paper is None:  # changed since the first query: the next search shows it
                continue
            title, authors, abstract, summary = marks[f.id]
            snippet, source = (
                (summary, "summary")
                if summary.matched and not abstract.matched
                else (abstract, "abstract")
            )
            hits.append(
                SearchHit(
                    paper=paper,
                    score=float(f.score),
                    title=title,
                    authors=authors,
                    snippet=snippet,
                    snippet_from=source,
                    shown_on=shown.get(f.arxiv_id),
                    rating=ratings.get(f.arxiv_id),
                )
            )
        return tuple(hits)


Ranked = tuple[list[_Found], int]


def _newest(conn: Any, source: Any, doc_id: Any, where: list[Any]) -> list[int]:
    """The ids of the RANKED + 1 most recently stored matches (one more: "there are more")."""
    query = select(doc_id).select_from(source).where(*where).order_by(doc_id.desc())
    return [row[0] for row in conn.execute(query.limit(RANKED + 1))]


def _ranked_sqlite(
    conn: Any,
    fts: str,
    by_column: list[ColumnElement[bool]],
    by_id: list[ColumnElement[bool]],
    *,
    sort: str,
    limit: int,
    offset: int,
) -> Ranked:
    d = schema.search_docs.c
    match = _FTS.op("MATCH")(bindparam("fts", fts))
    documents = _fts.join(schema.search_docs, d.id == _fts.c.rowid)
    filters = by_column + by_id
    # FTS5 walks its index backwards without ranking anything
    ids = _newest(conn, documents if by_column else _fts, _fts.c.rowid, [match, *filters])
    if not ids:
        return [], 0
    # The rowids from the oldest candidate on, not "IN (candidates)": FTS5 would look each
    # one up on its own. Every match in that range passing the filters is a candidate.
    first = ids[:RANKED][-1]
    score = (-func.bm25(_FTS, *WEIGHTS)).label("score")
    order = _order(score, d.announced, sort)
    query = (
        select(_fts.c.rowid, score, d.arxiv_id, d.version)
        .select_from(documents)
        .where(match, _fts.c.rowid >= first, *filters)
        .order_by(*order, _fts.c.rowid.desc())
        .limit(limit)
        .offset(offset)
    )
    found = [_Found(row[0], row[2], row[3], float(row[1])) for row in conn.execute(query)]
    return found, len(ids)


def _order(score: Any, announced: Any, sort: str) -> list[Any]:
    """Best match first, the newest among equals; or the newest first, best among equals."""
    order = [score.desc(), announced.desc()]
    return order[::-1] if sort == "newest" else order


def _ranked_pg(
    conn: Any,
    tsquery: ColumnElement[Any],
    filters: list[ColumnElement[bool]],
    *,
    sort: str,
    limit: int,
    offset: int,
) -> Ranked:
    d = schema.search_docs.c
    document: ColumnElement[Any] = literal_column("search_docs.document")
    ids = _newest(conn, schema.search_docs, d.id, [document.op("@@")(tsquery), *filters])
    if not ids:
        return [], 0
    score = func.ts_rank_cd(_PG_WEIGHTS, document, tsquery).label("score")
    order = _order(score, d.announced, sort)
    from sqlalchemy.dialects.postgresql import ARRAY  # PostgreSQL stores only

    candidates = bindparam("ids", ids[:RANKED], type_=ARRAY(Integer))
    query = (
        select(d.id, score, d.arxiv_id, d.version)
        .where(d.id == func.any(candidates))
        .order_by(*order, d.id.desc())
        .limit(limit)
        .offset(offset)
    )
    found = [_Found(row[0], row[2], row[3], float(row[1])) for row in conn.execute(query)]
    return found, len(ids)


def _check(
    *,
    limit: int,
    offset: int,
    category: str | None,
    since: dt.date | None,
    until: dt.date | None,
) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit is from 1 to {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchError(f"offset is from 0 to {MAX_OFFSET}")
    if category is not None and not CATEGORY.fullmatch(category):
        raise SearchError("category is an arXiv category such as cs.LG, or an archive such as cs")
    if since is not None and until is not None and since > until:
        raise SearchError("the date range ends before it starts")


def _filters(
    doc_id: ColumnElement[int],
    *,
    category: str | None,
    since: dt.date | None,
    until: dt.date | None,
    shown: bool | None,
    rated: str | None,
    profile: str = "",
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """Conditions on the documents' columns, and on ``doc_id`` alone (the few papers shown
    or rated, listed once: no lookup per match)."""
    d = schema.search_docs.c
    by_column: list[ColumnElement[bool]] = []
    if category is not None:  # checked by CATEGORY: no LIKE wildcard in it
        by_column.append(
            d.categories.like(f"% {category} %")
            if "." in category
            else or_(d.categories.like(f"% {category} %"), d.categories.like(f"% {category}.%"))
        )
    if since is not None:
        by_column.append(d.announced >= since)
    if until is not None:
        by_column.append(d.announced <= until)
    by_id: list[ColumnElement[bool]] = []
    listed = schema.search_docs.alias("listed")
    if shown is not None:
        k, r = schema.rankings.c, schema.runs.c
        published = select(k.arxiv_id).where(k.run_id == r.id, _published(profile))
        ids = select(listed.c.id).where(listed.c.arxiv_id.in_(published))
        by_id.append(doc_id.in_(ids) if shown else doc_id.not_in(ids))
    if rated is not None:
        v = schema.ratings.c
        value = {"up": v.value > 0, "down": v.value < 0}.get(rated, v.value.is_not(None))
        theirs = select(v.arxiv_id).where(value, v.profile == profile)
        ids = select(listed.c.id).where(listed.c.arxiv_id.in_(theirs))
        by_id.append(doc_id.not_in(ids) if rated == "none" else doc_id.in_(ids))
    return by_column, by_id


def _published(profile: str = "") -> ColumnElement[bool]:
    """A run whose digest for ``profile`` was published (as :meth:`published_runs` reads
    them)."""
    r = schema.runs.c
    return and_(
        r.status == "ok",
        r.fingerprint.is_not(None),
        r.digest_date.is_not(None),
        r.profile == profile,
    )


def _highlights(
    conn: Any, ids: Sequence[int], parsed: Query, tsquery: ColumnElement[Any] | None
) -> dict[int, tuple[Marked, Marked, Marked, Marked]]:
    """Title, authors, abstract passage and summary passage of each document, marked."""
    if tsquery is None:
        match = _FTS.op("MATCH")(bindparam("fts", parsed.fts5()))
        columns: list[ColumnElement[Any]] = [
            func.highlight(_FTS, 0, START, STOP),
            func.highlight(_FTS, 1, START, STOP),
            func.snippet(_FTS, 2, START, STOP, "…", SNIPPET_TOKENS),
            func.snippet(_FTS, 3, START, STOP, "…", SNIPPET_TOKENS),
        ]
        query = select(_fts.c.rowid, *columns).where(match, _fts.c.rowid.in_(ids))
    else:
        d = schema.search_docs.c
        whole = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
        passage = (
            f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        config = PG_CONFIG

        def headline(text: ColumnElement[str]) -> ColumnElement[str]:
            """A passage of a long text; a short one whole (a passage would drop words)."""
            options = case((func.length(text) <= SHORT_TEXT, whole), else_=passage)
            return func.ts_headline(config, text, tsquery, options)

        columns = [
            func.ts_headline(config, d.title, tsquery, whole),
            func.ts_headline(config, d.authors, tsquery, whole),
            headline(d.abstract),
            headline(d.summary),
        ]
        query = select(d.id, *columns).where(d.id.in_(ids))
    return {
        row[0]: (marked(row[1]), marked(row[2]), marked(row[3]), marked(row[4], markdown=True))
        for row in conn.execute(query).all()
    }


def _papers(conn: Any, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Paper]:
    """Each paper version with its latest announcement (as :meth:`Store.paper` gives it)."""
    ids = sorted({arxiv_id for arxiv_id, _ in keys})
    query = announced_papers().where(schema.papers.c.arxiv_id.in_(ids)).order_by(ANNOUNCED)
    wanted, papers = set(keys), {}
    for row in conn.execute(query).mappings().all():  # oldest first: the latest wins
        key = (row["arxiv_id"], row["version"])
        if key in wanted:
            papers[key] = paper_from_row(row)
    return papers


def _shown_on(conn: Any, arxiv_ids: list[str], profile: str = "") -> dict[str, dt.date]:
    k, r = schema.rankings.c, schema.runs.c
    query = (
        select(k.arxiv_id, func.max(r.digest_date))
        .where(k.run_id == r.id, _published(profile), k.arxiv_id.in_(arxiv_ids))
        .group_by(k.arxiv_id)
    )
    return {row[0]: row[1] for row in conn.execute(query)}


__all__ = ["Query", "SearchError", "SearchQueries", "marked", "parse_query"]
