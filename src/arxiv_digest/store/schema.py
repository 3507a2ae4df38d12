"""Tables of the store (SQLAlchemy Core), as the newest version of the tool makes them.

How an older store gets there, step by step, is :mod:`arxiv_digest.store.migrations`.
"""

from __future__ import annotations

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
)

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


# 0014: PostgreSQL search ignores accents, as SQLite's FTS5 (remove_diacritics) already does:
# "Gonzalez" finds "González". A text search configuration of our own, English with the
# unaccent dictionary before the stemmer, indexes the documents and parses the queries.
SEARCH_CONFIG = "arxiv_digest_english"
