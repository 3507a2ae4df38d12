"""A team's sites written by worker processes beside the run: the same files, and none lost
when a worker fails."""

from __future__ import annotations

import datetime as dt
import io
import logging
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest.config import Settings
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.team import Member, members
from arxiv_digest.team.run import OWN, run_team
from arxiv_digest.team.sites import Share, SiteWorkers, worker_count
from tests.conftest import serve_feed
from tests.test_team import FEED, settings_of, team_config

NOW = dt.datetime(2026, 4, 7, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def day(httpserver: HTTPServer, combined_feed: bytes) -> HTTPServer:
    serve_feed(httpserver, FEED, combined_feed)
    return httpserver


def _run(settings: Settings) -> None:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        run_team(settings, store, client, sleep=lambda s: None, clock=lambda: NOW)


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _sites(settings: Settings) -> list[Member]:
    return [*members(settings), Member(OWN, settings)]


def _recorded_team(day: HTTPServer, folder: Path, **output: Any) -> Settings:
    """A team's day run and recorded in ``folder`` (its sites written by the run alone),
    then its sites deleted: what is left to write is every site."""
    config = team_config(day, output={"site_dir": "site", **output, "render_processes": 0})
    settings = settings_of(config, folder)
    _run(settings)
    shutil.rmtree(folder / "site")
    return settings


def test_a_team_run_with_workers_writes_the_same_sites_as_one_without(
    day: HTTPServer, tmp_path: Path
) -> None:
    alone, split = tmp_path / "alone", tmp_path / "split"
    for folder, processes in ((alone, 0), (split, 2)):
        config = team_config(day, output={"site_dir": "site", "render_processes": processes})
        _run(settings_of(config, folder))
    written = _tree(split / "site")
    assert written == _tree(alone / "site")
    for name in ("alice", "bob", "carol"):
        assert f"p/{name}/index.html" in written and f"p/{name}/rss.xml" in written
    assert "team.html" in written and "index.html" in written


def test_a_worker_process_writes_the_sites_whose_runs_are_recorded(
    day: HTTPServer, tmp_path: Path
) -> None:
    settings = _recorded_team(day, tmp_path)
    sites = _sites(settings)
    with Store(settings.store.url) as store, SiteWorkers(1) as workers:
        share = workers.start(store, sites)
        (worker,) = share.workers
        for member in sites:
            share.ready(member)
        assert worker.process.wait() == 0  # it took every site: all were ready
        assert share.finish() == [None] * len(sites)
    by_worker = _tree(tmp_path / "site")
    shutil.rmtree(tmp_path / "site")
    with Store(settings.store.url) as store, SiteWorkers(0) as workers:
        assert workers.start(store, sites).finish() == [None] * len(sites)
    assert by_worker == _tree(tmp_path / "site")
    assert {"p/alice/index.html", "p/carol/atom.xml", "index.html"} <= set(by_worker)


class _DyingWorker:
    """A worker that claims every site as soon as it is given them, then dies."""

    def tell(self, message: object) -> None:
        if isinstance(message, tuple):
            _, sites, folder = message
            for n in range(len(sites)):
                (Path(folder) / str(n)).touch()

    def answer(self) -> dict[int, str | None]:
        raise RuntimeError("it exited with code -9")

    def stop(self) -> None:
        pass


def test_sites_a_dead_worker_took_are_written_by_the_run(
    day: HTTPServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _recorded_team(day, tmp_path)
    sites = _sites(settings)
    with Store(settings.store.url) as store, caplog.at_level(logging.WARNING):
        share = Share(store, sites, [_DyingWorker()])  # type: ignore[list-item]
        assert share.finish() == [None] * len(sites)
    written = _tree(tmp_path / "site")
    for name in ("alice", "bob", "carol"):
        assert f"p/{name}/index.html" in written
    assert "index.html" in written
    assert "did not write its sites (it exited with code -9)" in caplog.text
    assert f"{len(sites)} sites left by the worker processes" in caplog.text


def test_a_worker_that_cannot_start_leaves_every_site_to_the_run(
    day: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arxiv_digest.team import sites as module

    monkeypatch.setattr(module, "_START", "import sys; sys.exit(3)")
    settings = _recorded_team(day, tmp_path)
    sites = _sites(settings)
    with Store(settings.store.url) as store, SiteWorkers(1) as workers:
        assert workers.start(store, sites).finish() == [None] * len(sites)
    assert {"p/alice/index.html", "p/bob/feed.json", "index.html"} <= set(_tree(tmp_path / "site"))


def test_closing_stops_the_workers_a_run_did_not_use() -> None:
    workers = SiteWorkers(2)
    processes = [w.process for w in workers._idle]
    workers.close()
    assert all(p.poll() is not None for p in processes)


def _settings(tmp_path: Path, store: str, **output: Any) -> Settings:
    config: dict[str, Any] = {
        "categories": ["cs.AI"],
        "keywords": ["x"],
        "store": {"url": store},
        "output": output,
    }
    return settings_of(config, tmp_path)


@pytest.mark.parametrize(
    ("store", "output", "sites", "expected"),
    [
        ("sqlite:///data/s.sqlite", {"render_processes": 3}, 10, 3),
        ("sqlite:///data/s.sqlite", {"render_processes": 3}, 2, 1),  # one site each at most
        ("sqlite:///data/s.sqlite", {"render_processes": 0}, 50, 0),
        ("sqlite:///data/s.sqlite", {}, 4, 0),  # a small team: not worth a process
        ("sqlite://", {"render_processes": 3}, 50, 0),  # in memory: no other process sees it
        ("sqlite:///data/s.sqlite", {"render_processes": 3}, 1, 0),
    ],
)
def test_how_many_workers_render_the_sites(
    tmp_path: Path, store: str, output: dict[str, Any], sites: int, expected: int
) -> None:
    assert worker_count(_settings(tmp_path, store, **output), sites) == expected


def test_by_default_a_large_team_gets_a_worker_per_spare_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arxiv_digest.team import sites as module

    settings = _settings(tmp_path, "sqlite:///data/s.sqlite")
    monkeypatch.setattr(module, "_spare_cores", lambda: 1)
    assert worker_count(settings, 50) == 1
    monkeypatch.setattr(module, "_spare_cores", lambda: 15)
    assert worker_count(settings, 50) == module.MAX_WORKERS
    monkeypatch.setattr(module, "_spare_cores", lambda: 0)
    assert worker_count(settings, 50) == 0


def test_a_worker_takes_the_first_site_whose_run_is_recorded() -> None:
    from arxiv_digest.team.sites import _Told

    told = _Told(io.BytesIO(b"".join(pickle.dumps(m) for m in (3, 1, None))))
    assert told.first_ready([0, 1, 2, 3]) == 3  # 0 to 2 are not recorded yet: it waits
    assert told.first_ready([0, 1, 2]) == 1
    assert told.first_ready([0, 2]) == 0  # then every run is


def test_without_an_interpreter_to_start_the_run_has_no_workers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    with caplog.at_level(logging.WARNING), SiteWorkers(2) as workers:
        assert workers._idle == []
    assert "no worker process for the sites" in caplog.text
