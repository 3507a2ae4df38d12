"""Ratings: kept in the store (SQLite, and PostgreSQL when set), signed links, the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from arxiv_digest import ratings
from arxiv_digest.errors import ConfigError
from arxiv_digest.store import Store, schema

SECRET = "s3cret-for-tests-only-0123456789"
NOW = dt.datetime(2026, 4, 28, 7, 30, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'digest.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    with Store(url) as opened:
        yield opened


# -- the store ------------------------------------------------------------------------------


def test_a_rating_is_kept_changed_and_cleared(store: Store) -> None:
    assert store.rating("2604.00001") is None
    store.rate("2604.00001", 1, "cli", NOW)
    store.rate("2604.00002", -1, "link", NOW + dt.timedelta(minutes=1))
    up = store.rating("2604.00001")
    assert up is not None and (up.value, up.source, up.rated_at) == (1, "cli", NOW)
    assert [r.arxiv_id for r in store.ratings()] == ["2604.00002", "2604.00001"]  # newest first

    store.rate("2604.00001", -1, "link", NOW + dt.timedelta(hours=1))
    changed = store.rating("2604.00001")
    assert changed is not None and (changed.value, changed.source) == (-1, "link")
    assert len(store.ratings()) == 2

    assert store.clear_rating("2604.00001") is True
    assert store.clear_rating("2604.00001") is False
    assert [r.arxiv_id for r in store.ratings()] == ["2604.00002"]


def test_rating_the_same_way_twice_is_the_same_state(store: Store) -> None:
    store.rate("2604.00001", 1, "link", NOW)
    again = store.rate("2604.00001", 1, "link", NOW + dt.timedelta(days=2))
    assert again.rated_at == NOW
    assert store.ratings() == [again]


def test_only_plus_or_minus_one_from_a_known_source(store: Store) -> None:
    with pytest.raises(ValueError):
        store.rate("2604.00001", 2, "cli", NOW)
    with pytest.raises(ValueError):
        store.rate("2604.00001", 1, "somewhere", NOW)
    with pytest.raises(ValueError):
        store.rate("2604.00001", 1, "cli", NOW.replace(tzinfo=None))
    assert store.ratings() == []


def test_a_store_at_schema_version_5_gets_the_ratings_table(store: Store) -> None:
    with store.engine.begin() as conn:  # as arxiv-digest left it before ratings existed
        conn.execute(text("DROP TABLE ratings"))
        conn.execute(text("UPDATE meta SET value = '5' WHERE key = 'schema_version'"))
    with Store(store.url) as upgraded:
        assert upgraded.schema_version() == schema.SCHEMA_VERSION
        assert [name for name, _ in schema.MIGRATIONS][5] == "0006_ratings"
        upgraded.rate("2604.00001", 1, "cli", NOW)
        assert [r.value for r in upgraded.ratings()] == [1]


# -- signatures -----------------------------------------------------------------------------


def test_a_signature_binds_the_paper_and_the_action() -> None:
    key = SECRET.encode()
    sig = ratings.sign("2604.00001", "up", key)
    assert ratings.verify("2604.00001", "up", sig, key)
    assert not ratings.verify("2604.00002", "up", sig, key)
    assert not ratings.verify("2604.00001", "down", sig, key)
    assert not ratings.verify("2604.00001", "clear", sig, key)
    assert not ratings.verify("2604.00001", "up", sig, b"another-secret-of-enough-length")
    assert not ratings.verify("2604.00001", "up", sig[:-1], key)
    assert not ratings.verify("2604.00001", "up", "", key)
    assert not ratings.verify("2604.00001", "up", "é" * 22, key)


def test_links_need_both_the_secret_and_the_site_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ratings.SECRET_ENV, raising=False)
    assert ratings.rating_url("https://me.example.org/digest", "2604.00001", "up") is None
    monkeypatch.setenv(ratings.SECRET_ENV, SECRET)
    assert ratings.rating_url(None, "2604.00001", "up") is None
    assert ratings.rating_url("", "2604.00001", "up") is None
    url = ratings.rating_url("https://me.example.org/digest/", "2604.00001", "down")
    assert url is not None
    prefix = "https://me.example.org/digest/rate/2604.00001/down?sig="
    assert url.startswith(prefix) and len(url) == len(prefix) + ratings.SIGNATURE_CHARS
    assert SECRET not in url


def test_a_short_secret_is_a_config_error_that_does_not_show_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ratings.SECRET_ENV, "hunter2")
    with pytest.raises(ConfigError) as raised:
        ratings.rating_secret()
    assert "hunter2" not in str(raised.value) and ratings.SECRET_ENV in str(raised.value)
    monkeypatch.setenv(ratings.SECRET_ENV, "   ")
    assert ratings.rating_secret() is None
