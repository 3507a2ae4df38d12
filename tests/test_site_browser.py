"""Reading the digest in real headless Chromium: every page type, on a phone and a desktop.

The static site is served as written (by a small local server that adds the service's
security headers, so the strict CSP applies); paper pages come from ``arxiv-digest serve``.
Screenshots go to test-artifacts/. Accessibility is checked with axe-core (tests/axe.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.models import Paper, RankedPaper, RunReport, Summary
from arxiv_digest.publish.content import load_content
from arxiv_digest.publish.site import render_site, write_site
from arxiv_digest.store import Store
from arxiv_digest.web.app import SECURITY_HEADERS
from tests.axe import assert_accessible
from tests.conftest import REPO, base_config, watch_problems
from tests.test_web_process import Server, write_settings

ARTIFACTS = REPO / "test-artifacts"
DAYS = (dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 4, 2))  # two months
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
AUTHORS = tuple(f"Author{n} Surname{n}" for n in range(1, 13))


def paper(n: int, day: dt.date, **overrides: Any) -> Paper:
    values: dict[str, Any] = {
        "arxiv_id": f"2604.{n:05d}",
        "version": 1,
        "title": f"Paper {n} on LLM reasoning",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "abstract": f"We study LLM agents (paper {n}). Reasoning gains $10\\%$ on a benchmark.",
        "primary_category": "cs.AI",
        "categories": ("cs.AI",),
        "announce_type": "new",
        "announced": day,
    }
    return Paper(**{**values, **overrides})


def day_papers(day: dt.date, offset: int) -> list[RankedPaper]:
    lead = paper(
        offset,
        day,
        title="Speculative Decoding for LLMs in $\\mathcal{O}(\\log n)$ steps",
        authors=AUTHORS,
        abstract=(
            "Speculative decoding speeds up LLM inference: a draft model proposes $k$ tokens "
            "and the target verifies them in $\\mathcal{O}(k^2)$ time, with "
            "$\\sum_{i=1}^{n} p_i \\leq 1$. Schrödinger-style sampling reaches 46.62\\% "
            "acceptance, and a \\RR-valued bound $\\RR^d$ stays as written."
        ),
    )
    other = paper(offset + 1, day, primary_category="cs.CL", categories=("cs.CL", "cs.AI"))
    third = paper(offset + 2, day, title=f"A benchmark of day {day.isoformat()}")
    return [
        RankedPaper(lead, 9.0, ("LLM", "Speculative Decoding"), "cs.AI"),
        RankedPaper(other, 4.0, ("LLM", "reasoning"), "cs.CL"),
        RankedPaper(third, 2.0, ("benchmark",), "cs.AI"),
    ]


def fill_store(settings: Settings) -> None:
    when = dt.datetime(2026, 4, 2, 12, tzinfo=dt.UTC)
    with Store(settings.store.url) as store:
        for n, day in enumerate(DAYS):
            ranked = day_papers(day, 10 * n + 1)
            store.upsert_papers([r.paper for r in ranked])
            started = dt.datetime.combine(day, dt.time(12), dt.UTC)
            run_id = store.start_run(started)
            store.save_ranking(run_id, ranked)
            text = "## Results\n\n- **Faster** by $2\\times$, with $O(n^2)$ memory"
            summary = Summary(ranked[0].paper.arxiv_id, 1, "test-model", text)
            store.save_summary(summary, "hash", when)
            report = RunReport(status="ok", digest_date=day)
            store.finish_run(run_id, report, started + dt.timedelta(minutes=1), f"fp{n}")


class StaticHost(ThreadingHTTPServer):
    """The written site over HTTP on a free port, with the service's security headers."""

    def __init__(self, root: Path) -> None:
        class Handler(SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                for name, value in SECURITY_HEADERS:
                    self.send_header(name.decode(), value.decode())
                super().end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def reading_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    """Three digests (two months) with math, matches, a long author list and summaries,
    written as the static site and served by a local host; yields (settings, its URL)."""
    folder = tmp_path_factory.mktemp("reading")
    config = base_config(categories=["cs.AI", "cs.CL"], keywords=["LLM", "reasoning",
                         "benchmark", "Speculative Decoding"])  # fmt: skip
    settings = with_paths_resolved(parse_settings(config), folder)
    fill_store(settings)
    with Store(settings.store.url) as store:
        write_site(render_site(load_content(store, settings), settings), settings.output.site_dir)
    host = StaticHost(settings.output.site_dir)
    yield settings, host.url
    host.stop()


@pytest.fixture(scope="module")
def served(
    reading_site: tuple[Settings, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    settings, _ = reading_site
    server = Server(write_settings(settings, tmp_path_factory.mktemp("serve") / "config.json"))
    yield server.url
    server.stop()


STATIC_PAGES = {
    "digest": "/index.html",
    "expanded-digest": "/index-expanded.html",
    "archive-index": "/archive/index.html",
    "archive-day": "/archive/2026-04-01.html",
    "category": "/category/cs.CL.html",
}


def open_page(browser: Any, url: str, viewport: dict[str, int], scheme: str = "light") -> Any:
    """A page at ``url`` whose console messages, script errors, failed requests and dialogs
    are collected in ``page.problems``."""
    page = browser.new_page(viewport=viewport, color_scheme=scheme)
    problems: list[str] = []
    watch_problems(page, problems)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.problems = problems
    return page


def check_page(page: Any, name: str, device: str) -> None:
    """What every page must be: no overflow on a phone, nothing in the console, accessible."""
    if device == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a phone"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}-{device}.png"), full_page=True)
    assert_accessible(page, f"{name} ({device})")
    assert page.problems == []


Device = tuple[str, dict[str, int], str]
DEVICES: list[Device] = [("phone", PHONE, "light"), ("desktop", DESKTOP, "dark")]


DEVICE_IDS = ["phone", "desktop"]


@pytest.mark.parametrize("device", DEVICES, ids=DEVICE_IDS)
@pytest.mark.parametrize("name", list(STATIC_PAGES))
def test_each_page_of_the_site_reads_well_on_a_phone_and_a_desktop(
    browser: Any, reading_site: tuple[Settings, str], name: str, device: Device
) -> None:
    label, viewport, scheme = device
    page = open_page(browser, reading_site[1] + STATIC_PAGES[name], viewport, scheme)
    assert page.locator("script").count() == 0
    check_page(page, name, label)


@pytest.mark.parametrize("device", DEVICES, ids=DEVICE_IDS)
def test_a_served_paper_page_reads_well_with_its_highlights_and_math(
    browser: Any, served: str, device: Device
) -> None:
    label, viewport, scheme = device
    page = open_page(browser, f"{served}/papers/2604.00021", viewport, scheme)
    assert shown(page.locator("h1 mark").first) and shown(page.locator("h1 math").first)
    assert shown(page.locator("p.abstract mark", has_text="Speculative decoding"))
    check_page(page, "paper", label)


def shown(locator: Any) -> bool:
    """Visible, with a size: a rendered element, not an empty or collapsed one."""
    box = locator.bounding_box()
    return bool(locator.is_visible() and box and box["width"] > 0 and box["height"] > 0)


def test_matched_keywords_are_marked_and_math_is_rendered(
    browser: Any, reading_site: tuple[Settings, str]
) -> None:
    page = open_page(browser, reading_site[1] + "/index.html", PHONE)
    lead = page.locator("article.paper").first
    assert lead.locator("h2 mark").all_inner_texts() == ["Speculative Decoding", "LLMs"]
    assert lead.locator(".matched .term").all_inner_texts() == ["LLM", "Speculative Decoding"]
    assert shown(lead.locator("h2 math"))
    lead.locator("details.abstract > summary").click()
    abstract = lead.locator("details.abstract p")
    assert abstract.locator("mark").all_inner_texts() == [
        "Speculative decoding", "LLM"]  # fmt: skip
    formulas = abstract.locator("math")
    assert formulas.count() == 3 and all(shown(formulas.nth(i)) for i in range(3))
    assert "46.62% acceptance" in abstract.inner_text()
    assert shown(abstract.locator(".tex", has_text="$\\RR^d$"))  # not converted: TeX as text
    assert page.problems == []


def test_folded_parts_open_on_click_and_expand_all_opens_every_one(
    browser: Any, reading_site: tuple[Settings, str]
) -> None:
    page = open_page(browser, reading_site[1] + "/index.html", PHONE)
    lead = page.locator("article.paper").first
    authors = lead.locator("details.authors")
    assert authors.locator("summary").inner_text() == (
        "Author1 Surname1, Author2 Surname2, Author3 Surname3 et al. (12 authors)"
    )
    assert not lead.get_by_text("Author12 Surname12", exact=False).is_visible()
    authors.locator("summary").click()
    assert authors.get_attribute("open") is not None
    assert authors.locator("p").inner_text().endswith("Author12 Surname12")
    summary = lead.locator("details.summary")
    assert not summary.locator(".summary-body strong").is_visible()
    summary.locator("summary").click()
    assert summary.locator(".summary-body strong").is_visible()
    assert shown(summary.locator(".summary-body math").first)

    page.get_by_role("link", name="Expand all").click()
    page.wait_for_load_state()
    assert page.url.endswith("/index-expanded.html")
    assert page.locator("details").count() == 5  # the authors, 3 abstracts, a summary
    assert page.locator("details:not([open])").count() == 0
    assert page.locator("article.paper details.abstract p").first.is_visible()
    page.get_by_role("link", name="Fold all").click()
    page.wait_for_load_state()
    assert page.url.endswith("/index.html")
    assert page.locator("details[open]").count() == 0
    assert page.problems == []


def test_day_pages_lead_to_the_days_around_them_and_to_each_category(
    browser: Any, reading_site: tuple[Settings, str]
) -> None:
    page = open_page(browser, reading_site[1] + "/index.html", DESKTOP)
    page.locator("nav.pager a[rel=prev]").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/archive/2026-04-01.html")
    page.locator("nav.pager a[rel=prev]").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().endswith("2026-03-31")
    assert page.locator("nav.pager a[rel=prev]").count() == 0  # the oldest day
    page.locator("nav.filter a", has_text="cs.CL").click()
    page.wait_for_load_state()
    assert page.url.endswith("/category/cs.CL.html")
    assert page.locator("h1").inner_text() == "cs.CL"
    days = page.locator("section.day h2 a").all_inner_texts()
    assert days == ["2026-04-02", "2026-04-01", "2026-03-31"]
    titles = page.locator("article.paper h3").all_inner_texts()
    assert len(titles) == 3 and all("LLM reasoning" in t for t in titles)  # the cs.CL papers
    feeds = page.locator("p.stats a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert feeds == ["../rss/cs.CL.xml", "../atom/cs.CL.xml", "../feed/cs.CL.json"]
    assert page.problems == []


def test_the_archive_has_every_month_and_a_trends_chart_with_its_numbers(
    browser: Any, reading_site: tuple[Settings, str]
) -> None:
    page = open_page(browser, reading_site[1] + "/archive/index.html", PHONE)
    assert page.locator("nav.months a").all_inner_texts() == ["April 2026", "March 2026"]
    chart = page.locator("svg.trends-chart")
    assert shown(chart) and chart.get_attribute("role") == "img"
    assert page.locator("svg.trends-chart rect.trend-bar").count() == 12  # 4 terms x 3 days
    page.locator("details.trend-table > summary").click()
    rows = page.locator("details.trend-table tbody tr").all_inner_texts()
    totals = [r.split("\t")[:2] for r in rows]
    assert totals == [["LLM", "6"], ["benchmark", "3"], ["reasoning", "3"],
                      ["Speculative Decoding", "3"]]  # fmt: skip
    page.locator("nav.months a", has_text="March 2026").click()
    assert page.url.endswith("#m-2026-03")
    page.locator("#m-2026-03 ~ ul.archive a", has_text="2026-03-31").click()
    page.wait_for_load_state()
    assert page.url.endswith("/archive/2026-03-31.html")
    assert page.problems == []


def test_printing_a_folded_page_shows_every_abstract_and_no_controls(
    browser: Any, reading_site: tuple[Settings, str]
) -> None:
    page = open_page(browser, reading_site[1] + "/index.html", DESKTOP)
    page.emulate_media(media="print")
    assert page.locator("article.paper details.abstract p").first.is_visible()
    assert not page.locator(".toolbar").is_visible()
    assert not page.locator("header.site nav").is_visible()
    page.pdf(path=str(ARTIFACTS / "site-digest-print.pdf"))
