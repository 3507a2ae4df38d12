"""Tables of the store (SQLAlchemy Core) and their ordered, named migrations.

``meta.schema_version`` holds the number of migrations applied; a later version of the
tool appends to :data:`MIGRATIONS` and never edits an existing step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def _paper_columns_v1() -> list[Column[Any]]:
    return [
        Column("arxiv_id", String(64), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("title", Text, nullable=False),
        Column("authors", Text, nullable=False),  # JSON list
        Column("abstract", Text, nullable=False),
        Column("primary_category", String(64), nullable=False),
        Column("categories", Text, nullable=False),  # JSON list
    ]


papers = Table(
    "papers",
    metadata,
    *_paper_columns_v1(),
    # 0004: how the source that stored this version dated it; the only date of a paper
    # looked up by id (``summarize``), which has no announcement row
    Column("listed_on", Date),
    Column("listed_as", String(16)),
)

announcements = Table(
    "announcements",
    metadata,
    Column("arxiv_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("announced", Date, primary_key=True, index=True),
    Column("announce_type", String(16), nullable=False),
)


def _run_columns_v1() -> list[Column[Any]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True)),
        Column("status", String(16), nullable=False),
        Column("fetched", Integer, nullable=False, default=0),
        Column("candidates", Integer, nullable=False, default=0),
        Column("ranked", Integer, nullable=False, default=0),
        Column("fingerprint", String(64)),  # hash of the published digest content
        Column("message", Text, nullable=False, default=""),
    ]


# Added by 0002_summaries: the run's LLM accounting.
RUN_SUMMARY_COLUMNS = (
    ("summaries_made", "INTEGER"),
    ("summaries_cached", "INTEGER"),
    ("summaries_failed", "INTEGER"),
    ("tokens_in", "INTEGER"),
    ("tokens_out", "INTEGER"),
    ("cost", "DOUBLE PRECISION"),
)

# Added by 0010_run_triage: the run's LLM triage accounting.
RUN_TRIAGE_COLUMNS = (
    ("triage_calls", "INTEGER"),
    ("triage_cached", "INTEGER"),
    ("triage_failed", "INTEGER"),
    ("triage_tokens_in", "INTEGER"),
    ("triage_tokens_out", "INTEGER"),
    ("triage_cost", "DOUBLE PRECISION"),
)

Counters = tuple[tuple[str, str], ...]


def _counter_columns(counters: Counters) -> list[Column[Any]]:
    """A run's accounting columns: integers or amounts, never null, 0 when not counted."""
    kinds = {"INTEGER": Integer, "DOUBLE PRECISION": Float}
    return [Column(name, kinds[sql_type], nullable=False, default=0) for name, sql_type in counters]


def _add_counter_columns(conn: Connection, counters: Counters) -> None:
    for name, sql_type in counters:
        conn.execute(text(f"ALTER TABLE runs ADD COLUMN {name} {sql_type} NOT NULL DEFAULT 0"))


runs = Table(
    "runs",
    metadata,
    *_run_columns_v1(),
    *_counter_columns(RUN_SUMMARY_COLUMNS),
    Column("digest_date", Date),  # 0003: the latest announcement day the digest covers
    *_counter_columns(RUN_TRIAGE_COLUMNS),
    # 0017: whose digest the run made: "" for the config's own (the ingestion, and the only
    # one of a config without profiles), a profile's name for that member's ranking
    Column("profile", String(64), nullable=False, default="", server_default=""),
)


def _ranking_columns_v1() -> list[Column[Any]]:
    return [
        Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        Column("rank", Integer, primary_key=True),
        Column("arxiv_id", String(64), nullable=False),
        Column("version", Integer, nullable=False),
        Column("score", Float, nullable=False),
        Column("matched", Text, nullable=False),  # JSON list of config terms
        Column("category", String(64), nullable=False),
    ]


rankings = Table(
    "rankings",
    metadata,
    *_ranking_columns_v1(),
    # 0007: why the paper is in the digest, one line ("" for a keyword-only config)
    Column("why", Text, nullable=False, default=""),
)

http_cache = Table(
    "http_cache",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
)


def _summary_columns_v2() -> list[Column[Any]]:
    return [
        Column("arxiv_id", String(64), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("model", String(200), primary_key=True),
        Column("prompt_hash", String(64), primary_key=True),
        Column("input_mode", String(16), primary_key=True),
        Column("text", Text, nullable=False),
        Column("note", Text, nullable=False, default=""),
        Column("tokens_in", Integer, nullable=False, default=0),
        Column("tokens_out", Integer, nullable=False, default=0),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ]


summaries = Table(
    "summaries",
    metadata,
    *_summary_columns_v2(),
    # 0016: for a summary from the abstract (it has a note), the last try at its full text
    # (none yet: ``created_at``); the summarizer tries again only hours later
    Column("fulltext_tried_at", DateTime(timezone=True)),
)


# 0006: the reader's +1/-1 per paper (any version), from the CLI or a signed link
# 0017: per reader: ``profile`` is "" for the config's own reader, else a profile's name
def _rating_columns() -> list[Any]:
    return [
        Column("profile", String(64), primary_key=True, default="", server_default=""),
        Column("arxiv_id", String(64), primary_key=True),
        Column("value", Integer, nullable=False),
        Column("rated_at", DateTime(timezone=True), nullable=False),
        Column("source", String(16), nullable=False),  # cli | link | api | mcp
        CheckConstraint("value IN (1, -1)", name="ratings_value"),
    ]


ratings_v6 = Table(
    "ratings",
    MetaData(),
    Column("arxiv_id", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Column("source", String(16), nullable=False),  # cli | link
    CheckConstraint("value IN (1, -1)", name="ratings_value"),
)
ratings = Table("ratings", metadata, *_rating_columns())

# 0008: a model's vector of a text, so a rerun embeds nothing. ``key`` names the text:
# "arxiv:2401.12345v1" for a paper version, a library entry's key plus a hash of its text.
vectors = Table(
    "vectors",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("embedder", String(255), primary_key=True),  # "fastembed:<model>", "openai:<model>"
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # little-endian float32, ``dim`` of them
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# 0009: an LLM's triage of a paper version against the reader's interests (hashed), so the
# same paper, model and interests are never asked twice.
# 0011: what each delivery channel received of each day's digest (sent once, resumed
# from the first message that did not arrive)
deliveries = Table(
    "deliveries",
    metadata,
    Column("digest_date", Date, primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # sent | partial | failed
    Column("messages_sent", Integer, nullable=False, default=0),
    Column("messages_total", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('sent', 'partial', 'failed')", name="deliveries_status"),
)

# 0015: the short notice each delivery channel got about an arXiv announcement day that
# has no digest (once a day, however many runs fail; a failed one is tried again)
notices = Table(
    "notices",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # sent | failed
    Column("text", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('sent', 'failed')", name="notices_status"),
)

# 0013: a Zotero library as last read, with its library version, so the next run asks only
# what changed since (``since=``, ``If-Modified-Since-Version``) and survives Zotero being down
library_sync = Table(
    "library_sync",
    metadata,
    Column("source", String(512), primary_key=True),  # base URL, library and collection
    Column("version", Integer, nullable=False),  # Zotero's Last-Modified-Version
    Column("items", Text, nullable=False),  # JSON: the library's items, by key
    Column("synced_at", DateTime(timezone=True), nullable=False),
)

# 0018: how many distinct papers each author name signs a month (store/names.py), counted
# from the announcements, a day at a time: a rare name is most likely one person
name_counts = Table(
    "name_counts",
    metadata,
    Column("name", String(200), primary_key=True),  # "rui li": first and last name, folded
    Column("month", String(7), primary_key=True),  # "2025-09"
    Column("papers", Integer, nullable=False),
)
name_days = Table(
    "name_days",
    metadata,
    Column("day", Date, primary_key=True),  # an announcement day counted into name_counts
    Column("announcements", Integer, nullable=False),  # its new and cross announcements
)

# 0019: each summary's Markdown as HTML, by the renderer that made it: pages and feeds of
# the last weeks show the same summaries every day, and a fresh runner (a fork's) would
# otherwise render them all again (publish/html.py)
summary_html = Table(
    "summary_html",
    metadata,
    Column("text_sha", String(64), primary_key=True),  # SHA-256 of the summary's Markdown
    Column("renderer", String(64), nullable=False),
    Column("html", Text, nullable=False),
)

triage = Table(
    "triage",
    metadata,
    Column("arxiv_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("interests_hash", String(64), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("tokens_in", Integer, nullable=False, default=0),
    Column("tokens_out", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("score BETWEEN 0 AND 10", name="triage_score"),
)

# 0012: one search document per paper (its latest stored version, with the latest AI
# summary), kept in step by triggers on papers, announcements and summaries: every write
# path (upserts, migrations, a hand-made fix) updates the index in its own transaction.
search_docs = Table(
    "search_docs",
    metadata,
    # the short columns first: SQLite reads them without the long texts' overflow pages
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("announced", Date, index=True),  # that version's latest announcement, or listed_on
    Column("primary_category", String(64), nullable=False),
    Column("categories", Text, nullable=False),  # " cs.AI cs.LG ", for LIKE '% cs.AI %'
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # "Ada Lovelace, Alan Turing"
    Column("abstract", Text, nullable=False),
    Column("summary", Text, nullable=False),  # "" when there is none
    # PostgreSQL only: ``document``, a generated weighted tsvector with a GIN index
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


# 0014: PostgreSQL search ignores accents, as SQLite's FTS5 (remove_diacritics) already does:
# "Gonzalez" finds "González". A text search configuration of our own, English with the
# unaccent dictionary before the stemmer, indexes the documents and parses the queries.
SEARCH_CONFIG = "arxiv_digest_english"
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
