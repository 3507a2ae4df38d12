"""Team mode in serve and on the command line: member pages, the team page, ratings per
reader, private members."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from arxiv_digest.cli import app as cli
from arxiv_digest.config import Settings
from arxiv_digest.ratings import SECRET_ENV, profile_of, sign
from arxiv_digest.store import Store
from arxiv_digest.web import create_app
from tests.conftest import serve_feed
from tests.test_team import FEED, run, settings_of, team_config

SECRET = "a-rating-secret-of-some-length"
TOKEN = "dave-s-token-0123456789"


@pytest.fixture
def team(
    httpserver: HTTPServer, combined_feed: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    serve_feed(httpserver, FEED, combined_feed)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("DAVE_TOKEN", TOKEN)
    config = team_config(httpserver)
    config["profiles"]["dave"] = {
        "keywords": ["reasoning", "agents"], "private": True, "token_env": "DAVE_TOKEN",
    }  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    settings = settings_of(config, tmp_path)
    run(settings)
    return settings


@pytest.fixture
def client(team: Settings) -> Iterator[TestClient]:
    with Store(team.store.url) as store, TestClient(create_app(team, store)) as test_client:
        yield test_client


def _ids(html: str) -> set[str]:
    return set(re.findall(r'<article class="paper" id="([^"]+)"', html))


def test_each_member_is_served_at_p_name_and_the_team_page_lists_the_union(
    client: TestClient, team: Settings
) -> None:
    picks = {}
    for name in ("alice", "bob", "carol"):
        page = client.get(f"/p/{name}/")
        assert page.status_code == 200, name
        picks[name] = _ids(page.text)
        assert picks[name] == _ids((team.output.site_dir / "p" / name / "index.html").read_text())
        again = client.get(f"/p/{name}/", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert client.get(f"/p/{name}/rss").status_code == 200
    page = client.get("/team")
    assert page.status_code == 200
    assert _ids(page.text) == set().union(*picks.values())
    for paper in picks["alice"] & picks["bob"]:
        block = page.text.split(f'id="{paper}"', 1)[1].split("</article>", 1)[0]
        assert "alice</a>" in block and "bob</a>" in block
    health = client.get("/health").json()
    assert set(health["team"]["members"]) == {"alice", "bob", "carol", "dave"}
    assert health["team"]["members"]["alice"]["papers"] == len(picks["alice"])


def test_a_private_member_needs_the_token_and_is_nowhere_public(
    client: TestClient, team: Settings
) -> None:
    assert client.get("/p/dave/").status_code == 401
    assert client.get("/p/dave/rss").status_code == 401
    assert client.get("/p/dave/", headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.get("/p/dave/rss?token=nope").status_code == 403
    mine = client.get("/p/dave/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert mine.status_code == 200 and _ids(mine.text)
    assert client.get(f"/p/dave/rss?token={TOKEN}").status_code == 200
    assert not (team.output.site_dir / "p" / "dave").exists()
    team_page = (team.output.site_dir / "team.html").read_text()
    assert "dave" not in team_page and "dave" not in client.get("/team").text
    root = (team.output.site_dir / "index.html").read_text()
    assert "dave" not in root
    assert client.get("/config").json()["profiles"][-1] == {"name": "dave", "private": True}


def test_rating_links_are_per_reader(client: TestClient, team: Settings) -> None:
    alice_page = (team.output.site_dir / "p" / "alice" / "index.html").read_text()
    link = re.search(
        r'href="https://lab\.example\.org/digest/p/alice/rate/([^/]+)/up\?sig=([^"]+)"', alice_page
    )
    assert link is not None
    paper, sig = link.groups()
    assert sig == sign(paper, "up", SECRET.encode(), "alice")
    assert client.get(f"/p/bob/rate/{paper}/up?sig={sig}").status_code == 403
    assert client.get(f"/rate/{paper}/up?sig={sig}").status_code == 403
    assert client.get(f"/p/alice/rate/{paper}/up?sig={sig}").status_code == 200
    with Store(team.store.url) as store:
        assert [r.arxiv_id for r in store.for_profile("alice").ratings()] == [paper]
        assert store.for_profile("bob").ratings() == [] and store.ratings() == []
    assert profile_of("https://x.org/digest/p/alice") == "alice"
    assert profile_of("https://x.org/digest") == ""


def test_cli_profiles_and_per_profile_rate_and_search(team: Settings, tmp_path: Path) -> None:
    config = str(tmp_path / "config.json")
    runner = CliRunner()
    listed = runner.invoke(cli, ["profiles", "--config", config])
    assert listed.exit_code == 0, listed.output
    assert all(name in listed.output for name in ("alice", "bob", "carol", "dave"))
    with Store(team.store.url) as store:
        run_id = store.for_profile("bob").published_runs()[0][1]
        top = store.ranking(run_id)[0].paper
        paper, word = top.arxiv_id, max(re.findall(r"[A-Za-z]{5,}", top.title), key=len)
    rated = runner.invoke(cli, ["rate", paper, "up", "--profile", "bob", "--config", config])
    assert rated.exit_code == 0, rated.output
    mine = runner.invoke(
        cli, ["search", "--profile", "bob", "--rated", "up", "--json", "--config", config, word]
    )
    theirs = runner.invoke(cli, ["search", "--rated", "up", "--json", "--config", config, word])
    assert mine.exit_code == 0 and theirs.exit_code == 0, mine.output + theirs.output
    assert [h["arxiv_id"] for h in json.loads(mine.output)["results"]] == [paper]
    assert json.loads(theirs.output)["total"] == 0
    unknown = runner.invoke(cli, ["rate", paper, "up", "--profile", "zed", "--config", config])
    assert unknown.exit_code == 2 and "no profile 'zed'" in unknown.output


def test_the_team_page_says_who_liked_a_paper_whoever_picked_it(
    client: TestClient, team: Settings
) -> None:
    import datetime as dt

    from arxiv_digest.team.page import render_team_page

    picks = {name: _ids(client.get(f"/p/{name}/").text) for name in ("alice", "bob", "carol")}
    # alice comes first in the config; a paper only the members after her picked
    paper = sorted((picks["bob"] | picks["carol"]) - picks["alice"])[0]
    with Store(team.store.url) as store:
        store.for_profile("alice").rate(paper, 1, "cli", dt.datetime.now(dt.UTC))
        page = render_team_page(team, store).decode()
    block = page.split(f'id="{paper}"', 1)[1].split("</article>", 1)[0]
    assert "Liked by alice" in block
