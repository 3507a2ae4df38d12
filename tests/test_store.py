"""The store, on SQLite always and on PostgreSQL when ARXIV_DIGEST_TEST_PG is set."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, insert, select, text

from arxiv_digest.errors import StoreError
from arxiv_digest.models import DeliveryRecord, Paper, RankedPaper, RunReport, Summary, Validators
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store, migrations, schema
from arxiv_digest.store.rows import paper_row
from tests.conftest import fixture_bytes


def row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (schema.papers, schema.announcements)
        }


def test_ingesting_the_same_feed_twice_gives_the_same_rows(store: Store) -> None:
    papers = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers
    store.upsert_papers(papers)
    first = row_counts(store)
    store.upsert_papers(papers)
    assert row_counts(store) == first == {"papers": 123, "announcements": 123}


def test_papers_come_back_as_they_went_in(store: Store) -> None:
    papers = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers
    store.upsert_papers(papers)
    day = dt.date(2024, 3, 26)
    back = store.announced_between(day, day)
    assert sorted(back, key=lambda p: p.arxiv_id) == sorted(papers, key=lambda p: p.arxiv_id)
    assert store.latest_announcement() == day
    assert store.announced_between(day + dt.timedelta(days=1), day + dt.timedelta(days=9)) == []


def test_schema_is_versioned_and_reopening_does_not_migrate_again(store: Store) -> None:
    assert store.schema_version() == migrations.SCHEMA_VERSION
    store.upsert_papers(parse_rss(fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")).papers)
    with Store(store.url) as again:
        assert again.schema_version() == migrations.SCHEMA_VERSION
        assert again.count_papers() == 3


def rewind_to_version(store: Store, version: int) -> None:
    """The store as an older arxiv-digest left it: only the first ``version`` migrations."""
    existing = MetaData()
    existing.reflect(store.engine)
    existing.drop_all(store.engine)
    with store.engine.begin() as conn:
        for _, step in migrations.MIGRATIONS[:version]:
            step(conn)
        conn.execute(insert(schema.meta).values(key="schema_version", value=str(version)))


def test_upgrading_repairs_tex_accents_and_mojibake_stored_by_older_versions(
    store: Store, make_paper: Callable[..., Paper]
) -> None:
    old = make_paper(
        title='Schr\\"odinger operators with P\\"oschl--Teller potentials, $\\alpha > 0$',
        abstract="After Erd\\H{o}s and L\\'evy we bound $\\mathcal{O}(n^3)$ terms.",
        authors=("JosÃ© RaÃºl Gonz\\'alez",),
    )
    plain = make_paper(title="Nothing to repair", abstract="Plain text with $x$ math.")
    rewind_to_version(store, 4)
    with store.engine.begin() as conn:  # written raw, as an older arxiv-digest did
        conn.execute(insert(schema.papers), [paper_row(old), paper_row(plain)])
    with Store(store.url) as upgraded, upgraded.engine.connect() as conn:
        assert upgraded.schema_version() == migrations.SCHEMA_VERSION
        rows = {r.arxiv_id: r for r in conn.execute(select(schema.papers)).all()}
    repaired = rows[old.arxiv_id]
    assert repaired.title == "Schrödinger operators with Pöschl--Teller potentials, $\\alpha > 0$"
    assert repaired.abstract == "After Erdős and Lévy we bound $\\mathcal{O}(n^3)$ terms."
    assert json.loads(repaired.authors) == ["José Raúl González"]
    assert rows[plain.arxiv_id].title == "Nothing to repair"


def test_a_store_from_a_newer_version_is_refused(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '999' WHERE key = 'schema_version'"))
    with pytest.raises(StoreError, match="newer than this arxiv-digest"):
        Store(store.url)


def test_runs_rankings_and_validators(store: Store) -> None:
    papers = parse_rss(fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")).papers
    store.upsert_papers(papers)
    started = dt.datetime(2026, 4, 27, 12, 0, tzinfo=dt.UTC)
    run_id = store.start_run(started)
    ranked = [RankedPaper(p, 1.5, ("LLM",), "cs.AI") for p in papers]
    store.save_ranking(run_id, ranked)
    store.save_ranking(run_id, ranked)  # idempotent
    store.finish_run(run_id, RunReport(status="ok", ranked=3), started, fingerprint="abc")
    assert store.first_published("abc") == started
    assert store.first_published("other") is None
    assert store.runs(1)[0]["status"] == "ok"
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.rankings)) == 3
    store.save_validators("http://x/rss", Validators(etag='"e"', last_modified=None))
    store.save_validators("http://x/rss", Validators(etag='"f"', last_modified="Mon"))
    assert store.validators("http://x/rss") == Validators(etag='"f"', last_modified="Mon")
    assert store.validators("http://other") is None


def test_an_unusable_store_url_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot"):
        Store(f"sqlite:///{blocker}/sub/x.sqlite")


def test_a_file_that_is_not_a_database_is_named_in_a_sentence(tmp_path: Path) -> None:
    garbage = tmp_path / "digest.db"
    garbage.write_bytes(b"this is not an SQLite database, " * 100)
    with pytest.raises(StoreError) as caught:
        Store(f"sqlite:///{garbage}")
    assert "cannot read schema version: " in str(caught.value)


def test_first_published_is_the_start_of_the_current_streak(store: Store) -> None:
    def publish(minute: int, fingerprint: str) -> dt.datetime:
        at = dt.datetime(2026, 4, 27, 12, minute, tzinfo=dt.UTC)
        run_id = store.start_run(at)
        store.finish_run(run_id, RunReport(status="ok"), at, fingerprint=fingerprint)
        return at

    first_a = publish(0, "A")
    publish(1, "A")
    assert store.first_published("A") == first_a
    publish(2, "B")
    assert store.first_published("A") is None  # content changed since: A is new again
    back_to_a = publish(3, "A")
    assert store.first_published("A") == back_to_a


def test_a_committed_store_can_be_served_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "digest.sqlite"
    with Store(f"sqlite:///{path}") as writable:
        writable.upsert_papers(parse_rss(fixture_bytes("rss/cs.AI_2026-04-27_trimmed.xml")).papers)
    path.chmod(0o444)
    tmp_path.chmod(0o555)  # like a read-only deployment: no -wal or -shm file can be made
    try:
        with Store(f"sqlite:///file:{path}?mode=ro&uri=true") as read_only:
            assert read_only.read_only and read_only.count_papers() == 3
    finally:
        tmp_path.chmod(0o755)
    assert not (tmp_path / "file:").exists()  # the URI is not taken for a folder to make


def test_publication_queries(store: Store) -> None:
    papers = parse_rss(fixture_bytes("rss/cs.LG_2026-04-27_trimmed.xml")).papers
    store.upsert_papers(papers)
    day = dt.date(2026, 4, 27)
    times = [dt.datetime(2026, 4, 27, 12, m, tzinfo=dt.UTC) for m in range(3)]
    for minute, fingerprint in ((0, "A"), (1, "B"), (2, "B")):
        run_id = store.start_run(times[minute])
        store.save_ranking(
            run_id, [RankedPaper(p, 3.0 - i, ("LLM",), "cs.LG") for i, p in enumerate(papers)]
        )
        store.finish_run(
            run_id, RunReport(status="ok", digest_date=day), times[minute], fingerprint
        )
    [(published_day, run_id, first_seen)] = store.published_runs()
    assert (published_day, first_seen) == (day, times[1])  # content B first published at :01
    ranked = store.ranking(run_id)
    assert [r.paper for r in ranked] == list(papers)
    assert [r.score for r in ranked] == [3.0, 2.0, 1.0]
    before = store.publication_version()
    old = Summary(papers[0].arxiv_id, 1, "model-a", "old", "abstract")
    new = Summary(papers[0].arxiv_id, 1, "model-b", "new", "fulltext")
    store.save_summary(old, "p1", times[0])
    store.save_summary(new, "p2", times[1])
    assert store.latest_summaries([(papers[0].arxiv_id, 1)]) == {(papers[0].arxiv_id, 1): new}
    assert store.cached_summaries([(papers[0].arxiv_id, 1)], "model-a", "p1", "abstract") == {
        (papers[0].arxiv_id, 1): old
    }
    assert store.publication_version() != before


def test_delivery_records_keep_what_each_channel_received(store: Store) -> None:
    day, when = dt.date(2026, 4, 27), dt.datetime(2026, 4, 27, 13, tzinfo=dt.UTC)
    assert store.delivery(day, "slack") is None
    store.save_delivery(DeliveryRecord(day, "slack", "partial", 2, 5, 1, "HTTP 502", when))
    store.save_delivery(DeliveryRecord(day, "email", "sent", 1, 1, 1, "", when))
    later = when + dt.timedelta(days=1)
    store.save_delivery(DeliveryRecord(day, "slack", "sent", 5, 5, 2, "", later))
    slack = store.delivery(day, "slack")
    assert slack == DeliveryRecord(day, "slack", "sent", 5, 5, 2, "", later)
    assert [r.channel for r in store.deliveries()] == ["email", "slack"]
    assert store.deliveries(since=day + dt.timedelta(days=1)) == []
    with pytest.raises(ValueError, match="unknown delivery status"):
        store.save_delivery(DeliveryRecord(day, "x", "maybe", 0, 0, 0, "", when))


def test_a_delivery_record_keeps_the_recipients_still_due(store: Store) -> None:
    day, when = dt.date(2026, 4, 27), dt.datetime(2026, 4, 27, 13, tzinfo=dt.UTC)
    pending = ("lab@example.org", "Zoë@example.org")
    record = DeliveryRecord(day, "email", "partial", 1, 1, 1, "450 busy", when, pending)
    store.save_delivery(record)
    assert store.delivery(day, "email") == record
    assert store.deliveries() == [record]
    done = DeliveryRecord(day, "email", "sent", 1, 1, 2, "", when)
    store.save_delivery(done)
    assert store.delivery(day, "email") == done
    with pytest.raises(ValueError, match="one line"):
        store.save_delivery(DeliveryRecord(day, "email", "failed", 0, 1, 1, "a\nb", when))


def test_many_papers_are_read_at_once_each_as_its_latest_version(
    store: Store, make_paper: Callable[..., Paper]
) -> None:
    first = make_paper(title="First version")
    second = make_paper(arxiv_id=first.arxiv_id, version=2, title="Second version")
    other = make_paper(primary_category="cs.CL", categories=("cs.CL", "cs.LG"))
    store.upsert_papers([first, second, other])

    found = store.latest_papers([first.arxiv_id, other.arxiv_id, "2699.99999", other.arxiv_id])

    assert found == {first.arxiv_id: store.paper(first.arxiv_id), other.arxiv_id: other}
    assert found[first.arxiv_id].title == "Second version"
