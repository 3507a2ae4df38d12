"""Team mode on a real arXiv day: one ingestion, one bill, a digest for each member."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.errors import ConfigError
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.team import members
from arxiv_digest.team.run import TeamReport, run_team
from tests.conftest import local_config, serve_feed, serve_pdfs
from tests.fakes import FakeLLM, Reply
from tests.servers import Inbox

FEED = "cs.AI+cs.CL+cs.LG"


def _email(port: int, to: str) -> dict[str, Any]:
    return {
        "email": {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "security": "none",
            "from": "digest@example.org",
            "to": [to],
            "timeout": 10,
        }
    }


def team_config(
    httpserver: HTTPServer, llm: FakeLLM | None = None, **overrides: Any
) -> dict[str, Any]:
    """Three members over the fixture day: two share "LLM", one reads cs.LG only."""
    config = local_config(httpserver, keywords=[], exclude_keywords=[])
    config["site_url"] = "https://lab.example.org/digest"
    config["profiles"] = {
        "alice": {"keywords": ["LLM", "reasoning"], "max_papers": 5},
        "bob": {"keywords": ["LLM", "agents"], "max_papers": 5},
        "carol": {"keywords": ["benchmark"], "categories": ["cs.LG"], "max_papers": 4},
    }
    if llm is not None:
        config["ai_summary"] = {
            "enabled": True, "api_key_env": "TEST_LLM_KEY", "base_url": llm.base_url,
            "model": "test-model", "max_papers_to_summarize": 3, "pdf_delay": 0,
            "input": "abstract",
        }  # fmt: skip
    config.update(overrides)
    return config


def settings_of(config: dict[str, Any], folder: Path) -> Settings:
    return with_paths_resolved(parse_settings(config), folder)


def run(settings: Settings) -> TeamReport:
    with http.make_client(settings.http) as client, Store(settings.store.url) as store:
        return run_team(settings, store, client, sleep=lambda s: None)


@pytest.fixture
def day(httpserver: HTTPServer, combined_feed: bytes) -> HTTPServer:
    serve_feed(httpserver, FEED, combined_feed)
    serve_pdfs(httpserver)
    return httpserver


def _ids(page: bytes) -> set[str]:
    import re

    return set(re.findall(r'<article class="paper" id="([^"]+)"', page.decode()))


# -- config ----------------------------------------------------------------------------------


def test_a_bad_profile_names_profiles_name_field(httpserver: HTTPServer) -> None:
    config = team_config(httpserver)
    config["profiles"]["bob"]["max_papers"] = 0
    config["profiles"]["carol"]["categories"] = ["math.CO"]
    config["profiles"]["dave"] = {"keywords": ["x"], "store": {"url": "sqlite://"}}
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    message = str(caught.value)
    assert "profiles.bob.max_papers" in message
    assert "profiles.carol.categories: math.CO not in the config's categories" in message
    assert "profiles.dave.store: unknown key" in message


def test_a_profile_is_a_view_of_the_shared_sections(httpserver: HTTPServer, tmp_path: Path) -> None:
    settings = settings_of(team_config(httpserver), tmp_path)
    alice, _, carol = members(settings)
    assert alice.settings.store is settings.store and alice.settings.http is settings.http
    assert alice.settings.arxiv is settings.arxiv and alice.settings.schedule is settings.schedule
    assert alice.settings.keyword_terms == ["LLM", "reasoning"]
    assert carol.settings.categories == ["cs.LG"]
    assert alice.settings.output.site_dir == tmp_path / "site" / "p" / "alice"
    assert alice.settings.site_url == "https://lab.example.org/digest/p/alice"


# -- one ingestion, one bill ------------------------------------------------------------------


def test_three_members_one_request_one_call_per_distinct_paper(
    day: HTTPServer,
    llm: FakeLLM,
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    llm.reply_for = lambda body: Reply(text="A summary.")
    box, port = inbox
    config = team_config(day, llm)
    config["profiles"]["alice"]["delivery"] = _email(port, "alice@example.org")
    config["profiles"]["bob"]["delivery"] = _email(port, "bob@example.org")
    settings = settings_of(config, tmp_path)

    team = run(settings)

    feed_requests = [r for r, _ in day.log if r.path.startswith("/rss/")]
    assert len(feed_requests) == 1
    site = tmp_path / "site"
    picks = {
        m.name: _ids((site / "p" / m.name / "index.html").read_bytes()) for m in members(settings)
    }
    assert all(picks.values()) and picks["alice"] != picks["bob"]
    with Store(settings.store.url) as store:
        for name, ids in picks.items():
            run_id = store.for_profile(name).published_runs()[0][1]
            assert {r.paper.arxiv_id for r in store.ranking(run_id)} == ids
    # the top 3 of each, summarized once each
    with Store(settings.store.url) as store:
        tops = set()
        for name in picks:
            run_id = store.for_profile(name).published_runs()[0][1]
            tops |= {r.paper.arxiv_id for r in store.ranking(run_id)[:3]}
    assert len(llm.completions) == len(tops) == team.run.summaries.made
    assert len(tops) < 9  # alice and bob share "LLM": some paper is wanted twice
    assert sum(m.shared for m in team.members) > 0
    shares = [m.report.summaries for m in team.members]
    assert sum(s.tokens_in for s in shares) == pytest.approx(team.run.summaries.tokens_in, abs=3)

    team_page = (site / "team.html").read_bytes().decode()
    union = set().union(*picks.values())
    assert _ids_team(team_page) == union
    for name in picks:
        assert f'href="p/{name}/index.html"' in team_page

    by_rcpt = {rcpt[0]: m for (_, rcpt), m in zip(box.envelopes, box.messages, strict=True)}
    assert set(by_rcpt) == {"alice@example.org", "bob@example.org"}
    for name in ("alice", "bob"):
        body = by_rcpt[f"{name}@example.org"].get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert all(paper in text for paper in picks[name])
        assert not any(paper in text for paper in picks["carol"] - picks[name])


def _ids_team(page: str) -> set[str]:
    import re

    return set(re.findall(r'<article class="paper" id="([^"]+)"', page))


def test_a_rerun_pays_nothing_and_the_cap_holds(
    day: HTTPServer, llm: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    config = team_config(day, llm)
    config["ai_summary"]["max_calls_per_run"] = 2
    settings = settings_of(config, tmp_path)
    first = run(settings)
    assert first.run.summaries.made == 2 == len(llm.completions)
    config["ai_summary"]["max_calls_per_run"] = None
    settings = settings_of(config, tmp_path)
    second = run(settings)
    made = second.run.summaries.made
    assert made == first.run.summaries.deferred  # what the cap left, the next run made
    assert sum(m.report.summaries.deferred for m in first.members) >= made
    third = run(settings)
    assert made > 0 and third.run.summaries.made == 0
    assert len(llm.completions) == 2 + made


def test_without_profiles_nothing_changes(httpserver: HTTPServer, tmp_path: Path) -> None:
    config = local_config(httpserver)
    settings = settings_of(config, tmp_path)
    assert settings.profiles == {} and members(settings) == ()
    assert json.loads(settings.model_dump_json())["profiles"] == {}


def test_a_single_readers_store_keeps_its_ratings_through_the_migration(tmp_path: Path) -> None:
    import datetime as dt

    from sqlalchemy import create_engine, text

    from arxiv_digest.store import migrations

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a store of the version before team mode
        for step in migrations.MIGRATIONS[:16]:
            step[1](conn)
        conn.execute(text("INSERT INTO meta VALUES ('schema_version', '16')"))
        conn.execute(
            text("INSERT INTO ratings VALUES ('2604.00001', 1, :at, 'cli')"),
            {"at": dt.datetime(2026, 4, 27, tzinfo=dt.UTC)},
        )
    engine.dispose()
    with Store(url) as store:
        assert [(r.arxiv_id, r.value) for r in store.ratings()] == [("2604.00001", 1)]
        assert store.for_profile("alice").ratings() == []
        store.for_profile("alice").rate("2604.00001", -1, "cli", dt.datetime.now(dt.UTC))
        assert store.rating("2604.00001").value == 1  # type: ignore[union-attr]


def test_a_team_run_on_postgresql(day: HTTPServer, tmp_path: Path, pg_url: str) -> None:
    config = team_config(day)
    config["store"] = {"url": pg_url}
    config["output"] = {**config.get("output", {}), "render_processes": 2}  # they share it too
    settings = settings_of(config, tmp_path)
    team = run(settings)
    run(settings)  # a rerun: same digests
    for name in ("alice", "bob", "carol"):
        assert _ids((tmp_path / "site" / "p" / name / "index.html").read_bytes())
    with Store(pg_url) as store:
        for m in team.members:
            published = store.for_profile(m.name).published_runs()
            assert len(published) == 1
            assert len(store.ranking(published[0][1])) == m.report.ranked > 0


def _history_lines(folder: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted(folder.rglob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines


def test_a_private_members_picks_and_ratings_stay_out_of_the_committed_history(
    day: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALICE_TOKEN", "alice-secret")
    config = team_config(day)
    config["store"] = {**config.get("store", {}), "history_dir": "history"}
    config["profiles"]["alice"].update(private=True, token_env="ALICE_TOKEN")
    config["profiles"]["alice"].update(keywords=["YouTube", "monitoring"], max_papers=10)
    config["profiles"]["bob"].update(keywords=["agents"], max_papers=2)
    settings = settings_of(config, tmp_path)
    run(settings)
    site = tmp_path / "site"
    public = set().union(
        *(_ids((site / "p" / n / "index.html").read_bytes()) for n in ("bob", "carol"))
    )
    with Store(settings.store.url) as store:
        alice = {
            r.paper.arxiv_id
            for r in store.ranking(store.for_profile("alice").published_runs()[0][1])
        }
        only_alice = alice - public
        assert only_alice
        now = dt.datetime.now(dt.UTC)
        store.for_profile("alice").rate(sorted(only_alice)[0], -1, "cli", now)
        store.for_profile("bob").rate(sorted(public)[0], 1, "cli", now)
    run(settings)

    lines = _history_lines(tmp_path / "history")
    readers = {line["row"].get("profile", "") for line in lines if line["table"] == "publication"}
    assert readers == {"", "bob", "carol"}
    papers = {line["row"]["arxiv_id"] for line in lines if line["table"] == "papers"}
    assert public <= papers and not papers & only_alice
    rated = {
        (line["row"]["profile"], line["row"]["arxiv_id"])
        for line in lines
        if line["table"] == "ratings"
    }
    assert rated == {("bob", sorted(public)[0])}


def test_the_scheduled_run_of_a_team_config_makes_every_members_digest(
    day: HTTPServer, tmp_path: Path
) -> None:
    """``serve --schedule`` and the service's refresh run this: a team config must not fall
    back to the single reader's run (no member's page, the lab's digest replaced)."""
    from arxiv_digest.team.scheduled import run_configured

    settings = settings_of(team_config(day), tmp_path)
    report = run_configured(settings)

    assert report.status == "ok"
    site = tmp_path / "site"
    for name in ("alice", "bob", "carol"):
        assert _ids((site / "p" / name / "index.html").read_bytes())
    assert (site / "team.html").is_file()


def test_each_members_pages_and_email_show_the_summaries_in_their_own_language(
    day: HTTPServer,
    llm: FakeLLM,
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    llm.reply_for = lambda body: Reply(
        text="Eine Zusammenfassung." if "German" in json.dumps(body) else "A summary."
    )
    box, port = inbox
    config = team_config(day, llm)
    config["ai_summary"]["max_papers_to_summarize"] = 10
    config["profiles"]["alice"]["ai_summary"] = {"language": "de"}
    config["profiles"]["alice"]["delivery"] = _email(port, "alice@example.org")
    settings = settings_of(config, tmp_path)
    run(settings)

    site = tmp_path / "site"
    alice, bob = ((site / "p" / n / "index.html").read_text() for n in ("alice", "bob"))
    assert _ids(alice.encode()) & _ids(bob.encode()), "alice and bob share a pick"
    assert "Eine Zusammenfassung." in alice and "A summary." not in alice
    assert "A summary." in bob and "Eine Zusammenfassung." not in bob
    body = box.messages[0].get_body(("plain",))
    assert body is not None and "A summary." not in body.get_content()
