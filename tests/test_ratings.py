"""Ratings: kept in the store (SQLite, and PostgreSQL when set), signed links, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from typer.testing import CliRunner

from arxiv_digest import ratings
from arxiv_digest.cli import app
from arxiv_digest.config import load_settings
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import Paper
from arxiv_digest.store import Store, migrations, schema
from arxiv_digest.store.rows import upsert

SECRET = "s3cret-for-tests-only-0123456789"
NOW = dt.datetime(2026, 4, 28, 7, 30, tzinfo=dt.UTC)


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
    existing = MetaData()
    existing.reflect(store.engine)
    existing.drop_all(store.engine)
    with store.engine.begin() as conn:  # the store as arxiv-digest 0005 left it
        for _, step in migrations.MIGRATIONS[:5]:
            step(conn)
        upsert(conn, schema.meta, [{"key": "schema_version", "value": "5"}])
        assert not store.engine.dialect.has_table(conn, "ratings")
    with Store(store.url) as upgraded:
        assert upgraded.schema_version() == migrations.SCHEMA_VERSION
        assert [name for name, _ in migrations.MIGRATIONS][5] == "0006_ratings"
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


# -- the command line -----------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """The command in-process (a subprocess costs seconds each): --config in ``cwd``."""
    environment: dict[str, str | None] = {ratings.SECRET_ENV: None, "COLUMNS": "200"}
    environment.update(env or {})
    command = [*args[:1], "--config", str(cwd / "config.json"), *args[1:]]
    result = CliRunner().invoke(app, command, env=environment)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def project(tmp_path: Path, make_paper: Callable[..., Paper]) -> Path:
    config = {"categories": ["cs.AI"], "keywords": ["LLM"]}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    settings = load_settings(tmp_path / "config.json")
    with Store(settings.store.url) as store:
        store.upsert_papers([make_paper(arxiv_id="2604.00001", version=2, title="Sparse LLMs")])
    return tmp_path


def test_rate_up_then_list_shows_it_with_the_title(project: Path) -> None:
    rated = cli("rate", "2604.00001v2", "up", cwd=project)
    assert rated.returncode == 0, rated.stderr
    assert "Rated 2604.00001 (Sparse LLMs) 👍" in rated.stdout
    listed = cli("rate", "--list", cwd=project)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "2604.00001" in line)
    assert "👍" in row and "cli" in row and "Sparse LLMs" in row and "v2" not in row


def test_rate_down_changes_it_and_clear_removes_it(project: Path) -> None:
    cli("rate", "2604.00001", "up", cwd=project)
    assert cli("rate", "2604.00001", "down", cwd=project).returncode == 0
    assert "👎" in cli("rate", "--list", cwd=project).stdout
    cleared = cli("rate", "2604.00001", "clear", cwd=project)
    assert cleared.returncode == 0 and "Cleared" in cleared.stdout
    assert "No ratings yet." in cli("rate", "--list", cwd=project).stdout
    again = cli("rate", "2604.00001", "clear", cwd=project)
    assert again.returncode == 0 and "had no rating" in again.stdout


def test_a_paper_not_in_the_store_can_be_rated_and_the_reader_is_told(project: Path) -> None:
    rated = cli("rate", "https://arxiv.org/abs/2605.01234v1", "down", cwd=project)
    assert rated.returncode == 0, rated.stderr
    assert "2605.01234" in rated.stdout and "not in the store yet" in rated.stdout
    listed = cli("rate", "--list", cwd=project).stdout
    assert "2605.01234" in listed and "(not in the store)" in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rate", "not-an-id", "up"), "not an arXiv identifier: 'not-an-id'"),
        (("rate", "２４１１.１７７１２", "up"), "not an arXiv identifier: '２４１１.１７７１２'"),
        (("rate", "0000.00000", "up"), "not an arXiv identifier: '0000.00000'"),
        (("rate", "2499.99999", "down"), "with a month from 01 to 12"),
        (("rate", "hep-th/9913001", "up"), "not an arXiv identifier: 'hep-th/9913001'"),
        (("rate", "2604.00001v0", "up"), "not an arXiv identifier: '2604.00001v0'"),
        (("rate", "2604.00001", "sideways"), "up, down or clear, not 'sideways'"),
        (("rate", "2604.00001"), "give an arXiv id and up, down or clear"),
        (("rate",), "give an arXiv id and up, down or clear"),
    ],
)
def test_a_bad_rating_command_exits_2_and_records_nothing(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args, cwd=project)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "No ratings yet." in cli("rate", "--list", cwd=project).stdout


def test_the_secret_is_in_no_command_output(project: Path) -> None:
    env = {ratings.SECRET_ENV: SECRET}
    outputs = [
        cli("rate", "2604.00001", "up", cwd=project, env=env),
        cli("rate", "--list", cwd=project, env=env),
        cli("rate", "bad", "up", cwd=project, env=env),
    ]
    for result in outputs:
        assert SECRET not in result.stdout + result.stderr
    short = cli("serve", "--port", "1", cwd=project, env={ratings.SECRET_ENV: "hunter2"})
    assert short.returncode == 2 and "too short" in short.stderr and "hunter2" not in short.stderr


def test_a_too_short_secret_stops_a_run_before_anything_is_fetched_or_made(tmp_path: Path) -> None:
    config = {
        "categories": ["cs.AI"],
        "keywords": ["LLM"],
        "arxiv": {"rss_url": "http://127.0.0.1:9/rss"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    result = cli("run", cwd=tmp_path, env={ratings.SECRET_ENV: "hunter2"})
    assert result.returncode == 2, result.stderr
    assert "too short" in result.stderr and "hunter2" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
