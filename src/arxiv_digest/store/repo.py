"""Queries over one SQLAlchemy engine: SQLite file by default, PostgreSQL by URL.

Every write is an idempotent upsert: ingesting the same feed twice leaves the same rows.
Every public method reports a database failure as one :class:`StoreError` line naming the
store and what it was doing (never SQLAlchemy's SQL echo and "Background" link).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import inspect
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import RunInProgress, StoreError
from arxiv_digest.models import Paper, RankedPaper, RunReport, Validators
from arxiv_digest.store import migrations, schema
from arxiv_digest.store.deliveries import DeliveryQueries
from arxiv_digest.store.library_sync import LibrarySyncQueries
from arxiv_digest.store.lock import exclusive_run, sqlite_file
from arxiv_digest.store.names import NameQueries
from arxiv_digest.store.notices import NoticeQueries
from arxiv_digest.store.papers import PaperQueries
from arxiv_digest.store.published import PublicationQueries
from arxiv_digest.store.ratings import RatingQueries
from arxiv_digest.store.rendered import RenderedQueries
from arxiv_digest.store.rows import one_line, paper_from_row, paper_row, upsert, utc
from arxiv_digest.store.search import SearchQueries
from arxiv_digest.store.summaries import SummaryChoice, SummaryQueries
from arxiv_digest.store.triage import TriageQueries
from arxiv_digest.store.vectors import VectorQueries

log = logging.getLogger(__name__)
INTERRUPTED = "the process stopped before the run finished (killed, crashed or powered off)"
_Cls = TypeVar("_Cls", bound=type)


def _one_line_errors(method: Callable[..., Any], action: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def reporting(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.safe_url}: cannot {action}: {one_line(exc)}") from None

    return reporting


# The first words of the queries that do something; every other query reads what it names.
_VERBS = frozenset({
    "clear", "close", "count", "finish", "mark", "migrate", "rate", "save", "search", "start",
    "upsert",
})  # fmt: skip


def _action(name: str) -> str:
    """For "cannot ...": ``save_delivery`` -> "save delivery", ``schema_version`` -> "read
    schema version"."""
    words = name.replace("_", " ")
    return words if name.split("_", 1)[0] in _VERBS else f"read {words}"


def _report_database_errors(cls: _Cls) -> _Cls:
    """Wrap every public query (the mixins' included) so a database error is one line."""
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        if name.startswith("_") or not inspect.isfunction(member) or name == "exclusive_run":
            continue
        setattr(cls, name, _one_line_errors(member, _action(name)))
    return cls


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@_report_database_errors
class Store(
    SummaryQueries,
    PublicationQueries,
    PaperQueries,
    RatingQueries,
    VectorQueries,
    TriageQueries,
    DeliveryQueries,
    NoticeQueries,
    LibrarySyncQueries,
    NameQueries,
    SearchQueries,
    RenderedQueries,
):
    """The history of everything arxiv-digest has seen and published.

    ``profile`` is whose digests, runs, ratings and deliveries the queries see: "" for the
    config's own reader; :meth:`for_profile` gives a team member's view of the same store.
    """

    profile: str = ""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            database = sqlite_file(url)
            if database is not None and not self._is_read_only_sqlite(url):
                database.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, future=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open store {self.safe_url}: {one_line(exc)}") from None
        except (OSError, ImportError) as exc:
            raise StoreError(f"cannot open store {self.safe_url}: {exc}") from None
        self.read_only = self._is_read_only_sqlite(url)
        if self.engine.dialect.name == "sqlite" and not self.read_only:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.migrate()

    @staticmethod
    def _is_read_only_sqlite(url: str) -> bool:
        """``sqlite:///file:data/x.sqlite?mode=ro&uri=true``: e.g. a store committed to a
        repository and served from a read-only file system (Vercel)."""
        parsed = make_url(url)
        return parsed.get_backend_name() == "sqlite" and parsed.query.get("mode") == "ro"

    @property
    def safe_url(self) -> str:
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except SQLAlchemyError:
            return "<invalid URL>"

    def close(self) -> None:
        self.engine.dispose()

    def for_profile(self, name: str, *, summaries: SummaryChoice | None = None) -> Store:
        """The same store (same engine and connections) as team member ``name`` sees it:
        their runs, rankings, ratings and deliveries; papers and summaries are shared, the
        ones made with ``summaries`` (their model and prompt) preferred. Close the store it
        came from, not the view."""
        view = copy.copy(self)
        view.profile = name
        view.preferred_summaries = summaries
        return view

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, "meta"):
                return 0
            value = conn.scalar(
                select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            )
        return int(value or 0)

    def migrate(self) -> None:
        try:
            current = self.schema_version()
            if current > migrations.SCHEMA_VERSION:
                raise StoreError(
                    f"store {self.safe_url} has schema version {current}, newer than this "
                    f"arxiv-digest ({migrations.SCHEMA_VERSION}): upgrade arxiv-digest"
                )
            if self.read_only and current < migrations.SCHEMA_VERSION:
                raise StoreError(
                    f"read-only store {self.safe_url} needs an upgrade: run arxiv-digest once "
                    "with write access"
                )
            for number, (name, step) in enumerate(migrations.MIGRATIONS, start=1):
                if number <= current:
                    continue
                with self.engine.begin() as conn:
                    step(conn)
                    upsert(conn, schema.meta, [{"key": "schema_version", "value": str(number)}])
                log.info("store migrated to %s", name)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot prepare store {self.safe_url}: {one_line(exc)}") from None

    # -- papers -----------------------------------------------------------------------------

    def upsert_papers(self, papers: Iterable[Paper], *, announced: bool = True) -> int:
        """Record papers and their announcements; returns how many were given.

        ``announced=False`` stores the metadata only: a paper looked up by id (``summarize``)
        was not announced on any day we know of and must not appear in a digest.
        """
        papers = list(papers)
        paper_rows = list({(p.arxiv_id, p.version): paper_row(p) for p in papers}.values())
        announcement_rows = list(
            {
                (p.arxiv_id, p.version, p.announced): {
                    "arxiv_id": p.arxiv_id,
                    "version": p.version,
                    "announced": p.announced,
                    "announce_type": p.announce_type,
                }
                for p in papers
                if announced
            }.values()
        )
        with self.engine.begin() as conn:
            # Announcements first: a new paper's search document is then made once, when
            # the paper arrives, not again for its announcement (a trigger follows each).
            upsert(conn, schema.announcements, announcement_rows)
            upsert(conn, schema.papers, paper_rows)
        return len(papers)

    def latest_announcement(self) -> dt.date | None:
        with self.engine.connect() as conn:
            value: dt.date | None = conn.scalar(select(func.max(schema.announcements.c.announced)))
        return value

    def announced_between(self, first: dt.date, last: dt.date) -> list[Paper]:
        """Every announcement in [first, last], newest day first, in a stable order."""
        p, a = schema.papers, schema.announcements
        query = (
            select(p, a.c.announced, a.c.announce_type)
            .join(a, (a.c.arxiv_id == p.c.arxiv_id) & (a.c.version == p.c.version))
            .where(a.c.announced >= first, a.c.announced <= last)
            .order_by(a.c.announced.desc(), p.c.arxiv_id, p.c.version)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [paper_from_row(row) for row in rows]

    def count_papers(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(schema.papers)) or 0)

    # -- conditional GET validators -----------------------------------------------------------

    def validators(self, url: str) -> Validators | None:
        c = schema.http_cache.c
        with self.engine.connect() as conn:
            row = conn.execute(select(c.etag, c.last_modified).where(c.url == url)).first()
        return Validators(etag=row.etag, last_modified=row.last_modified) if row else None

    def save_validators(self, url: str, validators: Validators) -> None:
        row = {"url": url, "etag": validators.etag, "last_modified": validators.last_modified}
        with self.engine.begin() as conn:
            upsert(conn, schema.http_cache, [row])

    # -- runs -------------------------------------------------------------------------------

    @contextmanager
    def exclusive_run(self) -> Iterator[None]:
        """Hold this store's run lock for the block; RunInProgress when another run has it."""
        try:
            with exclusive_run(self.engine, self.url):
                yield
        except RunInProgress as exc:
            raise RunInProgress(
                f"{exc}{self._running_since()}: this one stops here, nothing done"
            ) from None

    def _running_since(self) -> str:
        r = schema.runs.c
        try:
            with self.engine.connect() as conn:
                started = conn.scalar(select(func.max(r.started_at)).where(r.status == "running"))
        except SQLAlchemyError:
            return ""
        if started is None:
            return ""
        return f" (a run started at {utc(started):%Y-%m-%d %H:%M:%S} UTC)"

    def mark_interrupted(self, now: dt.datetime) -> int:
        """Runs still "running" when the run lock is free died mid-way: say so.

        Call only while holding :meth:`exclusive_run`, or a live run would be marked.
        """
        r = schema.runs.c
        with self.engine.begin() as conn:
            result = conn.execute(
                update(schema.runs)
                .where(r.status == "running")
                .values(status="interrupted", finished_at=now, message=INTERRUPTED)
            )
        count = int(result.rowcount or 0)
        if count:
            log.warning(
                "%d earlier run(s) never finished (killed or crashed): marked interrupted", count
            )
        return count

    def start_run(self, started_at: dt.datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(schema.runs).values(
                    started_at=started_at, status="running", message="", profile=self.profile
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def save_ranking(self, run_id: int, ranked: Sequence[RankedPaper]) -> None:
        rows = [
            {
                "run_id": run_id,
                "rank": rank,
                "arxiv_id": r.paper.arxiv_id,
                "version": r.paper.version,
                "score": r.score,
                "matched": json.dumps(list(r.matched), ensure_ascii=False),
                "why": r.why,
                "category": r.category,
            }
            for rank, r in enumerate(ranked, start=1)
        ]
        with self.engine.begin() as conn:
            upsert(conn, schema.rankings, rows)

    def finish_run(
        self,
        run_id: int,
        report: RunReport,
        finished_at: dt.datetime,
        fingerprint: str | None = None,
    ) -> None:
        stats = report.summaries
        values = {
            "summaries_made": stats.made,
            "summaries_cached": stats.cached,
            "summaries_failed": stats.failed,
            "tokens_in": stats.tokens_in,
            "tokens_out": stats.tokens_out,
            "cost": stats.cost,
            "digest_date": report.digest_date,
            "finished_at": finished_at,
            "status": report.status,
            "fetched": report.fetched,
            "candidates": report.candidates,
            "ranked": report.ranked,
            "fingerprint": fingerprint,
            "message": report.message,
            **{name: getattr(report, name) for name, _ in schema.RUN_TRIAGE_COLUMNS},
        }
        with self.engine.begin() as conn:
            conn.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(**values))

    def first_published(self, fingerprint: str) -> dt.datetime | None:
        """When the current unbroken streak of digests with exactly this content began.

        None when the last published digest had other content (or there is none).
        """
        r = schema.runs.c
        published = (r.status == "ok") & r.fingerprint.is_not(None) & (r.profile == self.profile)
        with self.engine.connect() as conn:
            last_other = conn.scalar(
                select(func.max(r.id)).where(published, r.fingerprint != fingerprint)
            )
            streak = select(func.min(r.started_at)).where(published, r.fingerprint == fingerprint)
            if last_other is not None:
                streak = streak.where(r.id > last_other)
            value: dt.datetime | None = conn.scalar(streak)
        return utc(value) if value is not None else None

    def last_run(self) -> dict[str, Any] | None:
        runs = self.runs(1)
        return runs[0] if runs else None

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        r = schema.runs
        with self.engine.connect() as conn:
            query = select(r).where(r.c.profile == self.profile)
            rows = conn.execute(query.order_by(r.c.id.desc()).limit(limit)).mappings().all()
        return [dict(row) for row in rows]
