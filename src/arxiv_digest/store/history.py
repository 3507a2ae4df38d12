"""The store as a folder of day files that git keeps well (``store.history_dir``).

A fork on GitHub Actions starts every run on a fresh machine. Committing the SQLite file
makes git keep a new copy of a growing binary each day, and GitHub refuses a file over
100 MiB after about three months. What must outlive a runner is small and never changes
once its day is over, so it is written as text, one file per announcement day:

``digests/2026/2026-12-03.jsonl``
    the day's published digest (its ranking, when it was first published, the run's
    accounting; in team mode one per profile, each naming it), the papers it listed or
    ranked, their summaries and triage answers (paid for: never paid again), the
    summaries as the site showed them (HTML: a fresh runner's pages need not render the
    weeks of summaries they hold again), and what each delivery channel received.
``candidates/2026/2026-12-03.jsonl``
    every paper announced that day, only when ``days_back`` > 1: later digests rank them
    again, so a fresh runner needs them.
``ratings.jsonl``
    the readers' ratings, the whole (small) table (a team member's carry their profile).

A private team member's digests and ratings are never written here (the folder is
committed, and a fork of a public repository is public): a runner without the cached
database knows nothing of them, and pays again for the summaries only they wanted.
``notices.jsonl``
    the notices sent about announcement days left without a digest (the whole, small
    table): a failing run on the next fresh runner does not send the same notice again.

Each line is ``{"table": NAME, "row": {...}}`` in the encoding of
:mod:`arxiv_digest.store.portable`, sorted, so the same store gives the same bytes and a
rerun changes no file. :func:`restore` loads the files a store has not seen (a fresh
runner: all of them; a cached database: only newer ones) before a run;
:func:`day_files` gives the files of a day after it. Candidates that were never shown are
not written to ``digests/``: a year of digests is a few megabytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, delete, insert, or_, select, tuple_
from sqlalchemy.engine import Connection

from arxiv_digest.errors import StoreError
from arxiv_digest.store import schema
from arxiv_digest.store.portable import RowError, decode_row, dump_line, encode_row
from arxiv_digest.store.repo import Store
from arxiv_digest.store.rows import batches, upsert

DIGESTS = "digests"
CANDIDATES = "candidates"
RATINGS = "ratings.jsonl"
NOTICES = "notices.jsonl"
PUBLICATION = "publication"  # a day's published digest: one run's row and its ranking
_SEEN = "history:"  # meta key prefix: the SHA-256 of each file as last loaded or written

Version = tuple[str, int]


def day_path(kind: str, day: dt.date) -> str:
    return f"{kind}/{day.year}/{day.isoformat()}.jsonl"


def _line(table: str, row: dict[str, Any]) -> str:
    return json.dumps({"table": table, "row": row}, ensure_ascii=False, separators=(",", ":"))


def _table_lines(conn: Connection, table: Table, where: Any) -> list[str]:
    order = list(table.primary_key.columns)
    rows = conn.execute(select(table).where(where).order_by(*order)).mappings()
    return [f'{{"table":"{table.name}","row":{dump_line(table, row)}}}' for row in rows]


# -- writing --------------------------------------------------------------------------------


def digest_day(store: Store, day: dt.date, *, hidden: Collection[str] = ()) -> bytes:
    """The ``digests/`` file of ``day``: everything a later run needs of that day, but
    what only the ``hidden`` profiles (private members) published."""
    with store.engine.connect() as conn:
        versions = _ranked_versions(conn, day, hidden)
        lines = [*_publication_lines(conn, day, hidden)]
        lines += _version_lines(conn, versions, day)
        lines += _table_lines(conn, schema.deliveries, schema.deliveries.c.digest_date == day)
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def candidates_day(store: Store, day: dt.date) -> bytes:
    """The ``candidates/`` file of ``day``: every paper version announced that day."""
    a, p = schema.announcements, schema.papers
    with store.engine.connect() as conn:
        announced = a.c.announced == day
        listed = select(a.c.arxiv_id, a.c.version).where(announced)
        lines = _table_lines(conn, p, tuple_(p.c.arxiv_id, p.c.version).in_(listed))
        lines += _table_lines(conn, a, announced)
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def ratings_file(store: Store, *, hidden: Collection[str] = ()) -> bytes:
    """Every reader's ratings but the ``hidden`` profiles'."""
    shown = schema.ratings.c.profile.not_in(list(hidden))
    with store.engine.connect() as conn:
        lines = _table_lines(conn, schema.ratings, shown)
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def notices_file(store: Store) -> bytes:
    with store.engine.connect() as conn:
        lines = _table_lines(conn, schema.notices, schema.notices.c.day.is_not(None))
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _ranked_versions(conn: Connection, day: dt.date, hidden: Collection[str]) -> list[Version]:
    r, k = schema.runs.c, schema.rankings.c
    query = (
        select(k.arxiv_id, k.version)
        .join(schema.runs, r.id == k.run_id)
        .where(r.digest_date == day, r.profile.not_in(list(hidden)))
        .distinct()
        .order_by(k.arxiv_id, k.version)
    )
    return [(row.arxiv_id, row.version) for row in conn.execute(query)]


def _first_publishing_run(conn: Connection, day: dt.date, profile: str = "") -> Any:
    """The first run that published the day's final content for ``profile``: stable under
    reruns."""
    r = schema.runs.c
    published = and_(
        r.digest_date == day, r.status == "ok", r.fingerprint.is_not(None), r.profile == profile
    )
    last = conn.execute(select(r.fingerprint).where(published).order_by(r.id.desc())).first()
    if last is None:
        return None
    query = select(schema.runs).where(published, r.fingerprint == last.fingerprint)
    return conn.execute(query.order_by(r.id)).mappings().first()


def _publication_lines(conn: Connection, day: dt.date, hidden: Collection[str]) -> Iterator[str]:
    """One line per reader whose digest of ``day`` was published: the config's own first
    (without a ``profile`` field, as before team mode), then each profile by name."""
    r = schema.runs.c
    published = and_(r.digest_date == day, r.status == "ok", r.profile.not_in(list(hidden)))
    profiles = conn.execute(select(r.profile).where(published).distinct())
    for profile in sorted(name for (name,) in profiles):
        run = _first_publishing_run(conn, day, profile)
        if run is None:
            continue
        k = schema.rankings
        ranking = conn.execute(select(k).where(k.c.run_id == run["id"]).order_by(k.c.rank))
        row = {c: v for c, v in encode_row(schema.runs, run).items() if c != "id"}
        if not row.get("profile"):
            row.pop("profile", None)
        row["ranking"] = [
            {c: v for c, v in encode_row(k, ranked).items() if c != "run_id"}
            for ranked in ranking.mappings()
        ]
        yield _line(PUBLICATION, row)


def _version_lines(conn: Connection, versions: list[Version], day: dt.date) -> list[str]:
    if not versions:
        return []
    p, a, s, t = schema.papers, schema.announcements, schema.summaries, schema.triage
    lines: list[str] = []
    for chunk in batches(versions):
        lines += _table_lines(conn, p, tuple_(p.c.arxiv_id, p.c.version).in_(chunk))
    for chunk in batches(versions):
        wanted = tuple_(a.c.arxiv_id, a.c.version).in_(chunk)
        lines += _table_lines(conn, a, and_(wanted, a.c.announced <= day))
    texts: set[str] = set()
    for table in (s, t):
        for chunk in batches(versions):
            wanted = tuple_(table.c.arxiv_id, table.c.version).in_(chunk)
            lines += _table_lines(conn, table, wanted)
            if table is s:
                texts.update(conn.scalars(select(s.c.text).where(wanted)))
    return lines + _rendered_lines(conn, texts)


def _rendered_lines(conn: Connection, texts: Collection[str]) -> list[str]:
    """The HTML made of these summaries: a fresh runner's pages need not render them."""
    h = schema.summary_html
    shas = sorted(hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts)
    lines: list[str] = []
    for chunk in batches(shas):
        lines += _table_lines(conn, h, h.c.text_sha.in_(chunk))
    return lines


def seen_files(store: Store) -> dict[str, str]:
    """The files this store has loaded or written, with their SHA-256 then."""
    m = schema.meta.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.key, m.value).where(m.key.startswith(_SEEN)))
        return {row.key[len(_SEEN) :]: row.value for row in rows}


def mark_seen(store: Store, files: dict[str, bytes]) -> None:
    with store.engine.begin() as conn:
        upsert(conn, schema.meta, _seen_rows(files))


def _seen_rows(files: dict[str, bytes]) -> list[dict[str, str]]:
    return [
        {"key": _SEEN + name, "value": hashlib.sha256(data).hexdigest()}
        for name, data in files.items()
    ]


# -- loading --------------------------------------------------------------------------------


def restore(store: Store, folder: Path, *, candidate_days: int) -> list[str]:
    """Load every history file the store has not seen as it is now; returns their names.

    Digest days load oldest first (their runs keep the order they were published in);
    of ``candidates/``, only the newest ``candidate_days`` files matter to a ranking.
    """
    seen = seen_files(store)
    wanted = sorted(_files(folder, DIGESTS))
    wanted += sorted(_files(folder, CANDIDATES))[-candidate_days:] if candidate_days else []
    wanted += [name for name in (RATINGS, NOTICES) if (folder / name).is_file()]
    pending: list[tuple[str, bytes]] = []
    for name in wanted:
        data = _read(folder / name)
        if seen.get(name) != hashlib.sha256(data).hexdigest():
            pending.append((name, data))
    rows = [row for name, data in pending for row in _parse(folder / name, data)]
    with store.engine.begin() as conn:  # one transaction: all of it or, on error, none
        if any(name == RATINGS for name, _ in pending):
            conn.execute(delete(schema.ratings))  # the file is the whole table
        _load(conn, rows)
        upsert(conn, schema.meta, _seen_rows(dict(pending)))
    return [name for name, _ in pending]


def _files(folder: Path, kind: str) -> Iterable[str]:
    root = folder / kind
    if not root.is_dir():
        return []
    return (path.relative_to(folder).as_posix() for path in root.glob("*/*.jsonl"))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read the history file {path}: {exc.strerror or exc}") from None


Parsed = tuple[str, dict[str, Any]]


def _parse(path: Path, data: bytes) -> Iterator[Parsed]:
    """Every line as (table, row), checked against its table: one error names the line."""
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            if not raw.endswith(b"\n"):
                raise RowError("the line is cut short (the file is truncated)")
            line = json.loads(raw)
            table = line["table"]
            yield table, _decoded(table, line["row"])
        except (RowError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"history file {path} line {number}: {exc}") from None


def _decoded(table: str, row: Any) -> dict[str, Any]:
    if table == PUBLICATION:
        if not isinstance(row, dict) or not isinstance(row.get("ranking"), list):
            raise RowError("a publication holds a run and its ranking")
        fields = {k: v for k, v in row.items() if k != "ranking"}
        run = decode_row(schema.runs, {**fields, "id": 0})
        ranking = [decode_row(schema.rankings, {**r, "run_id": 0}) for r in row["ranking"]]
        return {"run": run, "ranking": ranking}
    if table not in _LOADED:
        raise RowError(f"unknown table {table!r}")
    return decode_row(schema.metadata.tables[table], row)


# Papers after their announcements and summaries: each of those rows makes the store
# rebuild its paper's search document (a trigger), which costs nothing while the paper
# is not there yet; so a fresh runner indexes each paper once, not three times.
_LOADED = (
    "announcements", "summaries", "papers", "triage", "deliveries", "ratings", "notices",
    "summary_html",
)  # fmt: skip


def _load(conn: Connection, rows: list[Parsed]) -> None:
    """Every file's rows together, a statement per table (files in order: a later row of
    the same key replaces an earlier one)."""
    for name in _LOADED:
        upsert(conn, schema.metadata.tables[name], [row for table, row in rows if table == name])
    for table, row in rows:
        if table == PUBLICATION:
            _load_publication(conn, row["run"], row["ranking"])


def _load_publication(conn: Connection, run: dict[str, Any], ranking: list[dict[str, Any]]) -> None:
    """A day's published run, unless the store has it (a cached database)."""
    r = schema.runs.c
    known = conn.execute(
        select(r.id).where(
            r.digest_date == run["digest_date"],
            r.status == "ok",
            r.fingerprint == run["fingerprint"],
            r.profile == run.get("profile", ""),
        )
    ).first()
    if known is not None:
        return
    values = {k: v for k, v in run.items() if k != "id"}
    new_id = conn.execute(insert(schema.runs).values(**values)).inserted_primary_key
    assert new_id is not None
    if ranking:
        conn.execute(insert(schema.rankings), [{**r, "run_id": new_id[0]} for r in ranking])


# -- retention -------------------------------------------------------------------------------


def prune_candidates(store: Store, before: dt.date, keep: Collection[str] = ()) -> int:
    """Forget the abstracts (and vectors) of papers announced only before ``before`` that
    no digest ranked, nobody rated, and nothing summarized or triaged; returns how many.

    Ids, titles, authors, categories and dates stay: deduplication, "seen before" and the
    statistics of names still work, and a paper announced again gets its text back.
    """
    p, a = schema.papers, schema.announcements
    used = or_(
        *(
            select(1).where(table.c.arxiv_id == p.c.arxiv_id).exists()
            for table in (schema.rankings, schema.ratings, schema.summaries, schema.triage)
        )
    )
    recent = select(1).where(a.c.arxiv_id == p.c.arxiv_id, a.c.announced >= before).exists()
    announced = select(1).where(a.c.arxiv_id == p.c.arxiv_id).exists()
    stale = and_(p.c.abstract != "", announced, ~recent, ~used, p.c.arxiv_id.not_in(keep))
    with store.engine.begin() as conn:
        ids = [
            (row.arxiv_id, row.version)
            for row in conn.execute(select(p.c.arxiv_id, p.c.version).where(stale))
        ]
        for chunk in batches(ids):
            keys = [f"arxiv:{arxiv_id}v{version}" for arxiv_id, version in chunk]
            conn.execute(delete(schema.vectors).where(schema.vectors.c.key.in_(keys)))
            conn.execute(
                p.update().where(tuple_(p.c.arxiv_id, p.c.version).in_(chunk)).values(abstract="")
            )
    return len(ids)
