"""The command line as a user runs it: real process, real exit statuses, local arXiv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import REPO, fixture_bytes, serve_feed, write_config

CATS = "cs.AI+cs.CL+cs.LG"


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARXIV_DIGEST_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "arxiv_digest", *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_run_from_another_directory_resolves_paths_against_the_config(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    project = tmp_path / "project"
    project.mkdir()
    config = write_config(project, httpserver)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("run", "--config", str(config), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "papers in the digest" in result.stdout
    assert (project / "README.md").is_file()
    assert (project / "data" / "arxiv-digest.sqlite").is_file()
    assert list(elsewhere.iterdir()) == []


def test_config_from_the_environment_variable(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    config = write_config(tmp_path, httpserver)
    result = cli("run", cwd=REPO, env={"ARXIV_DIGEST_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "README.md").is_file()


def test_empty_arxiv_day_exits_0_and_says_so(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_feed(httpserver, CATS, fixture_bytes("rss/empty-channel.xml"))
    config = write_config(tmp_path, httpserver)
    (tmp_path / "README.md").write_text("kept\n")
    result = cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0
    assert "No new announcements" in result.stdout
    assert (tmp_path / "README.md").read_text() == "kept\n"


def test_broken_feed_exits_1_with_a_clear_message(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_feed(httpserver, CATS, fixture_bytes("rss/stat_2024-03-26.xml")[:5000])
    config = write_config(tmp_path, httpserver)
    result = cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "not well-formed XML" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "README.md").exists()


def test_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"categories": ["cs.AI"], "keywords": ["x"], "max_papers": -3})
    )
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "max_papers" in result.stderr


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    assert cli("frobnicate", cwd=tmp_path).returncode == 2


def test_demo_runs_offline_and_writes_demo_output(tmp_path: Path) -> None:
    result = cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "demo-output" / "README.md").read_text()
    assert "- **Categories Monitored**: stat" in readme
    assert "**Published**: 2024-03-26" in readme
    assert "### 1. [" in readme


def test_quiet_prints_nothing_on_success(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    config = write_config(tmp_path, httpserver)
    result = cli("--quiet", "run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""


def test_doctor_checks_everything_and_never_prints_the_key(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    provider = HTTPServer(host="127.0.0.2")  # on this machine, but not a "local server"
    provider.expect_request("/v1/models").respond_with_json({"data": [{"id": "qwen-long"}]})
    provider.start()
    try:
        llm = {"enabled": True, "api_key_env": "MY_LLM_KEY", "base_url": provider.url_for("/v1")}
        config = write_config(tmp_path, httpserver, ai_summary=llm)
        secret = "sk-very-secret-value-123"
        result = cli("doctor", "--config", str(config), cwd=tmp_path, env={"MY_LLM_KEY": secret})
        missing = cli("doctor", "--config", str(config), cwd=tmp_path)
    finally:
        provider.clear()
        provider.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MY_LLM_KEY is set" in result.stdout
    assert secret not in result.stdout + result.stderr
    assert missing.returncode == 1
    assert "MY_LLM_KEY is NOT set" in missing.stdout


def test_doctor_reports_arxiv_unreachable(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "categories": ["cs.AI"],
                "keywords": ["x"],
                "arxiv": {"rss_url": "http://127.0.0.1:9/rss"},
            }
        )
    )
    result = cli("doctor", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "arXiv" in result.stdout


def test_backfill_command(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_zero-results.xml"), content_type="application/atom+xml"
    )
    config = write_config(tmp_path, httpserver, arxiv={"api_delay": 0})
    result = cli("backfill", "--days", "3", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Stored 0 papers announced in the last 3 day(s)" in result.stdout


# What a run leaves unloaded: a daily run starts as a new process, and a rerun that finds
# nothing new should cost little more than those imports.
REPORT_MODULES = """\
import sys
from arxiv_digest.cli import main
try:
    main()
finally:
    skipped = ("starlette", "uvicorn", "ftfy", "arxiv_digest.web", "arxiv_digest.delivery",
               "arxiv_digest.doctor", "arxiv_digest.team.run")
    print("loaded:", sorted(m for m in sys.modules if m.startswith(skipped)), file=sys.stderr)
"""


def test_the_cli_and_the_pipeline_load_no_ranking_or_rendering_library_before_a_run_asks() -> None:
    """A run imports numpy, the templates and Markdown in a thread while arXiv answers
    (``pipeline.import_later_stages``): starting the command must not load them first."""
    code = (
        "import sys, arxiv_digest.cli, arxiv_digest.pipeline\n"
        "heavy = ('numpy', 'jinja2', 'markdown_it', 'feedgen', 'latex2mathml',"
        " 'arxiv_digest.rank')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_run_without_delivery_loads_no_web_app_no_channels_and_no_ftfy(
    httpserver: HTTPServer, tmp_path: Path, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    config = write_config(tmp_path, httpserver)
    result = subprocess.run(
        [sys.executable, "-c", REPORT_MODULES, "run", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stderr
