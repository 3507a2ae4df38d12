"""The store's migrations: numbered, named steps from an empty database to the tables of
:mod:`arxiv_digest.store.schema`.

A step is a function of one connection. ``meta.schema_version`` counts the steps a store
has had; :class:`~arxiv_digest.store.Store` runs the later ones, each in its own transaction
with the new count. To change the schema, change the table in ``schema`` and append a step
that brings an existing store to it. Never edit, reorder or remove a step that has shipped:
stores out there ran it as it was, and a new store must take the same path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from arxiv_digest.store.schema import (
    RUN_SUMMARY_COLUMNS,
    RUN_TRIAGE_COLUMNS,
    SEARCH_CONFIG,
    Counters,
    _paper_columns_v1,
    _ranking_columns_v1,
    _rating_columns,
    _run_columns_v1,
    _summary_columns_v2,
    announcements,
    deliveries,
    http_cache,
    library_sync,
    meta,
    name_counts,
    name_days,
    notices,
    papers,
    search_docs,
    summary_html,
    triage,
    vectors,
)

log = logging.getLogger(__name__)


def _add_counter_columns(conn: Connection, counters: Counters) -> None:
    for name, sql_type in counters:
        conn.execute(text(f"ALTER TABLE runs ADD COLUMN {name} {sql_type} NOT NULL DEFAULT 0"))


ratings_v6 = Table(
    "ratings",
    MetaData(),
    Column("arxiv_id", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Column("source", String(16), nullable=False),  # cli | link
    CheckConstraint("value IN (1, -1)", name="ratings_value"),
)


def _initial(conn: Connection) -> None:
    # The tables as they were in version 1: later columns are added by later steps.
    version_1 = MetaData()
    version_1_runs = Table("runs", version_1, *_run_columns_v1())
    version_1_papers = Table("papers", version_1, *_paper_columns_v1())
    version_1_rankings = Table("rankings", version_1, *_ranking_columns_v1())
    for table in (
        meta,
        version_1_papers,
        announcements,
        version_1_runs,
        version_1_rankings,
        http_cache,
    ):
        table.create(conn, checkfirst=True)


def _summaries(conn: Connection) -> None:
    # The table as it was in version 2: later columns are added by later steps.
    Table("summaries", MetaData(), *_summary_columns_v2()).create(conn, checkfirst=True)
    _add_counter_columns(conn, RUN_SUMMARY_COLUMNS)


Migration = tuple[str, Callable[[Connection], None]]


def _digest_date(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE runs ADD COLUMN digest_date DATE"))


PAPER_LISTING = {"listed_on": "DATE", "listed_as": "VARCHAR(16)"}


def _paper_listing(conn: Connection) -> None:
    for name, sql_type in PAPER_LISTING.items():
        conn.execute(text(f"ALTER TABLE papers ADD COLUMN {name} {sql_type}"))


def _repair_stored_text(conn: Connection) -> None:
    """Papers stored before TeX accents and double-encoded UTF-8 were repaired at parse time
    get the same repair, so old archive pages and feeds read "Schrödinger" too."""
    from arxiv_digest.sources.text import clean_name, repair_mojibake, tex_accents_to_unicode

    def prose(value: str) -> str:
        return tex_accents_to_unicode(repair_mojibake(value))

    c = papers.c
    suspects = or_(
        *(
            column.contains(mark, autoescape=True)
            for column in (c.title, c.abstract, c.authors)
            for mark in ("\\", "Ã", "Â")
        )
    )
    rows = conn.execute(
        select(c.arxiv_id, c.version, c.title, c.abstract, c.authors).where(suspects)
    )
    for row in rows.all():
        authors = json.dumps([clean_name(a) for a in json.loads(row.authors)], ensure_ascii=False)
        values = {"title": prose(row.title), "abstract": prose(row.abstract), "authors": authors}
        if values != {"title": row.title, "abstract": row.abstract, "authors": row.authors}:
            conn.execute(
                update(papers)
                .where(c.arxiv_id == row.arxiv_id, c.version == row.version)
                .values(**values)
            )


def _ratings(conn: Connection) -> None:
    ratings_v6.create(conn, checkfirst=True)


def _ranking_why(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE rankings ADD COLUMN why TEXT NOT NULL DEFAULT ''"))


def _vectors(conn: Connection) -> None:
    vectors.create(conn, checkfirst=True)


def _triage(conn: Connection) -> None:
    triage.create(conn, checkfirst=True)


def _run_triage(conn: Connection) -> None:
    _add_counter_columns(conn, RUN_TRIAGE_COLUMNS)


def _deliveries(conn: Connection) -> None:
    deliveries.create(conn, checkfirst=True)


_SEARCH_FOLLOWS = ("papers", "announcements", "summaries")
_SEARCH_TEXT = ("title", "authors", "abstract", "summary")
_SEARCH_FIELDS = ("version", *_SEARCH_TEXT, "primary_category", "categories", "announced")


def _search_doc_insert(dialect: str, where: str) -> str:
    """INSERT of the search document of each latest paper version ``where`` selects."""
    if dialect == "sqlite":
        joined = "(SELECT group_concat(value, '{sep}') FROM json_each(p.{column}))"
    else:
        joined = (
            "(SELECT string_agg(value, '{sep}') FROM json_array_elements_text(p.{column}::json))"
        )
    return f"""
    INSERT INTO search_docs (arxiv_id, {", ".join(_SEARCH_FIELDS)})
    SELECT p.arxiv_id, p.version, p.title,
        coalesce({joined.format(sep=", ", column="authors")}, ''),
        p.abstract,
        coalesce((SELECT s.text FROM summaries s WHERE s.arxiv_id = p.arxiv_id
                  ORDER BY s.version DESC, s.created_at DESC LIMIT 1), ''),
        p.primary_category,
        ' ' || coalesce({joined.format(sep=" ", column="categories")}, '') || ' ',
        coalesce((SELECT max(a.announced) FROM announcements a
                  WHERE a.arxiv_id = p.arxiv_id AND a.version = p.version), p.listed_on)
    FROM papers p
    WHERE {where}
      AND p.version = (SELECT max(q.version) FROM papers q WHERE q.arxiv_id = p.arxiv_id)
    """


def _search_doc_refresh(dialect: str, key: str) -> str:
    """SQL making paper ``key``'s search document match the stored rows (no write, so no
    reindexing, when nothing changed: ingesting the same feed twice is the common case)."""
    different = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    changed = " OR ".join(f"search_docs.{f} {different} excluded.{f}" for f in _SEARCH_FIELDS)
    return (
        _search_doc_insert(dialect, f"p.arxiv_id = {key}")
        + "ON CONFLICT (arxiv_id) DO UPDATE SET "
        + ", ".join(f"{f} = excluded.{f}" for f in _SEARCH_FIELDS)
        + f" WHERE {changed};\n"
        + f"DELETE FROM search_docs WHERE arxiv_id = {key} "
        + f"AND NOT EXISTS (SELECT 1 FROM papers WHERE arxiv_id = {key});"
    )


def _search_sqlite(conn: Connection) -> None:
    # External content: FTS5 keeps only the inverted index and reads snippet text from
    # search_docs (a contentless table cannot make snippets; a plain FTS5 table would keep
    # a third copy of the text). Its rows follow search_docs by the documented
    # delete-then-insert triggers, which hand FTS5 exactly the values it indexed.
    columns = ", ".join(_SEARCH_TEXT)
    new = ", ".join(f"new.{c}" for c in _SEARCH_TEXT)
    old = ", ".join(f"old.{c}" for c in _SEARCH_TEXT)
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE search_fts USING fts5({columns}, content='search_docs', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    add = f"INSERT INTO search_fts (rowid, {columns}) VALUES (new.id, {new});"
    drop = (
        f"INSERT INTO search_fts (search_fts, rowid, {columns}) VALUES ('delete', old.id, {old});"
    )
    for name, event, body in (
        ("search_docs_added", "INSERT", add),
        ("search_docs_removed", "DELETE", drop),
        ("search_docs_changed", "UPDATE", drop + add),
    ):
        conn.exec_driver_sql(f"CREATE TRIGGER {name} AFTER {event} ON search_docs BEGIN {body} END")
    for table in _SEARCH_FOLLOWS:
        for event, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")):
            body = _search_doc_refresh("sqlite", f"{row}.arxiv_id")
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_search_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {body} END"
            )


def _add_search_document(conn: Connection, config: str) -> None:
    """PostgreSQL's ``document`` column: a generated weighted tsvector, with its GIN index."""
    # Weighted: a title match (A) outranks authors (B), the abstract (C), the summary (D).
    weighted = " || ".join(
        f"setweight(to_tsvector('{config}', {column}), '{weight}')"
        for column, weight in zip(_SEARCH_TEXT, "ABCD", strict=True)
    )
    conn.exec_driver_sql(
        f"ALTER TABLE search_docs ADD COLUMN document tsvector GENERATED ALWAYS AS ({weighted}) "
        "STORED"
    )
    # Kept in the row (compressed), the long texts moved out first: matching a candidate
    # then reads no TOAST table.
    conn.exec_driver_sql("ALTER TABLE search_docs ALTER COLUMN document SET STORAGE MAIN")
    conn.exec_driver_sql("CREATE INDEX search_docs_document ON search_docs USING gin (document)")


def _search_postgresql(conn: Connection) -> None:
    _add_search_document(conn, "english")
    refresh = _search_doc_refresh("postgresql", "key")
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION search_docs_refresh(key text) RETURNS void "
        f"LANGUAGE sql AS $body$ {refresh} $body$"
    )
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION search_docs_follow() RETURNS trigger LANGUAGE plpgsql AS "
        "$body$ BEGIN "
        "IF TG_OP = 'DELETE' THEN PERFORM search_docs_refresh(OLD.arxiv_id); "
        "ELSE PERFORM search_docs_refresh(NEW.arxiv_id); END IF; "
        "RETURN NULL; END $body$"
    )
    for table in _SEARCH_FOLLOWS:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_search AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION search_docs_follow()"
        )


def _search(conn: Connection) -> None:
    search_docs.create(conn, checkfirst=True)
    # "was it shown in a digest?" for each hit and as a filter
    conn.exec_driver_sql("CREATE INDEX rankings_arxiv_id ON rankings (arxiv_id)")
    if conn.dialect.name == "sqlite":
        _search_sqlite(conn)
    else:
        _search_postgresql(conn)
    conn.exec_driver_sql(_search_doc_insert(conn.dialect.name, "true"))  # the existing papers
    if conn.dialect.name == "postgresql":  # the planner's statistics of the new index, now
        conn.exec_driver_sql("ANALYZE search_docs")


def _library_sync(conn: Connection) -> None:
    library_sync.create(conn, checkfirst=True)


def _notices(conn: Connection) -> None:
    notices.create(conn, checkfirst=True)


def _fulltext_tried(conn: Connection) -> None:
    type_ = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(text(f"ALTER TABLE summaries ADD COLUMN fulltext_tried_at {type_}"))


# 0014: search ignores accents on PostgreSQL (see ``SEARCH_CONFIG`` in schema.py)
NO_UNACCENT = (
    "PostgreSQL: no unaccent extension (or no right to create it), so search tells accents "
    "apart; docs/deploy.md (PostgreSQL) says how to add it later"
)


def _search_unaccent(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        # The extension may live in another schema than this store's (search_path): name it.
        where = conn.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        ).scalar_one()
    except DBAPIError:
        log.warning(NO_UNACCENT)
        where = None
    # The documents are derived data: made again, in a new table, as 0012 made them. (A
    # dropped and re-added column would be written with the table's default storage, out
    # of line, and matching would read it from TOAST: three times slower at 100k papers.)
    # The triggers are on the source tables and stay; the functions name the table.
    conn.exec_driver_sql("DROP TABLE search_docs")
    search_docs.create(conn)
    conn.exec_driver_sql(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {SEARCH_CONFIG}")
    conn.exec_driver_sql(f"CREATE TEXT SEARCH CONFIGURATION {SEARCH_CONFIG} (COPY = english)")
    if where is not None:
        dictionary = '"' + where.replace('"', '""') + '".unaccent'
        conn.exec_driver_sql(
            f"ALTER TEXT SEARCH CONFIGURATION {SEARCH_CONFIG} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH {dictionary}, english_stem"
        )
    _add_search_document(conn, SEARCH_CONFIG)
    conn.exec_driver_sql(_search_doc_insert("postgresql", "true"))
    conn.exec_driver_sql("ANALYZE search_docs")


def _profiles(conn: Connection) -> None:
    """Team mode: runs and ratings per profile. The config's own reader is profile "", so
    a single reader's rows stay as they were (the ratings keep their values and times)."""
    conn.execute(text("ALTER TABLE runs ADD COLUMN profile VARCHAR(64) NOT NULL DEFAULT ''"))
    conn.execute(text("CREATE INDEX runs_profile ON runs (profile, status)"))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE ratings ADD COLUMN profile VARCHAR(64) NOT NULL DEFAULT ''"))
        conn.execute(text("ALTER TABLE ratings DROP CONSTRAINT ratings_pkey"))
        conn.execute(text("ALTER TABLE ratings ADD PRIMARY KEY (profile, arxiv_id)"))
        return
    # SQLite cannot change a primary key: the table is made again, its rows copied.
    conn.execute(text("ALTER TABLE ratings RENAME TO ratings_v6"))
    Table("ratings", MetaData(), *_rating_columns()).create(conn)
    conn.execute(
        text(
            "INSERT INTO ratings (profile, arxiv_id, value, rated_at, source) "
            "SELECT '', arxiv_id, value, rated_at, source FROM ratings_v6"
        )
    )
    conn.execute(text("DROP TABLE ratings_v6"))


def _name_counts(conn: Connection) -> None:
    name_counts.create(conn, checkfirst=True)
    name_days.create(conn, checkfirst=True)


def _summary_html(conn: Connection) -> None:
    summary_html.create(conn, checkfirst=True)


MIGRATIONS: list[Migration] = [
    ("0001_initial", _initial),
    ("0002_summaries", _summaries),
    ("0003_digest_date", _digest_date),
    ("0004_paper_listing", _paper_listing),
    ("0005_repair_stored_text", _repair_stored_text),
    ("0006_ratings", _ratings),
    ("0007_ranking_why", _ranking_why),
    ("0008_vectors", _vectors),
    ("0009_triage", _triage),
    ("0010_run_triage", _run_triage),
    ("0011_deliveries", _deliveries),
    ("0012_search", _search),
    ("0013_library_sync", _library_sync),
    ("0014_search_unaccent", _search_unaccent),
    ("0015_notices", _notices),
    ("0016_fulltext_tried", _fulltext_tried),
    ("0017_profiles", _profiles),
    ("0018_name_counts", _name_counts),
    ("0019_summary_html", _summary_html),
]
SCHEMA_VERSION = len(MIGRATIONS)
