"""One writer per store: the lock a daily run (or an on-demand summary) holds from start to end.

Two runs on the same store at once (cron plus ``serve --schedule``, a double click on "Run
workflow") would each pay the LLM for the same papers. The lock is one the operating system
or the database server drops when the holder dies, so a ``kill -9`` never leaves the store
locked:

* SQLite: an ``flock`` on ``<database file>.lock`` beside the database (filelock);
* PostgreSQL: a session-level advisory lock, held on one connection for the whole run;
* an in-memory SQLite database is private to its process and needs none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from arxiv_digest.errors import RunInProgress, StoreError
from arxiv_digest.store.rows import one_line

# A fixed 64-bit key: advisory locks are per database, so one key serves every store.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"arxiv-digest run").digest()[:8], "big", signed=True)
BUSY = "another arxiv-digest run is using this store"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (``file:`` URIs included), None when there is none
    (another database, or an in-memory one)."""
    parsed = make_url(url)
    database = (parsed.database or "").removeprefix("file:")
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return Path(database)


def sqlite_lock_path(url: str) -> Path | None:
    """The lock file of a SQLite store file, or None for an in-memory database."""
    database = sqlite_file(url)
    return database.with_name(database.name + ".lock") if database is not None else None


@contextmanager
def _sqlite_lock(path: Path) -> Iterator[None]:
    # fallback_to_soft=False: a "soft" lock file would outlive a killed process.
    lock = FileLock(path, blocking=False, fallback_to_soft=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise RunInProgress(BUSY) from None
    except OSError as exc:
        raise StoreError(f"cannot lock the store ({path}): {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _postgres_lock(engine: Engine) -> Iterator[None]:
    try:
        conn = engine.connect()
        got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        conn.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot lock the store: {one_line(exc)}") from None
    try:
        if not got:
            raise RunInProgress(BUSY)
        yield
    finally:
        try:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                conn.commit()
        except SQLAlchemyError:
            conn.invalidate()  # never hand a connection still holding the lock to the pool
        finally:
            conn.close()


@contextmanager
def exclusive_run(engine: Engine, url: str) -> Iterator[None]:
    """Hold the store's run lock, or raise RunInProgress at once (never wait)."""
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine):
            yield
        return
    path = sqlite_lock_path(url) if engine.dialect.name == "sqlite" else None
    if path is None:
        yield
        return
    with _sqlite_lock(path):
        yield
