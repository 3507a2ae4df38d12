"""The web service over a real store: routes, caching headers, security, admin refresh."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest
import uvicorn
from lxml import etree
from pytest_httpserver import HTTPServer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from arxiv_digest.cli import app as cli_app
from arxiv_digest.config import Settings
from arxiv_digest.models import Paper, RankedPaper, RunReport
from arxiv_digest.publish.readme import format_score
from arxiv_digest.store import Store
from arxiv_digest.web import create_app
from arxiv_digest.web.schedule import daily_trigger
from tests.conftest import base_config, run_once, serve_feed

TOKEN = "admin-token-123"
# The service's clock in these tests: the day of the published digest, so that no arXiv
# announcement day is missing its digest (tests/test_calendar.py covers those).
DIGEST_DAY = dt.datetime(2026, 4, 27, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(published_site: Settings) -> Iterator[Store]:
    with Store(published_site.store.url) as opened:
        yield opened


@pytest.fixture
def client(published_site: Settings, store: Store) -> Iterator[TestClient]:
    app = create_app(published_site, store, admin_token="", clock=lambda: DIGEST_DAY)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def site_bytes(settings: Settings, path: str) -> bytes:
    return (Path(settings.output.site_dir) / path).read_bytes()


@pytest.mark.parametrize(
    ("route", "path"),
    [
        ("/", "index.html"),
        ("/rss", "rss.xml"),
        ("/rss/cs.AI", "rss/cs.AI.xml"),
        ("/rss/cs.LG.xml", "rss/cs.LG.xml"),
        ("/atom", "atom.xml"),
        ("/atom/cs.CL", "atom/cs.CL.xml"),
        ("/feed.json", "feed.json"),
        ("/feed/cs.AI.json", "feed/cs.AI.json"),
        ("/archive", "archive/index.html"),
        ("/archive/2026-04-27", "archive/2026-04-27.html"),
        ("/style.css", "style.css"),
    ],
)
def test_routes_serve_exactly_the_static_site(
    client: TestClient, published_site: Settings, route: str, path: str
) -> None:
    response = client.get(route, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == site_bytes(published_site, path)


def internal_links(page: bytes) -> list[str]:
    """Every link of an HTML page that stays on the site (stylesheets, icons, feeds too)."""
    document = lxml.html.fromstring(page)
    links = [str(el.get(a)) for el in document.iter() for a in ("href", "src") if el.get(a)]
    return [link for link in links if not urlsplit(link).scheme]


PAGES = ["/", "/index.html", "/archive", "/archive/", "/archive/index.html", "/archive/2026-04-27"]


@pytest.mark.parametrize("route", PAGES)
def test_every_link_of_a_served_page_answers(client: TestClient, route: str) -> None:
    page = client.get(route)
    assert page.status_code == 200
    links = internal_links(page.content)
    assert links
    for link in links:
        target = urljoin(f"http://testserver{route}", link)
        assert client.get(target).status_code == 200, f"{link} on {route} -> {target}"


def test_the_served_archive_links_every_digest_day(client: TestClient) -> None:
    for route in ("/archive", "/archive/"):
        days = [
            urljoin(f"http://testserver{route}", link)
            for link in internal_links(client.get(route).content)
            if link.endswith("2026-04-27.html")
        ]
        assert days == ["http://testserver/archive/2026-04-27.html"]
        assert "arXiv digest: 2026-04-27" in client.get(days[0]).text


def test_every_link_of_the_static_site_is_a_file_of_it(published_site: Settings) -> None:
    root = Path(published_site.output.site_dir)
    pages = sorted(root.rglob("*.html"))
    assert root / "archive" / "index.html" in pages
    for page in pages:
        for link in internal_links(page.read_bytes()):
            path, fragment = urlsplit(link).path, urlsplit(link).fragment
            target = (page.parent / path).resolve() if path else page.resolve()
            assert target.is_file() and target.is_relative_to(root.resolve()), f"{link} on {page}"
            if fragment and target.suffix == ".html":  # the place it points at is there
                ids: Any = lxml.html.fromstring(target.read_bytes()).xpath("//@id")
                assert fragment in ids, f"{link} on {page}"
    archive = internal_links((root / "archive" / "index.html").read_bytes())
    assert "../archive/2026-04-27.html" in archive


def test_feed_content_types_and_parse_back(client: TestClient) -> None:
    rss = client.get("/rss")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert client.get("/atom").headers["content-type"].startswith("application/atom+xml")
    assert client.get("/feed.json").headers["content-type"].startswith("application/feed+json")
    parsed = feedparser.parse(rss.content)
    assert parsed.entries and not parsed.bozo


def test_home_page_links_every_feed(client: TestClient) -> None:
    page = client.get("/").text
    for link in (
        "rss.xml",
        "atom.xml",
        "feed.json",
        "rss/cs.AI.xml",
        "rss/cs.CL.xml",
        "archive/index.html",
    ):
        assert f'href="{link}"' in page


def test_unknown_category_is_a_404_and_never_an_arxiv_fetch(
    client: TestClient, httpserver: HTTPServer
) -> None:
    before = len(httpserver.log)
    for route in ("/rss/cs.XX", "/rss/hep-th", "/atom/math.CO", "/feed/evil.json"):
        response = client.get(route)
        assert response.status_code == 404
        assert response.json() == {"error": "Not found"}
    assert len(httpserver.log) == before


def test_unknown_pages_are_404(client: TestClient) -> None:
    assert client.get("/archive/2020-01-01").status_code == 404
    assert client.get("/archive/not-a-date").status_code == 404
    assert client.get("/papers/9999.99999").status_code == 404
    assert client.get("/nope").status_code == 404


def digest_ranking(store: Store) -> list[RankedPaper]:
    (_, run_id, _), *_ = store.published_runs()
    return store.ranking(run_id)


def page_text(response: Any, css_class: str) -> list[str]:
    """The text of every element of that class on the page, as a reader sees it."""
    document = lxml.html.fromstring(response.content)
    found = document.xpath(f"//*[contains(concat(' ', @class, ' '), ' {css_class} ')]")
    assert isinstance(found, list)
    return [" ".join(text_of(el).split()) for el in found if isinstance(el, etree._Element)]


def text_of(element: etree._Element) -> str:
    return "".join(str(part) for part in element.itertext())


def test_a_digest_paper_has_its_own_page(
    client: TestClient, store: Store, published_site: Settings
) -> None:
    top = digest_ranking(store)[0]
    paper = top.paper
    response = client.get(f"/papers/{paper.arxiv_id}")
    assert response.status_code == 200
    document = lxml.html.fromstring(response.content)
    title = text_of(document.find(".//h1/a"))  # type: ignore[arg-type]
    assert " ".join(title.split()) == " ".join(paper.title.split())
    assert page_text(response, "authors") == [", ".join(paper.authors)]
    assert page_text(response, "abstract") == [" ".join(paper.abstract.split())]
    assert page_text(response, "categories") == ["".join(paper.categories)]
    links = [el.get("href") for el in document.iter("a")]
    assert f"https://arxiv.org/abs/{paper.versioned_id}" in links
    assert f"{published_site.arxiv.pdf_url}/{paper.versioned_id}" in links
    assert "AI summary (by test-model)" in response.text
    assert "<strong>Faster</strong>" in response.text and "<b>bold</b>" not in response.text
    rows = [[text_of(td) for td in row.iter("td")] for row in document.iter("tr")]
    assert rows[1:] == [["2026-04-27", "1", format_score(top.score), "v1", top.category]]
    assert "arXiv digest: 2026-04-27" not in response.text and "1 papers" not in response.text
    assert client.get(f"/papers/{paper.arxiv_id}v1").content == response.content


def test_a_version_that_is_not_stored_has_no_page(client: TestClient, store: Store) -> None:
    arxiv_id = digest_ranking(store)[0].paper.arxiv_id
    assert client.get(f"/papers/{arxiv_id}v1").status_code == 200
    assert client.get(f"/papers/{arxiv_id}v2").status_code == 404
    assert client.get(f"/papers/{arxiv_id}v0").status_code == 404  # one URL per page
    assert client.get(f"/papers/arXiv:{arxiv_id}").status_code == 404


def test_every_stored_paper_has_a_page_even_if_no_digest_listed_it(
    client: TestClient, store: Store
) -> None:
    listed = {r.paper.arxiv_id for r in digest_ranking(store)}
    stored = store.announced_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    unlisted = next(p for p in stored if p.arxiv_id not in listed)
    response = client.get(f"/papers/{unlisted.arxiv_id}")
    assert response.status_code == 200
    assert page_text(response, "abstract") == [" ".join(unlisted.abstract.split())]
    assert page_text(response, "empty") == ["Not listed in any published digest."]
    assert "AI summary" not in response.text


def test_a_revised_paper_shows_its_latest_version_and_keeps_the_old_one(
    published_site: Settings, store: Store, make_paper: Callable[..., Paper]
) -> None:
    first = digest_ranking(store)[0].paper
    store.upsert_papers([make_paper(arxiv_id=first.arxiv_id, version=2, title="Revised title")])
    client = TestClient(create_app(published_site, store))
    latest = client.get(f"/papers/{first.arxiv_id}")
    assert page_text(latest, "meta")[0].startswith(f"{first.arxiv_id}v2 ")
    assert "Revised title" in latest.text and "AI summary" not in latest.text
    assert "v1" in page_text(latest, "appearances")[0]  # the digest listed v1
    old = client.get(f"/papers/{first.arxiv_id}v1")
    assert "Revised title" not in old.text and "AI summary (by test-model)" in old.text
    assert client.get(f"/papers/{first.arxiv_id}v2").content == latest.content


def test_a_hostile_stored_paper_is_text_on_its_page(
    published_site: Settings, store: Store, make_paper: Callable[..., Paper]
) -> None:
    evil = make_paper(
        arxiv_id="2604.99999",
        title="<img src=x onerror=alert(1)>",
        authors=("<script>alert(2)</script>",),
        abstract="<iframe src=//evil>",
    )
    store.upsert_papers([evil])
    response = TestClient(create_app(published_site, store)).get("/papers/2604.99999")
    assert response.status_code == 200
    assert (
        "<img src=x" not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text
    )
    assert "<script" not in response.text and "<iframe" not in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "form-action 'self'" in csp  # the search form posts nowhere else


def test_every_link_of_a_paper_page_answers(
    published_site: Settings, store: Store, make_paper: Callable[..., Paper]
) -> None:
    store.upsert_papers([make_paper(arxiv_id="hep-th/9901001")])  # an old-style id
    client = TestClient(create_app(published_site, store))
    for route in (f"/papers/{digest_ranking(store)[0].paper.arxiv_id}", "/papers/hep-th/9901001"):
        page = client.get(route)
        assert page.status_code == 200
        for link in internal_links(page.content):
            target = urljoin(f"http://testserver{route}", link)
            assert client.get(target).status_code == 200, f"{link} on {route} -> {target}"


def test_etag_and_last_modified_give_304(client: TestClient) -> None:
    first = client.get("/rss")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"].startswith("public")
    again = client.get("/rss", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/rss", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/rss", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since_with_an_unknown_zone_is_read_as_utc(client: TestClient) -> None:
    modified = client.get("/rss").headers["last-modified"]
    assert modified.endswith(" GMT")
    same_time = modified.removesuffix(" GMT") + " -0000"  # RFC 5322 "zone not known"
    assert client.get("/rss", headers={"If-Modified-Since": same_time}).status_code == 304
    when = email.utils.parsedate_to_datetime(modified) - dt.timedelta(days=1)
    earlier = when.strftime("%a, %d %b %Y %H:%M:%S -0000")
    assert client.get("/rss", headers={"If-Modified-Since": earlier}).status_code == 200


def test_gzip_when_asked(client: TestClient, published_site: Settings) -> None:
    response = client.get("/rss", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == site_bytes(published_site, "rss.xml")  # httpx decodes it
    identity = client.get("/rss", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in identity.headers
    assert int(response.headers["content-length"]) < int(identity.headers["content-length"]) / 2


def test_security_headers_everywhere(client: TestClient) -> None:
    for route in ("/", "/rss", "/health", "/nope"):
        headers = client.get(route).headers
        csp = headers["content-security-policy"]
        assert (
            "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        )
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["last_run"]["status"] == "ok"
    dt.datetime.fromisoformat(body["last_run"]["started_at"])
    assert body["papers_stored"] == 9
    assert body["latest_digest"] == "2026-04-27"
    assert "rss.xml" in body["feeds"] and "rss/cs.AI.xml" in body["feeds"]


def test_health_reports_a_run_in_progress_beside_the_last_finished_one(
    client: TestClient, store: Store
) -> None:
    started = dt.datetime(2026, 4, 28, 12, 0, tzinfo=dt.UTC)
    store.start_run(started)
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["last_run"]["status"] == "ok"
    assert dt.datetime.fromisoformat(body["running"]["started_at"]) == started


@pytest.mark.parametrize("outcome", ["failed", "interrupted"])
def test_health_is_degraded_when_the_last_finished_run_did_not_succeed(
    client: TestClient, store: Store, outcome: str
) -> None:
    run_id = store.start_run(dt.datetime(2026, 4, 28, 12, 0, tzinfo=dt.UTC))
    store.finish_run(
        run_id, RunReport(status=outcome), dt.datetime(2026, 4, 28, 12, 5, tzinfo=dt.UTC)
    )
    store.start_run(dt.datetime(2026, 4, 29, 12, 0, tzinfo=dt.UTC))  # the next one, not done
    response = client.get("/health")
    assert response.status_code == 200  # still serving the last digest: no restart wanted
    body = response.json()
    assert body["status"] == "degraded"
    assert body["last_run"]["status"] == outcome
    assert body["running"] is not None
    assert body["latest_digest"] == "2026-04-27"


def test_health_after_an_empty_day_is_ok(client: TestClient, store: Store) -> None:
    run_id = store.start_run(dt.datetime(2026, 4, 28, 12, 0, tzinfo=dt.UTC))
    store.finish_run(run_id, RunReport(status="failed"), dt.datetime(2026, 4, 28, tzinfo=dt.UTC))
    run_id = store.start_run(dt.datetime(2026, 4, 29, 12, 0, tzinfo=dt.UTC))
    store.finish_run(run_id, RunReport(status="empty"), dt.datetime(2026, 4, 29, tzinfo=dt.UTC))
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["last_run"]["status"] == "empty"
    assert body["running"] is None


def test_config_shows_no_secrets(
    published_site: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://user:hunter2@db.internal/digest"
    settings = published_site.model_copy(
        update={"store": published_site.store.model_copy(update={"url": url})}
    )
    with Store(published_site.store.url) as store:
        app = create_app(settings, store, admin_token=TOKEN)
        text = TestClient(app).get("/config").text
    for secret in ("hunter2", "db.internal", "sk-test", TOKEN, str(tmp_path)):
        assert secret not in text
    body = TestClient(app).get("/config").json()
    assert body["categories"] == ["cs.AI", "cs.CL", "cs.LG"]
    assert body["ai_summary"]["api_key_set"] is True
    assert body["store"] == {"backend": "postgresql+psycopg"}


def test_config_names_the_delivery_channels_but_no_address_or_webhook(
    published_site: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", hook)
    monkeypatch.setenv("SMTP_PASSWORD", "mail-hunter2")
    delivery = {
        "email": {"smtp_host": "smtp.lab.example.org", "username": "reader@lab.example.org",
                  "from": "Digest <digest@lab.example.org>", "to": ["boss@lab.example.org"]},
        "chat": [{"type": "slack"}, {"type": "telegram", "chat_id": "-100987654"}],
    }  # fmt: skip
    settings = published_site.model_validate({**published_site.model_dump(), "delivery": delivery})
    with Store(published_site.store.url) as store:
        text = TestClient(create_app(settings, store)).get("/config").text
    for private in (hook, "XXXXSECRET", "mail-hunter2", "lab.example.org", "-100987654"):
        assert private not in text
    channels = TestClient(create_app(settings, store)).get("/config").json()["delivery"]
    assert channels["channels"] == [
        {"channel": "email", "type": "email", "secrets_set": True},
        {"channel": "slack", "type": "slack", "secrets_set": True},
        {"channel": "telegram", "type": "telegram", "secrets_set": False},
    ]


URL_SECRETS = {
    "ai_summary": {"base_url": "http://u:aipass@llm.example.org/v1"},
    "arxiv": {"rss_url": "http://u:arxivpw@proxy.example.org/rss?key=ARXIVKEY&format=x"},
    "site_url": "https://me:sitepw@me.example.org/digest?token=SITETOKEN",
    "repo_url": "https://ghp_REPOTOKEN@github.com/me/digest#ghp_FRAGMENT",
    "delivery": {"chat": [{"type": "telegram", "chat_id": "1",
                           "api_url": "https://tg:tgpass@tg.example.org"}]},
}  # fmt: skip


def test_config_masks_credentials_in_every_url_and_shows_library_paths_relative(
    published_site: Settings, store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "conf"
    zotero = {"library_id": "1", "base_url": "https://z:zpass@zotero.example.org"}
    relevance = {
        "library": [str(folder / "lib" / "mine.bib"), str(tmp_path / "other.bib"),
                    {"zotero": zotero}],
        "model_path": str(folder / "models" / "bge"),
    }  # fmt: skip
    settings = published_site.model_validate(
        {**published_site.model_dump(), **URL_SECRETS, "relevance": relevance}
    )

    response = TestClient(create_app(settings, store, config_dir=folder)).get("/config")

    secrets = ["aipass", "arxivpw", "ARXIVKEY", "sitepw", "SITETOKEN", "ghp_", "zpass", "tgpass"]
    for secret in [*secrets, str(tmp_path)]:
        assert secret not in response.text
    body = response.json()
    assert body["ai_summary"]["base_url"] == "http://***@llm.example.org/v1"
    assert body["arxiv"]["rss_url"] == "http://***@proxy.example.org/rss?key=***&format=***"
    assert body["site_url"] == "https://***@me.example.org/digest?token=***"
    library = body["relevance"]["library"]
    assert [source["path"] for source in library] == ["lib/mine.bib", "other.bib", None]
    assert library[2]["zotero"]["base_url"] == "https://***@zotero.example.org"
    assert body["relevance"]["model_path"] == "models/bge"


def test_serve_shows_library_paths_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "mine.bib").write_text("@article{a, title={Agents}}\n", encoding="utf-8")
    config = folder / "config.json"
    config.write_text(json.dumps(base_config(relevance={"library": ["lib/mine.bib"]})))
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))

    result = CliRunner().invoke(cli_app, ["serve", "--config", str(config)])

    assert result.exit_code == 0, result.output
    [source] = TestClient(served[0]).get("/config").json()["relevance"]["library"]
    assert source["path"] == "lib/mine.bib"


def test_update_cache_is_post_only_and_needs_the_token(
    published_site: Settings, store: Store
) -> None:
    calls: list[int] = []
    done = threading.Event()

    def refresh() -> None:
        calls.append(1)
        done.set()

    disabled = TestClient(create_app(published_site, store, admin_token=""))
    assert disabled.get("/update-cache").status_code == 405
    assert disabled.post("/update-cache").status_code == 403

    enabled = TestClient(create_app(published_site, store, admin_token=TOKEN, refresh=refresh))
    assert enabled.get("/update-cache").status_code == 405
    assert enabled.post("/update-cache").status_code == 401
    wrong = enabled.post("/update-cache", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    ok = enabled.post("/update-cache", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 202
    assert done.wait(10) and calls == [1]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_update_cache_reads_the_scheme_case_insensitively(
    published_site: Settings, store: Store, scheme: str
) -> None:
    """RFC 7235: the auth scheme is case-insensitive; the token itself is not."""
    client = TestClient(create_app(published_site, store, admin_token=TOKEN))

    ok = client.post("/update-cache", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert ok.status_code == 200 and ok.json() == {"status": "reloaded from the store"}
    for wrong in (f"{scheme} {TOKEN.upper()}", f"Basic {TOKEN}", TOKEN, f"{scheme}{TOKEN}"):
        assert client.post("/update-cache", headers={"Authorization": wrong}).status_code == 401


def test_errors_are_short_and_generic(
    published_site: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode() -> int:
        raise RuntimeError("secret internal detail at /srv/db")

    monkeypatch.setattr(store, "count_papers", explode)
    response = TestClient(create_app(published_site, store), raise_server_exceptions=False).get(
        "/health"
    )
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_a_new_run_is_picked_up_without_restart(
    published_site: Settings, store: Store, httpserver: HTTPServer
) -> None:
    app = create_app(published_site, store, check_every=0)
    client = TestClient(app)
    before = client.get("/health").json()["last_run"]["started_at"]
    etag = client.get("/rss").headers["etag"]
    run_once(published_site)  # same content: same feed, same ETag
    assert client.get("/health").json()["last_run"]["started_at"] != before
    assert client.get("/rss").headers["etag"] == etag


def test_the_daily_trigger_uses_the_configured_zone(published_site: Settings) -> None:
    schedule = published_site.schedule.model_copy(
        update={"time": "12:00", "timezone": "Asia/Shanghai"}
    )
    trigger = daily_trigger(schedule)
    now = dt.datetime(2026, 4, 27, 5, 0, tzinfo=dt.UTC)  # 13:00 in Shanghai
    fire = trigger.get_next_fire_time(None, now)
    assert fire is not None
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 4, 28, 4, 0, tzinfo=dt.UTC)


@pytest.mark.postgres
def test_the_service_over_postgresql(
    pg_url: str, make_settings: Any, httpserver: HTTPServer, combined_feed: bytes
) -> None:
    serve_feed(httpserver, "cs.AI+cs.CL+cs.LG", combined_feed)
    settings = make_settings(store={"url": pg_url})
    run_once(settings)
    with Store(pg_url) as pg_store:
        client = TestClient(create_app(settings, pg_store))
        rss = client.get("/rss", headers={"Accept-Encoding": "identity"})
        assert rss.status_code == 200
        assert rss.content == (Path(settings.output.site_dir) / "rss.xml").read_bytes()
        assert client.get("/health").json()["papers_stored"] == 9
        assert client.get("/archive/2026-04-27").status_code == 200


def test_the_scheduler_runs_the_job_daily_and_survives_its_failure(
    published_site: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from arxiv_digest.web.schedule import start_scheduler

    ran = threading.Event()

    def failing_job() -> None:
        ran.set()
        raise RuntimeError("arXiv is down")

    schedule = published_site.schedule.model_copy(
        update={"time": "12:00", "timezone": "Asia/Shanghai"}
    )
    scheduler = start_scheduler(schedule, failing_job)
    try:
        job = scheduler.get_job("daily-digest")
        assert job is not None and job.next_run_time is not None
        assert job.next_run_time.utcoffset() == dt.timedelta(hours=8)
        assert (job.next_run_time.hour, job.next_run_time.minute) == (12, 0)
        job.modify(next_run_time=dt.datetime.now(dt.UTC))  # due now
        scheduler.wakeup()
        assert ran.wait(10)
    finally:
        scheduler.shutdown(wait=True)
    assert "scheduled daily run failed" in caplog.text
    assert scheduler.running is False
