"""The config file: the original's keys keep working; every mistake is named and exits 2."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from arxiv_digest.cli import app
from arxiv_digest.config import load_settings, parse_settings
from arxiv_digest.errors import ConfigError
from tests.conftest import REPO

ORIGINAL = {
    "categories": ["cs.AI", "cs.CL", "cs.DC", "cs.LG"],
    "keywords": ["LLM", "RL", "Inference", "Sparse", "Speculative"],
    "exclude_keywords": ["survey", "review", "tutorial"],
    "max_papers": 30,
    "days_back": 7,
    "min_score": 2.5,
    "enable_deduplication": True,
    "deduplication_methods": ["id", "title", "link"],
    "fetch_ratings": True,
    "display_limit": 500,
    "ai_summary": {
        "enabled": True,
        "api_key_env": "DASHSCOPE_API_KEY",
        "base_url": "https://dashscope.aliyuncs.com/compatible-mode/v1",
        "model": "qwen-long",
        "prompt_file": "ai_summary_prompt.txt",
        "max_papers_to_summarize": 15,
        "max_workers": 3,
    },
}


def test_the_original_config_loads_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = parse_settings(ORIGINAL)
    assert settings.keyword_terms == ["LLM", "RL", "Inference", "Sparse", "Speculative"]
    assert settings.min_score == 2.5 and settings.days_back == 7
    assert settings.ai_summary.model == "qwen-long"
    notices = [r.getMessage() for r in caplog.records]
    assert any("fetch_ratings" in n for n in notices)
    assert any("display_limit" in n for n in notices)
    assert len(notices) == 2


def test_the_example_config_in_the_repository_is_valid() -> None:
    settings = load_settings(REPO / "config.json")
    assert settings.categories and settings.keywords


def test_keywords_as_strings_or_weighted_terms() -> None:
    settings = parse_settings(
        {"categories": ["cs.AI"], "keywords": ["LLM", {"term": "RL", "weight": 2.5}]}
    )
    assert [(k.term, k.weight) for k in settings.keywords] == [("LLM", 1.0), ("RL", 2.5)]


def test_comment_keys_are_ignored() -> None:
    settings = parse_settings(
        {"//": "my config", "categories": ["cs.AI"], "keywords": ["LLM"], "store": {"//x": "y"}}
    )
    assert settings.categories == ["cs.AI"]


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps({"categories": ["cs.AI"], "keywords": ["LLM"], "output": {"readme": "out/R.md"}})
    )
    settings = load_settings(folder / "config.json")
    assert settings.output.readme == folder / "out" / "R.md"
    assert settings.output.site_dir == folder / "site"
    assert settings.store.url == f"sqlite:///{folder}/data/arxiv-digest.sqlite"


def test_the_environment_variable_selects_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"categories": ["math.CO"], "keywords": ["graph"]}))
    monkeypatch.setenv("ARXIV_DIGEST_CONFIG", str(path))
    assert load_settings().categories == ["math.CO"]


def test_a_typo_gets_a_did_you_mean_hint() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings({"categories": ["cs.AI"], "keywords": ["LLM"], "max_paper": 3})
    assert "max_paper: unknown key (did you mean 'max_papers'?)" in str(info.value)


def test_a_nested_typo_names_its_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings({"categories": ["cs.AI"], "keywords": ["LLM"], "ai_summary": {"modle": "x"}})
    assert "ai_summary.modle: unknown key (did you mean 'model'?)" in str(info.value)


BAD_CONFIGS: list[tuple[str, Any, str]] = [
    ("missing categories", {"categories": ...}, "categories: Field required"),
    ("empty categories", {"categories": []}, "categories: List should have at least 1 item"),
    ("category not a string", {"categories": [5]}, "categories[0]: Input should be a valid string"),
    (
        "malformed category",
        {"categories": ["cs AI"]},
        "categories: 'cs AI' is not an arXiv category",
    ),
    ("category twice", {"categories": ["cs.AI", "cs.AI"]}, "categories: lists a category twice"),
    ("keywords not a list", {"keywords": "LLM"}, "keywords: Input should be a valid list"),
    ("empty keyword", {"keywords": ["LLM", ""]}, "keywords[1].term"),
    ("blank keyword", {"keywords": ["  "]}, "keywords[0].term: must not be blank"),
    ("keyword weight zero", {"keywords": [{"term": "x", "weight": 0}]}, "keywords[0].weight"),
    (
        "keyword object without term",
        {"keywords": [{"weight": 2}]},
        "keywords[0].term: Field required",
    ),
    (
        "nothing to match",
        {"keywords": []},
        "give at least one keyword, followed author or relevance.library entry",
    ),
    (
        "max_papers zero",
        {"max_papers": 0},
        "max_papers: Input should be greater than or equal to 1",
    ),
    ("max_papers text", {"max_papers": "many"}, "max_papers: Input should be a valid integer"),
    (
        "days_back negative",
        {"days_back": -1},
        "days_back: Input should be greater than or equal to 1",
    ),
    ("min_score text", {"min_score": "high"}, "min_score: Input should be a valid number"),
    ("dedup method", {"deduplication_methods": ["doi"]}, "deduplication_methods[0]"),
    ("dedup flag", {"enable_deduplication": "yes please"}, "enable_deduplication"),
    ("match mode", {"match": "fuzzy"}, "match: Input should be 'word' or 'substring'"),
    ("announce type", {"announce_types": ["new", "old"]}, "announce_types[1]"),
    (
        "no announce type",
        {"announce_types": []},
        "announce_types: List should have at least 1 item",
    ),
    (
        "unknown top key",
        {"catgories": ["cs.AI"]},
        "catgories: unknown key (did you mean 'categories'?)",
    ),
    ("workers zero", {"ai_summary": {"max_workers": 0}}, "ai_summary.max_workers"),
    (
        "ai_summary not object",
        {"ai_summary": True},
        "ai_summary: Input should be a valid dictionary",
    ),
    ("rss url", {"arxiv": {"rss_url": "rss.arxiv.org"}}, "arxiv.rss_url: must be an http(s) URL"),
    ("store url", {"store": {"url": "not a url"}}, "store.url: not a database URL"),
    ("schedule time", {"schedule": {"time": "25:00"}}, "schedule.time: must be HH:MM"),
    ("schedule zone", {"schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone: unknown"),
    ("site url", {"site_url": "javascript:alert(1)"}, "site_url: must be an http(s) URL"),
    ("retries", {"http": {"retries": 99}}, "http.retries"),
    ("scoring negative", {"scoring": {"title": -1}}, "scoring.title"),
    ("output readme type", {"output": {"readme": 3}}, "output.readme"),
    ("top level list", ["cs.AI"], "the top level must be a JSON object"),
    (
        "prompt file missing",
        {"ai_summary": {"enabled": True, "prompt_file": "no-such-prompt.txt"}},
        "ai_summary.prompt_file: ",
    ),
    (
        "prompt file is a folder",
        {"ai_summary": {"enabled": True, "prompt_file": "."}},
        "is a directory, not a file",
    ),
    (
        "readme template missing",
        {"output": {"readme_template": "no-such-template.md"}},
        "output.readme_template: ",
    ),
]


@pytest.mark.parametrize(
    ("problem", "override", "message"), BAD_CONFIGS, ids=[b[0] for b in BAD_CONFIGS]
)
def test_bad_config_exits_2_naming_the_field_and_touches_nothing(
    tmp_path: Path, problem: str, override: Any, message: str
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("previous digest\n")
    if isinstance(override, dict):
        config: Any = {"categories": ["cs.AI"], "keywords": ["LLM"], **override}
        config = {key: value for key, value in config.items() if value is not ...}
        config["output"] = {"readme": str(readme), **config.get("output", {})}
        config.setdefault("arxiv", {}).setdefault("rss_url", "http://127.0.0.1:9/rss")
    else:
        config = override
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert readme.read_text() == "previous digest\n"
    assert not (tmp_path / "data").exists()


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "categories": ["cs.AI"],\n  "keywords": ["LLM",]\n}\n')
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "not valid JSON at line 3" in result.output


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_store_url_from_the_environment_and_sqlite_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"categories": ["cs.AI"], "keywords": ["LLM"]}))
    monkeypatch.setenv("ARXIV_DIGEST_STORE_URL", "sqlite:///file:data/x.sqlite?mode=ro&uri=true")
    url = load_settings(path).store.url
    assert url == f"sqlite:///file:{tmp_path}/data/x.sqlite?mode=ro&uri=true"
    monkeypatch.setenv("ARXIV_DIGEST_STORE_URL", "not a url")
    with pytest.raises(ConfigError, match=r"store\.url"):
        load_settings(path)


def test_messages_with_brackets_are_printed_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"categories": ["cs.AI"], "keywords": ["[bold]x", ""]}))
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "keywords[1].term" in result.output
