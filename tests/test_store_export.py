"""`export` / `import`: a store moves whole between SQLite and PostgreSQL, or not at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from arxiv_digest.cli import app
from arxiv_digest.errors import ConfigError
from arxiv_digest.store import Store, schema
from arxiv_digest.store.export import EXPORTED, NOT_EXPORTED, export_store, import_store
from tests.conftest import local_config, serve_feed, serve_pdfs
from tests.fakes import FakeLLM, Reply

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store to import into: a new SQLite file, or the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'target' / 'digest.sqlite'}"
    else:
        yield request.getfixturevalue("pg_url")


def _config(folder: Path, httpserver: HTTPServer, llm: FakeLLM, store_url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = local_config(
        httpserver,
        keywords=["LLM", "reasoning", "benchmark", "agents", "models"],
        store={"url": store_url},
        ai_summary={
            "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
            "model": "test-model", "max_papers_to_summarize": 2, "pdf_delay": 0,
        },
    )  # fmt: skip
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _readme_without_timestamp(folder: Path) -> str:
    lines = (folder / "README.md").read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if "Last Updated" not in line)


def test_a_store_moved_by_export_and_import_pays_nothing_again_and_publishes_the_same(  # noqa: PLR0917
    tmp_path: Path,
    httpserver: HTTPServer,
    combined_feed: bytes,
    llm: FakeLLM,
    target_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_feed(httpserver, "cs.AI+cs.CL+cs.LG", combined_feed)
    serve_pdfs(httpserver)
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    llm.reply_for = lambda body: Reply(text="## 1. Contributions\n\n- A faster decoder.")
    source = _config(tmp_path / "laptop", httpserver, llm, "sqlite:///data/digest.sqlite")
    _cli("run", "--config", str(source))
    assert len(llm.completions) == 2
    top = json.loads(_cli("search", "--json", "--config", str(source), "reasoning"))
    rated = top["results"][0]["arxiv_id"]
    _cli("rate", rated, "up", "--config", str(source))

    _cli("export", "--output", str(tmp_path / "export"), "--config", str(source))
    moved = _config(tmp_path / "server", httpserver, llm, target_url)
    _cli("import", str(tmp_path / "export"), "--config", str(moved))
    _cli("run", "--config", str(moved))

    assert len(llm.completions) == 2, "the moved store paid for summaries again"
    assert _readme_without_timestamp(tmp_path / "server") == _readme_without_timestamp(
        tmp_path / "laptop"
    )
    assert _cli("rate", "--list", "--config", str(moved)) == _cli(
        "rate", "--list", "--config", str(source)
    )
    found = [_search_hits(config) for config in (source, moved)]
    assert found[0] == found[1]  # the same papers and ratings (scores are each engine's own)
    assert any(hit["arxiv_id"] == rated and hit["rating"] == 1 for hit in found[1])


def _search_hits(config: Path) -> list[dict[str, Any]]:
    page = json.loads(
        _cli("search", "--json", "--newest", "--limit", "50", "--config", str(config), "reasoning")
    )
    kept = ("arxiv_id", "version", "title", "announced", "shown_on", "rating")
    return [{key: hit.get(key) for key in kept} for hit in page["results"]]


def _filled_store(tmp_path: Path, make_paper: Any) -> Store:
    import datetime as dt

    from arxiv_digest.models import DeliveryRecord, RankedPaper, RunReport, Summary

    store = Store(f"sqlite:///{tmp_path / 'source.sqlite'}")
    papers = [
        make_paper(title="Ünïcode “quotes” and TeX $x^2$", authors=("Zoë Ö", "李 雷")),
        make_paper(version=2),
    ]
    store.upsert_papers(papers)
    now = dt.datetime(2026, 4, 27, 12, 0, 30, 123456, tzinfo=dt.UTC)
    run = store.start_run(now)
    store.save_ranking(run, [RankedPaper(p, 2.5, ("LLM",), "cs.AI", why="why") for p in papers])
    report = RunReport(status="ok", digest_date=papers[0].announced)
    store.finish_run(run, report, now, "f" * 64)
    store.save_summary(
        Summary(papers[0].arxiv_id, 1, "m", "text", input_mode="pdf", tokens_in=3), "p" * 64, now
    )
    store.rate(papers[1].arxiv_id, -1, "link", now)
    store.save_vectors({"arxiv:a": np.array([0.25, -1.5], dtype=np.float32)}, "fastembed:x", now)
    store.save_delivery(DeliveryRecord(papers[0].announced, "email", "sent", 1, 1, 1, "", now))
    return store


def test_every_table_is_exported_or_rebuilt_by_the_store() -> None:
    exported = {t.name for t in EXPORTED}
    assert exported.isdisjoint(NOT_EXPORTED)
    assert exported | set(NOT_EXPORTED) == set(schema.metadata.tables)


def test_an_import_holds_exactly_the_rows_exported(
    tmp_path: Path, make_paper: Any, target_url: str
) -> None:
    with _filled_store(tmp_path, make_paper) as source:
        first = export_store(source, tmp_path / "first")
    assert {f.table: f.rows for f in first}["summaries"] == 1
    with Store(target_url) as target:
        counts = import_store(target, tmp_path / "first")
        again = export_store(target, tmp_path / "again")
        imported = target.last_run()
        assert imported is not None
        assert target.start_run(imported["started_at"]) == 2  # ids go on after the imported
    assert counts == {f.table: f.rows for f in first}
    for one, other in zip(first, again, strict=True):
        assert (tmp_path / "first" / one.file).read_bytes() == (
            tmp_path / "again" / other.file
        ).read_bytes(), one.file


def _cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["cut", "line dropped", "bad value"])
def test_a_damaged_export_is_refused_naming_the_file_and_imports_nothing(
    tmp_path: Path, make_paper: Any, target_url: str, damage: str
) -> None:
    with _filled_store(tmp_path, make_paper) as source:
        export_store(source, tmp_path / "export")
    papers = tmp_path / "export" / "papers.jsonl"
    if damage == "cut":
        _cut_in_half(papers)
    elif damage == "line dropped":
        papers.write_text(papers.read_text(encoding="utf-8").splitlines(True)[0], "utf-8")
    else:
        row = json.loads(papers.read_text(encoding="utf-8").splitlines()[0])
        papers.write_text(json.dumps({**row, "version": "two"}) + "\n", "utf-8")
    with Store(target_url) as target:
        with pytest.raises(ConfigError, match=r"papers\.jsonl") as error:
            import_store(target, tmp_path / "export")
        assert target.count_papers() == 0
        assert target.runs() == []
    if damage != "line dropped":
        assert "line 1" in str(error.value)


def test_a_cut_export_is_exit_1_or_2_and_leaves_the_target_empty(
    tmp_path: Path, make_paper: Any, httpserver: HTTPServer, llm: FakeLLM
) -> None:
    with _filled_store(tmp_path, make_paper) as source:
        export_store(source, tmp_path / "export")
    _cut_in_half(tmp_path / "export" / "summaries.jsonl")
    target = _config(tmp_path / "t", httpserver, llm, "sqlite:///data/digest.sqlite")
    result = runner.invoke(app, ["import", str(tmp_path / "export"), "--config", str(target)])
    assert result.exit_code == 2
    assert "summaries.jsonl" in " ".join(result.output.split())
    with Store(f"sqlite:///{tmp_path / 't' / 'data' / 'digest.sqlite'}") as store:
        assert store.count_papers() == 0


def test_import_into_a_store_that_holds_data_is_refused(tmp_path: Path, make_paper: Any) -> None:
    with _filled_store(tmp_path, make_paper) as source:
        export_store(source, tmp_path / "export")
        with pytest.raises(ConfigError, match="already holds data"):
            import_store(source, tmp_path / "export")


def test_export_never_writes_into_a_folder_that_holds_files(
    tmp_path: Path, make_paper: Any
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", "utf-8")
    with (
        _filled_store(tmp_path, make_paper) as source,
        pytest.raises(ConfigError, match="not an empty folder"),
    ):
        export_store(source, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
