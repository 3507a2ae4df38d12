"""Rating links as a reader meets them: beside each paper in the README, site and feeds,
and through ``serve``, which records a validly signed one and refuses everything else."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from starlette.testclient import TestClient

from arxiv_digest import ratings
from arxiv_digest.config import Settings
from arxiv_digest.models import Digest
from arxiv_digest.publish.content import load_content
from arxiv_digest.publish.readme import render_readme
from arxiv_digest.publish.site import render_site
from arxiv_digest.store import Store
from arxiv_digest.web import create_app
from tests.conftest import run_once

SECRET = "rating-secret-for-the-tests-7f3a9c"
SITE = "https://me.example.org/digest"
RATE_LINK = re.compile(r"https://me\.example\.org/digest/rate/([^/]+)/(up|down)\?sig=([\w-]+)")


@pytest.fixture
def store(published_site: Settings) -> Iterator[Store]:
    with Store(published_site.store.url) as opened:
        yield opened


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ratings.SECRET_ENV, SECRET)
    return SECRET


@pytest.fixture
def client(published_site: Settings, store: Store, secret: str) -> Iterator[TestClient]:
    app = create_app(published_site, store, admin_token="")
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def first_paper(settings: Settings, store: Store) -> tuple[str, str]:
    content = load_content(store, settings)
    assert content.latest is not None
    paper = content.latest.entries[0].ranked.paper
    return paper.arxiv_id, paper.title


def link(arxiv_id: str, action: str) -> str:
    """The path ``serve`` answers for a signed link (``site_url`` is where it runs)."""
    return f"/rate/{arxiv_id}/{action}?sig={ratings.sign(arxiv_id, action, SECRET.encode())}"


def hrefs(content: bytes, text: str | None = None) -> list[str]:
    """The links of a page, in order; only those whose text is ``text`` if given."""
    anchors = lxml.html.fromstring(content).iter("a")
    return [
        str(a.get("href"))
        for a in anchors
        if text is None or "".join(str(t) for t in a.itertext()) == text
    ]


def readme_of(settings: Settings, store: Store) -> str:
    latest = load_content(store, settings).latest
    assert latest is not None
    return render_readme(Digest(latest.updated_at, latest.entries, None), settings)


# -- through the service --------------------------------------------------------------------


def test_a_signed_link_records_the_rating_and_offers_an_undo_that_works(
    client: TestClient, published_site: Settings, store: Store
) -> None:
    arxiv_id, title = first_paper(published_site, store)
    response = client.get(link(arxiv_id, "up"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in response.headers["content-security-policy"]
    page = lxml.html.fromstring(response.content)
    assert page.findtext(".//h1") == f"Recorded 👍 for {title}"
    assert page.xpath("//script") == [] and page.xpath("//@style") == []
    rated = store.rating(arxiv_id)
    assert rated is not None and (rated.value, rated.source) == (1, "link")

    (undo,) = hrefs(response.content, "Undo")
    undone = client.get(f"/rate/{arxiv_id}/{undo}")  # relative to the page's own URL
    assert undone.status_code == 200
    assert "Rating cleared" in undone.text
    assert store.rating(arxiv_id) is None

    again = hrefs(undone.content, "👎")
    assert client.get(f"/rate/{arxiv_id}/{again[0]}").status_code == 200
    down = store.rating(arxiv_id)
    assert down is not None and down.value == -1


def test_the_links_on_the_served_site_work(
    client: TestClient, published_site: Settings, store: Store
) -> None:
    found = [h for h in hrefs(client.get("/").content) if RATE_LINK.fullmatch(h)]
    assert found, "no rating link on the served digest page"
    arxiv_id, action, _ = RATE_LINK.findall(found[1])[0]
    path = urlsplit(found[1])
    answer = client.get(f"{path.path.removeprefix('/digest')}?{path.query}")
    assert answer.status_code == 200
    rated = store.rating(arxiv_id)
    assert rated is not None and rated.value == (1 if action == "up" else -1)


def test_opening_the_same_link_twice_is_the_same_state(
    client: TestClient, published_site: Settings, store: Store
) -> None:
    arxiv_id, _ = first_paper(published_site, store)
    assert client.get(link(arxiv_id, "down")).status_code == 200
    first = store.ratings()
    assert client.get(link(arxiv_id, "down")).status_code == 200
    assert store.ratings() == first and len(first) == 1


def test_a_link_checker_asking_head_records_nothing(
    client: TestClient, published_site: Settings, store: Store
) -> None:
    arxiv_id, _ = first_paper(published_site, store)
    assert client.head(link(arxiv_id, "up")).status_code == 200
    assert client.head(f"/rate/{arxiv_id}/up?sig=forged").status_code == 403
    assert store.ratings() == []


def refused_links(arxiv_id: str, other_id: str) -> dict[str, str]:
    up = link(arxiv_id, "up")
    sig = up.rsplit("=", 1)[1]
    altered = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    return {
        "forged": f"/rate/{arxiv_id}/up?sig=AAAAAAAAAAAAAAAAAAAAAA",
        "altered": f"/rate/{arxiv_id}/up?sig={altered}",
        "missing": f"/rate/{arxiv_id}/up",
        "empty": f"/rate/{arxiv_id}/up?sig=",
        "another paper's": f"/rate/{other_id}/up?sig={sig}",
        "the other action's": f"/rate/{arxiv_id}/down?sig={sig}",
        "undo with an up signature": f"/rate/{arxiv_id}/clear?sig={sig}",
        "another secret's": f"/rate/{arxiv_id}/up?sig="
        + ratings.sign(arxiv_id, "up", b"not-the-service-secret-at-all"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "forged",
        "altered",
        "missing",
        "empty",
        "another paper's",
        "the other action's",
        "undo with an up signature",
        "another secret's",
    ],
)
def test_a_bad_signature_is_403_and_records_nothing(
    client: TestClient, published_site: Settings, store: Store, kind: str
) -> None:
    arxiv_id, _ = first_paper(published_site, store)
    store.rate(arxiv_id, -1, "cli", load_content(store, published_site).built_at)
    before = store.ratings()
    response = client.get(refused_links(arxiv_id, "2604.99999")[kind])
    assert response.status_code == 403
    assert response.headers["cache-control"] == "no-store"
    assert "Nothing was recorded" in response.text
    assert SECRET not in response.text
    assert store.ratings() == before
    assert store.rating("2604.99999") is None


@pytest.mark.parametrize(
    "path",
    [
        "/rate/2604.00001v2/up",  # links are versionless
        "/rate/2604.00001/sideways",
        "/rate/not-an-id/up",
        "/rate/2604.00001",
        "/rate/",
    ],
)
def test_what_is_not_a_rating_link_is_404(client: TestClient, store: Store, path: str) -> None:
    """Even with the valid signature of 2604.00001/up: only the exact link form is served."""
    valid = link("2604.00001", "up").rsplit("?", 1)[1]
    assert client.get(f"{path}?{valid}").status_code == 404
    assert store.ratings() == []


@pytest.mark.parametrize(
    "arxiv_id",
    ["２４１１.１７７１２", "0000.00000", "2499.99999", "hep-th/9900001", "math/07O1001"],
)
def test_a_signed_link_for_an_id_no_paper_can_have_is_404_and_records_nothing(
    client: TestClient, store: Store, arxiv_id: str
) -> None:
    """Signed with the real secret, so only the id itself is wrong: ASCII digits, month 01-12."""
    for action in ("up", "clear"):
        assert client.get(link(arxiv_id, action)).status_code == 404
        assert client.head(link(arxiv_id, action)).status_code == 404
    assert store.ratings() == []


def test_a_paper_not_in_the_store_can_be_rated_from_a_link_old_style_ids_too(
    client: TestClient, store: Store
) -> None:
    response = client.get(link("hep-th/9901001", "down"))
    assert response.status_code == 200
    assert "Recorded 👎 for hep-th/9901001" in response.text
    assert 'href="../../../index.html"' in response.text  # back to the site from /rate/hep-th/...
    rated = store.rating("hep-th/9901001")
    assert rated is not None and rated.value == -1


def test_without_the_secret_the_route_is_404_and_records_nothing(
    published_site: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ratings.SECRET_ENV, raising=False)
    arxiv_id, _ = first_paper(published_site, store)
    with TestClient(create_app(published_site, store, admin_token="")) as plain:
        assert plain.get(link(arxiv_id, "up")).status_code == 404
        assert RATE_LINK.search(plain.get("/").text) is None
    assert store.ratings() == []


# -- in the published outputs ---------------------------------------------------------------


def feed_links(body: bytes) -> list[list[tuple[str, str]]]:
    """Per item, the rating links of its HTML content."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    items = []
    for entry in parsed.entries:
        content = entry.content[0].value if "content" in entry else entry.description
        items.append([(i, a) for i, a, _ in RATE_LINK.findall(content)])
    return items


def test_links_are_beside_every_paper_in_the_readme_site_and_feeds(
    published_site: Settings, store: Store, secret: str
) -> None:
    run_once(published_site)  # the daily run, now with the secret in its environment
    content = load_content(store, published_site)
    assert content.latest is not None
    ids = [e.ranked.paper.arxiv_id for e in content.latest.entries]

    readme = Path(published_site.output.readme).read_text(encoding="utf-8")
    rate_lines = [line for line in readme.splitlines() if line.startswith("**Rate**: ")]
    assert len(rate_lines) == len(ids)
    assert [RATE_LINK.findall(line)[0][0] for line in rate_lines] == ids
    assert re.search(r"\*\*Matched\*\*: .*  \n\*\*Rate\*\*: \[👍\]\(https://", readme)

    site = Path(published_site.output.site_dir)
    page = (site / "index.html").read_text(encoding="utf-8")
    on_page = [(i, a) for i, a, _ in RATE_LINK.findall(page)]
    assert on_page == [(i, a) for i in ids for a in ("up", "down")]

    rss = feed_links((site / "rss.xml").read_bytes())
    assert rss and all(len(item) == 2 for item in rss)
    assert feed_links((site / "atom.xml").read_bytes()) == rss
    document = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    assert [
        [(i, a) for i, a, _ in RATE_LINK.findall(item["content_html"])]
        for item in document["items"]
    ] == rss

    for path in site.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in readme


def test_without_the_secret_or_the_site_url_the_outputs_are_as_before(
    published_site: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ratings.SECRET_ENV, raising=False)
    content = load_content(store, published_site)
    plain_site = render_site(content, published_site)
    plain_readme = readme_of(published_site, store)
    assert "/rate/" not in plain_readme
    assert all(b"/rate/" not in body for body in plain_site.values())

    monkeypatch.setenv(ratings.SECRET_ENV, SECRET)
    no_site_url = published_site.model_copy(update={"site_url": None})
    assert render_site(content, no_site_url) == render_site(
        content, no_site_url.model_copy()
    )  # deterministic
    assert all(b"/rate/" not in body for body in render_site(content, no_site_url).values())
    assert "/rate/" not in readme_of(no_site_url, store)

    with_links = readme_of(published_site, store)
    assert "**Rate**" in with_links
    without_lines = "".join(
        line for line in with_links.splitlines(keepends=True) if not line.startswith("**Rate**")
    )
    assert without_lines == plain_readme


def test_the_secret_appears_in_no_response_or_log(
    client: TestClient, published_site: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    arxiv_id, _ = first_paper(published_site, store)
    paths = [
        "/", "/rss", "/atom", "/feed.json", "/archive", "/config", "/health",
        f"/papers/{arxiv_id}", "/no-such-page", "/rate/2604.00001/sideways",
        link(arxiv_id, "up"), f"/rate/{arxiv_id}/up?sig=forged", link(arxiv_id, "clear"),
    ]  # fmt: skip
    for path in paths:
        response = client.get(path)
        assert SECRET not in response.text, path
        assert all(SECRET not in value for value in response.headers.values()), path
    assert "/rate/" in client.get(f"/papers/{arxiv_id}").text  # the paper's own page has them
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(client.get("/config").json())


def test_a_read_only_store_says_the_rating_was_not_recorded(
    published_site: Settings, store: Store, secret: str
) -> None:
    arxiv_id, _ = first_paper(published_site, store)
    database = Path(published_site.store.url.removeprefix("sqlite:///"))
    with Store(f"sqlite:///file:{database}?mode=ro&uri=true") as read_only:
        app = create_app(published_site, read_only, admin_token="")
        with TestClient(app, raise_server_exceptions=False) as on_vercel:
            response = on_vercel.get(link(arxiv_id, "up"))
    assert response.status_code == 503
    assert "could not be recorded" in response.text and SECRET not in response.text
    assert store.ratings() == []
