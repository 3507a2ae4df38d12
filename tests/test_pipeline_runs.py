"""Runs as a store sees them: one at a time, dead ones marked, failures that lose nothing.

The processes here are real (``python -m arxiv_digest run``), against a real SQLite file or
PostgreSQL server, a local arXiv and a local OpenAI-compatible server.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from arxiv_digest.cli import app
from arxiv_digest.config import load_settings
from arxiv_digest.errors import StoreError
from arxiv_digest.store import Store, schema
from tests.conftest import (
    fixture_bytes,
    local_config,
    run_once,
    serve_feed,
    serve_pdfs,
)
from tests.fakes import FakeLLM, Reply

CATS = "cs.AI+cs.CL+cs.LG"
KEY = "sk-runs-secret-0b7d"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'arxiv-digest.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def write_run_config(
    tmp_path: Path, httpserver: HTTPServer, llm: FakeLLM, store_url: str, **top: Any
) -> Path:
    summary = {
        "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
        "model": "test-model", "max_papers_to_summarize": 3, "max_workers": 1,
        "pdf_delay": 0, "retries": 0,
    }  # fmt: skip
    config = local_config(
        httpserver,
        keywords=["LLM", "reasoning", "benchmark", "agents", "models"],
        ai_summary=summary,
        store={"url": store_url},
        **top,
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_DIGEST_", "TEST_LLM"))}
    env["TEST_LLM_KEY"] = KEY
    return subprocess.Popen(
        [sys.executable, "-m", "arxiv_digest", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_summary_call(llm: FakeLLM, process: subprocess.Popen[str]) -> None:
    """The run got as far as asking the LLM (else fail with what the process said)."""
    if not llm.wait_for_calls(1):
        process.kill()
        _, err = process.communicate(timeout=30)
        pytest.fail(f"the run never asked for a summary; it said:\n{err}")


def statuses(url: str) -> list[str]:
    with Store(url) as store:
        return [run["status"] for run in reversed(store.runs(100))]


@pytest.fixture
def day(httpserver: HTTPServer, combined_feed: bytes) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    serve_pdfs(httpserver)


@pytest.fixture
def held(llm: FakeLLM) -> Iterator[threading.Event]:
    """The first LLM call is held until the test releases it."""
    release = threading.Event()
    llm.script.append(Reply(hold=release))
    yield release
    release.set()


@pytest.mark.usefixtures("day")
def test_a_second_run_on_the_same_store_says_so_and_pays_for_nothing(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM, store_url: str, held: threading.Event
) -> None:
    path = write_run_config(tmp_path, httpserver, llm, store_url)
    first = start(["run", "--config", str(path)], tmp_path)
    try:
        wait_for_summary_call(llm, first)
        second = start(["run", "--config", str(path)], tmp_path)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 3, err
        assert err.strip().count("\n") == 0, err  # one line
        assert "another arxiv-digest run is using this store" in err
        assert len(llm.completions) == 1  # the second run asked for nothing
    finally:
        held.set()
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert len(llm.completions) == 3
    assert statuses(store_url) == ["ok"]  # the refused run left no trace


@pytest.mark.usefixtures("day")
def test_a_killed_run_is_marked_interrupted_and_does_not_block_the_next(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM, store_url: str, held: threading.Event
) -> None:
    path = write_run_config(tmp_path, httpserver, llm, store_url)
    victim = start(["run", "--config", str(path)], tmp_path)
    try:
        wait_for_summary_call(llm, victim)
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
    finally:
        held.set()
    assert statuses(store_url) == ["running"]

    rerun = start(["run", "--config", str(path)], tmp_path)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err  # the dead process's lock died with it
    with Store(store_url) as store:
        rows = store.runs(100)
    assert statuses(store_url) == ["interrupted", "ok"], (rows, err)
    with Store(store_url) as store:
        dead = store.runs(100)[-1]
    assert dead["finished_at"] is not None and "stopped before the run finished" in dead["message"]


@pytest.mark.usefixtures("day")
def test_a_read_only_store_is_one_clear_line_and_exit_1(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM
) -> None:
    database = tmp_path / "data" / "arxiv-digest.sqlite"
    path = write_run_config(tmp_path, httpserver, llm, f"sqlite:///{database}")
    assert start(["run", "--config", str(path)], tmp_path).wait(120) == 0
    before = (tmp_path / "README.md").read_bytes()
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    path = write_run_config(tmp_path, httpserver, llm, read_only, max_papers=2)

    process = start(["run", "--config", str(path)], tmp_path)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert err.strip().count("\n") == 0, err
    assert "readonly database" in err and str(database) in err
    assert "Traceback" not in err and "Background on this error" not in err
    assert (tmp_path / "README.md").read_bytes() == before


def fail_when_the_run_is_recorded(store: Store) -> None:
    """The disk fills up just as the finished run is written (as SQLite reports it)."""

    def refuse(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        finished = statement.lstrip().upper().startswith("UPDATE RUNS") and "ok" in parameters
        if finished:
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(store.engine, "before_cursor_execute", refuse)


@pytest.mark.usefixtures("day")
def test_a_run_that_cannot_be_recorded_leaves_the_readme_and_keeps_what_it_paid_for(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'arxiv-digest.sqlite'}"
    settings = load_settings(write_run_config(tmp_path, httpserver, llm, url))
    monkeypatch.setenv("TEST_LLM_KEY", KEY)
    settings.output.readme.write_text("yesterday\n")
    real_init = Store.__init__

    def init_then_fill_the_disk(self: Store, store_url: str) -> None:
        real_init(self, store_url)
        fail_when_the_run_is_recorded(self)

    monkeypatch.setattr(Store, "__init__", init_then_fill_the_disk)
    with pytest.raises(StoreError) as failure:
        run_once(settings)
    message = str(failure.value)
    assert "database or disk is full" in message and "\n" not in message
    assert settings.output.readme.read_text() == "yesterday\n"
    assert not settings.output.site_dir.exists()

    monkeypatch.setattr(Store, "__init__", real_init)
    with Store(url) as store, store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.summaries)) == 3
    run_once(settings)
    assert len(llm.completions) == 3  # the rerun paid nothing: every summary was kept
    assert settings.output.readme.read_text().count("<details>") == 3


@pytest.mark.usefixtures("day")
def test_a_site_that_cannot_be_written_fails_the_run_and_keeps_the_readme(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM
) -> None:
    """The README and the site are one switch: the README never gets ahead of the site."""
    url = f"sqlite:///{tmp_path / 'data' / 'arxiv-digest.sqlite'}"
    path = write_run_config(tmp_path, httpserver, llm, url)
    (tmp_path / "site").write_text("a file where the site folder should be\n")
    (tmp_path / "README.md").write_text("yesterday\n")
    process = start(["run", "--config", str(path)], tmp_path)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "site" in err and "Traceback" not in err
    assert (tmp_path / "README.md").read_text() == "yesterday\n"
    assert statuses(url) == ["failed"]


@pytest.mark.usefixtures("day")
def test_summarizing_papers_by_id_adds_no_announcement(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_all-nicotine_10entries.xml"), content_type="application/atom+xml"
    )
    url = f"sqlite:///{tmp_path / 'data' / 'arxiv-digest.sqlite'}"
    path = write_run_config(tmp_path, httpserver, llm, url, arxiv={"api_delay": 0})
    monkeypatch.setenv("TEST_LLM_KEY", KEY)
    result = CliRunner().invoke(app, ["summarize", "1509.01687", "--config", str(path)])
    assert result.exit_code == 0, result.output
    with Store(url) as store, store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.papers)) == 10  # the page
        assert conn.scalar(select(func.count()).select_from(schema.announcements)) == 0
        looked_up = store.paper("1509.01687")
    assert looked_up is not None and looked_up.title.startswith("Single Molecule Transistor")
