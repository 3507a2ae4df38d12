"""Summaries from the command line: a killed run resumes without paying twice; on demand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from arxiv_digest.store import Store, schema
from tests.conftest import fixture_bytes, serve_feed, serve_pdfs, write_config
from tests.fakes import FakeLLM, Reply

CATS = "cs.AI+cs.CL+cs.LG"
KEY = "sk-cli-secret-77c1"


def start(args: list[str], cwd: Path, key: str | None = KEY) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARXIV_DIGEST_", "TEST_LLM"))}
    if key:
        env["TEST_LLM_KEY"] = key
    return subprocess.Popen(
        [sys.executable, "-m", "arxiv_digest", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def config(
    tmp_path: Path,
    httpserver: HTTPServer,
    llm: FakeLLM,
    top: dict[str, object] | None = None,
    **ai: object,
) -> Path:
    summary = {
        "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
        "model": "test-model", "max_papers_to_summarize": 5, "max_workers": 1,
        "pdf_delay": 0, "retries": 0, **ai,
    }  # fmt: skip
    keywords = ["LLM", "reasoning", "benchmark", "agents", "models", "learning", "data"]
    return write_config(tmp_path, httpserver, keywords=keywords, ai_summary=summary, **(top or {}))


def stored_summaries(tmp_path: Path) -> int:
    url = f"sqlite:///{tmp_path / 'data' / 'arxiv-digest.sqlite'}"
    with Store(url) as store, store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(schema.summaries)) or 0)


def test_a_killed_run_resumes_and_pays_only_for_the_missing_papers(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    serve_pdfs(httpserver)
    path = config(tmp_path, httpserver, llm)
    (tmp_path / "README.md").write_text("yesterday\n")
    release = threading.Event()
    llm.script.extend([Reply(), Reply(), Reply(hold=release)])  # the third call never returns

    process = start(["run", "--config", str(path)], tmp_path)
    try:
        assert llm.wait_for_calls(3), "the run never reached its third summary"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    # With one worker, the third request is sent only after the second summary was saved.
    assert stored_summaries(tmp_path) == 2
    assert (tmp_path / "README.md").read_text() == "yesterday\n"

    rerun = start(["run", "--config", str(path)], tmp_path)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert len(llm.completions) == 3 + 3  # 5 summaries in all: 2 kept, 3 paid for now
    assert "AI summaries: 3 made, 2 cached, 0 failed" in out
    assert (tmp_path / "README.md").read_text().count("<details>") == 5
    assert KEY not in out + err


def test_missing_key_is_one_warning_and_exit_0(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes, llm: FakeLLM
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    path = config(tmp_path, httpserver, llm, base_url="https://llm.example.invalid/v1")
    process = start(["run", "--config", str(path)], tmp_path, key=None)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert err.count("TEST_LLM_KEY is not set") == 1
    assert "<details>" not in (tmp_path / "README.md").read_text()


def test_summarize_on_demand_prints_markdown_and_uses_the_cache(
    httpserver: HTTPServer, tmp_path: Path, llm: FakeLLM
) -> None:
    serve_pdfs(httpserver)
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_all-nicotine_10entries.xml"), content_type="application/atom+xml"
    )
    path = config(tmp_path, httpserver, llm, {"arxiv": {"api_delay": 0}})
    args = ["summarize", "1509.01687", "1206.3474v2", "--config", str(path)]
    first = start(args, tmp_path)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert (
        "# Single Molecule Transistor based Nanopore for the detection of Nicotine (1509.01687v1)"
        in out
    )
    assert "A summary of *Single Molecule Transistor" in out
    assert "AI summaries: 2 made, 0 cached" in out
    api_calls = len([r for r, _ in httpserver.log if r.path == "/api/query"])

    second = start(args, tmp_path, key=None)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "AI summaries: 0 made, 2 cached" in out
    assert len(llm.completions) == 2
    assert (
        len([r for r, _ in httpserver.log if r.path == "/api/query"]) == api_calls
    )  # from the store


@pytest.mark.parametrize("bad", ["not-an-id", "12345"])
def test_summarize_rejects_bad_ids(tmp_path: Path, bad: str) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"categories": ["cs.AI"], "keywords": ["x"]}))
    process = start(["summarize", bad], tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "not an arXiv identifier" in err
