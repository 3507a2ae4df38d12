"""`store.history_dir`: what a fork commits instead of its database, and a fresh runner
rebuilding the same store, digest and site from it; `store.retention_days`."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.errors import StoreError
from arxiv_digest.models import RankedPaper, RunReport
from arxiv_digest.store import Store
from arxiv_digest.store.history import prune_candidates
from tests.conftest import local_config, run_once, serve_feed, serve_pdfs
from tests.fakes import FakeLLM, Reply

DAY = "2026/2026-04-27.jsonl"


def _settings(folder: Path, httpserver: HTTPServer, llm: FakeLLM, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "keywords": ["LLM", "reasoning", "benchmark", "agents", "models"],
        "store": {"history_dir": "data/history"},
        "ai_summary": {
            "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
            "model": "test-model", "max_papers_to_summarize": 3, "pdf_delay": 0,
        },
    }  # fmt: skip
    config = local_config(httpserver, **{**values, **overrides})
    return with_paths_resolved(parse_settings(config), folder)


@pytest.fixture
def world(
    httpserver: HTTPServer, combined_feed: bytes, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> FakeLLM:
    serve_feed(httpserver, "cs.AI+cs.CL+cs.LG", combined_feed)
    serve_pdfs(httpserver)
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    llm.reply_for = lambda body: Reply(text="## 1. Contributions\n\n- A faster decoder.")
    return llm


def _committed(folder: Path) -> dict[str, bytes]:
    """What the fork's commit step adds: README.md, site/ and data/history/."""
    files = {"README.md": (folder / "README.md").read_bytes()}
    for tree in ("site", "data/history"):
        for path in sorted((folder / tree).rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def _fresh_runner(committed: dict[str, bytes], folder: Path) -> None:
    for name, data in committed.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def test_a_fresh_runner_rebuilds_the_store_from_history_and_changes_nothing(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    first = tmp_path / "day1"
    run_once(_settings(first, httpserver, world))
    assert len(world.completions) == 3
    committed = _committed(first)
    assert f"data/history/digests/{DAY}" in committed
    assert not any(name.endswith(".sqlite") for name in committed)

    again = tmp_path / "rerun"  # a new clone: no database, only what was committed
    _fresh_runner(committed, again)
    run_once(_settings(again, httpserver, world))

    assert len(world.completions) == 3, "a fresh runner paid for the same summaries again"
    assert _committed(again) == committed  # README (its timestamp too), site and history


def test_a_fresh_runner_renders_no_summary_again(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day file keeps each summary as the site showed it: a new runner (a fork's, every
    day) builds the same pages without rendering weeks of summaries' Markdown again."""
    from arxiv_digest.publish import feeds, html, site

    first = tmp_path / "day1"
    run_once(_settings(first, httpserver, world))
    committed = _committed(first)
    day_file = committed[f"data/history/digests/{DAY}"].decode()
    kept = [json.loads(line) for line in day_file.splitlines() if '"summary_html"' in line]
    assert len(kept) == 1 and "A faster decoder." in kept[0]["row"]["html"]  # 3 alike

    for made in (html._rendered, site._expanded_block, feeds._item_html, feeds._json_item):
        made.cache_clear()  # as in a new process
    html._KNOWN.clear()
    rendered: list[str] = []
    render = html._MARKDOWN.render

    def counted(text: str) -> str:
        rendered.append(text)
        return str(render(text))

    monkeypatch.setattr(html._MARKDOWN, "render", counted)
    again = tmp_path / "rerun"
    _fresh_runner(committed, again)
    (again / "site" / ".arxiv-digest.json").unlink()  # every page is made again
    run_once(_settings(again, httpserver, world))

    assert rendered == []
    assert _committed(again) == committed


def _found(folder: Path, query: str) -> list[tuple[str, str]]:
    with Store(f"sqlite:///{folder / 'data' / 'arxiv-digest.sqlite'}") as store:
        page = store.search(query, limit=100, shown=True)
    return sorted((hit.paper.arxiv_id, hit.snippet_from) for hit in page.hits)


def test_a_fresh_runner_can_search_what_it_restored_as_the_first_could(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    first = tmp_path / "day1"
    run_once(_settings(first, httpserver, world))
    again = tmp_path / "rerun"
    _fresh_runner(_committed(first), again)
    run_once(_settings(again, httpserver, world))

    by_summary = _found(first, "faster decoder")
    assert len(by_summary) == 3 and {where for _, where in by_summary} == {"summary"}
    assert _found(again, "faster decoder") == by_summary
    assert _found(again, "reasoning") == _found(first, "reasoning") != []


def test_a_rerun_on_the_same_store_rewrites_no_history_file(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    settings = _settings(tmp_path, httpserver, world)
    run_once(settings)
    before = _committed(tmp_path)
    history = tmp_path / "data" / "history" / "digests" / DAY
    stamp = history.stat().st_mtime_ns
    run_once(settings)
    assert _committed(tmp_path) == before
    assert history.stat().st_mtime_ns == stamp  # not even rewritten with the same bytes


def test_a_history_file_cut_short_is_an_error_naming_the_file_and_line(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    run_once(_settings(tmp_path / "a", httpserver, world))
    committed = _committed(tmp_path / "a")
    name = f"data/history/digests/{DAY}"
    lines = committed[name].splitlines(keepends=True)
    committed[name] = b"".join(lines[:3]) + lines[3][:40]
    _fresh_runner(committed, tmp_path / "b")
    with pytest.raises(StoreError, match=r"2026-04-27\.jsonl line 4"):
        run_once(_settings(tmp_path / "b", httpserver, world))


def test_an_existing_store_gets_a_file_for_every_day_it_published(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    without = _settings(tmp_path, httpserver, world, store={})
    run_once(without)
    assert not (tmp_path / "data" / "history").exists()
    run_once(_settings(tmp_path, httpserver, world))
    assert (tmp_path / "data" / "history" / "digests" / DAY).is_file()


def test_digests_spanning_days_keep_their_candidates(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    run_once(_settings(tmp_path, httpserver, world, days_back=3))
    candidates = tmp_path / "data" / "history" / "candidates" / DAY
    with Store(f"sqlite:///{tmp_path / 'data' / 'arxiv-digest.sqlite'}") as store:
        announced = len(store.announced_between(dt.date(2026, 4, 27), dt.date(2026, 4, 27)))
    assert len(candidates.read_bytes().splitlines()) == 2 * announced  # paper + announcement


def test_retention_slims_only_candidates_nothing_used(store: Store, make_paper: Any) -> None:
    old = dt.date(2026, 1, 5)
    unused, shown, rated, recent = (
        make_paper(announced=old),
        make_paper(announced=old),
        make_paper(announced=old),
        make_paper(announced=dt.date(2026, 4, 27)),
    )
    store.upsert_papers([unused, shown, rated, recent])
    run = store.start_run(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    store.save_ranking(run, [RankedPaper(shown, 3.0, ("LLM",), "cs.AI")])
    store.finish_run(run, RunReport(status="ok"), dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    store.rate(rated.arxiv_id, 1, "cli", dt.datetime(2026, 1, 6, tzinfo=dt.UTC))

    assert prune_candidates(store, dt.date(2026, 3, 1)) == 1
    assert prune_candidates(store, dt.date(2026, 3, 1)) == 0  # nothing left to do
    kept = {p.arxiv_id: store.paper(p.arxiv_id) for p in (unused, shown, rated, recent)}
    slim = kept[unused.arxiv_id]
    assert slim is not None and slim.abstract == "" and slim.title == unused.title
    assert all(kept[p.arxiv_id].abstract for p in (shown, rated, recent))  # type: ignore[union-attr]


def test_retention_runs_after_a_run_when_configured(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM
) -> None:
    settings = _settings(tmp_path, httpserver, world)
    run_once(settings)
    # nothing is old enough on a single day: retention keeps every abstract
    keeping = settings.store.model_copy(update={"retention_days": 1})
    run_once(settings.model_copy(update={"store": keeping}))
    with Store(settings.store.url) as store:
        papers = store.announced_between(dt.date(2026, 4, 27), dt.date(2026, 4, 27))
    assert all(p.abstract for p in papers)


def test_a_cold_start_serves_the_committed_history(
    tmp_path: Path, httpserver: HTTPServer, world: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vercel's recipe: the repository's files, a new database in /tmp, nothing else."""
    from starlette.testclient import TestClient

    run_once(_settings(tmp_path / "fork", httpserver, world))
    _fresh_runner(_committed(tmp_path / "fork"), tmp_path / "deployed")
    config = tmp_path / "deployed" / "config.json"
    config.write_text(
        json.dumps(local_config(httpserver, store={"history_dir": "data/history"})), "utf-8"
    )
    monkeypatch.setenv("ARXIV_DIGEST_CONFIG", str(config))
    monkeypatch.setenv("ARXIV_DIGEST_STORE_URL", f"sqlite:///{tmp_path / 'tmp' / 'x.sqlite'}")
    from arxiv_digest.web import asgi

    with TestClient(asgi.build()) as client:
        page = client.get("/")
    readme = (tmp_path / "fork" / "README.md").read_text("utf-8")
    first = re.search(r"^### 1\. \[.+?\]\(https://arxiv.org/abs/(.+?)\)", readme, re.M)
    assert page.status_code == 200
    assert first is not None
    assert f"abs/{first[1]}" in page.text
