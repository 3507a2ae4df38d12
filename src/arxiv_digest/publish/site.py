"""The static site: today's digest, the archive, a page per category, and every feed.

:func:`render_site` returns every file as bytes (the web service serves exactly these);
:func:`write_site` writes them atomically, leaving unchanged files untouched.

Every list page comes twice: ``X.html`` with each abstract and summary folded
(``<details>``), and ``X-expanded.html`` with all of them open, linked from each other as
"Expand all" / "Fold all". A second page, rather than a CSS-only toggle: the contents of a
closed ``<details>`` cannot be shown by CSS in every browser, and a plain link works
without script, in every reader mode, and when printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import groupby
from pathlib import Path

import jinja2

from arxiv_digest.config import Settings
from arxiv_digest.models import Paper, PublishedDigest, Summary
from arxiv_digest.publish import feeds, trends
from arxiv_digest.publish.content import Appearance, SiteContent, category_days
from arxiv_digest.publish.files import write_tree
from arxiv_digest.publish.highlight import rich_text
from arxiv_digest.publish.html import markdown_to_html
from arxiv_digest.publish.readme import format_score
from arxiv_digest.ratings import rating_links

_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("arxiv_digest", "templates/site"),
    autoescape=True,  # every title, author and abstract is untrusted text
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
FeedRenderer = Callable[..., bytes]
FEED_FORMATS: dict[str, tuple[str, FeedRenderer]] = {
    "rss": ("xml", feeds.rss),
    "atom": ("xml", feeds.atom),
    "feed": ("json", feeds.json_feed),
}
FEED_LABELS = {"rss": "RSS", "atom": "Atom", "feed": "JSON Feed"}
EXPANDED = "-expanded"  # X.html -> X-expanded.html: the same list, everything open
AUTHORS_SHOWN = 3  # more than one more than this: "et al.", the rest behind a <details>


def feed_paths(category: str | None = None) -> dict[str, str]:
    """Where each feed lives: rss.xml, atom.xml, feed.json; rss/cs.AI.xml, ... per category."""
    if category is None:
        return {"rss": "rss.xml", "atom": "atom.xml", "feed": "feed.json"}
    return {name: f"{name}/{category}.{ext}" for name, (ext, _) in FEED_FORMATS.items()}


def day_path(date: dt.date, expanded: bool = False) -> str:
    return f"archive/{date.isoformat()}{EXPANDED if expanded else ''}.html"


def category_path(category: str, expanded: bool = False) -> str:
    return f"category/{category}{EXPANDED if expanded else ''}.html"


@dataclass(frozen=True, slots=True)
class Nav:
    """A list page's links, relative to the site's root: the same page folded or expanded,
    and the older and newer digest days (in the same state) when there are any."""

    folded: str
    expanded: str
    older: tuple[str, dt.date] | None = None
    newer: tuple[str, dt.date] | None = None


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # fmt: skip  (not the locale's)


@dataclass(frozen=True, slots=True)
class Month:
    anchor: str  # m-2026-04
    label: str  # April 2026
    days: tuple[PublishedDigest, ...]  # newest first


def months(days: Sequence[PublishedDigest]) -> list[Month]:
    """The digests by month, newest first (``days`` is newest first)."""
    return [
        Month(f"m-{year}-{month:02d}", f"{MONTHS[month - 1]} {year}", tuple(group))
        for (year, month), group in groupby(days, key=lambda d: (d.date.year, d.date.month))
    ]


def render_page(template: str, settings: Settings, root: str, **values: object) -> bytes:
    """One page of the site (or of serve: search) with the values every template sees."""
    text = _PAGES.get_template(template).render(
        root=root,
        site_title=settings.feeds.title,
        categories=settings.categories,
        abs_url=settings.arxiv.abs_url,
        pdf_url=settings.arxiv.pdf_url,
        score=format_score,
        summary_html=markdown_to_html,
        rich=lambda text, terms=(): rich_text(text, terms, settings.match),
        authors_shown=AUTHORS_SHOWN,
        feed_labels=FEED_LABELS,
        feed_paths=feed_paths,
        category_path=category_path,
        rating_links=lambda arxiv_id: rating_links(settings.site_url, arxiv_id),
        **values,
    )
    return text.encode("utf-8")


def digest_page(
    day: PublishedDigest | None,
    settings: Settings,
    root: str = "",
    *,
    nav: Nav | None = None,
    expanded: bool = False,
    notice: str | None = None,
) -> bytes:
    """A digest page; ``notice`` (the front page's) says why no newer digest is there."""
    title = settings.feeds.title
    heading = f"{title}: {day.date.isoformat()}" if day else title
    return render_page(
        "digest.html.j2",
        settings,
        root,
        digest=day,
        heading=heading,
        page_title=heading,
        nav=nav,
        expanded=expanded,
        notice=notice,
    )


def paper_page(
    paper: Paper,
    summary: Summary | None,
    listed: Sequence[Appearance],
    settings: Settings,
    root: str = "../",
) -> bytes:
    """One paper on its own: metadata, links, its AI summary, and the digests that listed it.

    Not a one-paper digest: the service shows any stored paper here, listed or not. Its
    keywords are highlighted as the newest digest that listed it matched them.
    """
    return render_page(
        "paper_page.html.j2",
        settings,
        root,
        paper=paper,
        summary=summary,
        appearances=listed,
        matched=listed[0].matched if listed else (),
        page_title=f"{paper.title} · {settings.feeds.title}",
    )


def archive_page(content: SiteContent, settings: Settings) -> bytes:
    title = f"Archive · {settings.feeds.title}"
    chart = trends.trends(content.days)
    return render_page(
        "archive.html.j2",
        settings,
        "../",
        days=content.days,
        months=months(content.days),
        trends=chart,
        trends_svg=trends.svg(chart) if chart and chart.terms else None,
        page_title=title,
    )


def category_page(
    content: SiteContent, category: str, settings: Settings, *, expanded: bool = False
) -> bytes:
    heading = f"{category} · {settings.feeds.title}"
    return render_page(
        "category.html.j2",
        settings,
        "../",
        category=category,
        groups=category_days(content, category, settings),
        keep_days=settings.feeds.keep_days,
        heading=heading,
        page_title=heading,
        nav=Nav(category_path(category), category_path(category, True)),
        expanded=expanded,
    )


def _static(name: str) -> bytes:
    return resources.files("arxiv_digest").joinpath(f"templates/site/{name}").read_bytes()


def render_feeds(content: SiteContent, settings: Settings) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    scopes: list[str | None] = [None, *settings.categories]
    for category in scopes:
        entries = content.feed if category is None else content.feed_for(category, settings)
        title = settings.feeds.title if category is None else f"{settings.feeds.title} · {category}"
        for name, path in feed_paths(category).items():
            render = FEED_FORMATS[name][1]
            files[path] = render(entries, settings, title, path, content.built_at)
    return files


def _day_nav(days: Sequence[PublishedDigest], n: int, expanded: bool, front: bool) -> Nav:
    """Links of day ``n`` (newest first); ``front``: the site's index page shows it."""
    older = days[n + 1].date if n + 1 < len(days) else None
    newer = days[n - 1].date if n > 0 else None
    here = ("index.html", f"index{EXPANDED}.html") if front else (
        day_path(days[n].date), day_path(days[n].date, True))  # fmt: skip
    return Nav(
        folded=here[0],
        expanded=here[1],
        older=(day_path(older, expanded), older) if older else None,
        newer=(day_path(newer, expanded), newer) if newer else None,
    )


def render_pages(content: SiteContent, settings: Settings) -> dict[str, bytes]:
    """Every HTML page of the site, by path."""
    days = content.days
    files: dict[str, bytes] = {"archive/index.html": archive_page(content, settings)}
    for expanded in (False, True):
        front = _day_nav(days, 0, expanded, front=True) if days else Nav(
            "index.html", f"index{EXPANDED}.html")  # fmt: skip
        files[front.expanded if expanded else front.folded] = digest_page(
            content.latest, settings, nav=front, expanded=expanded, notice=content.notice
        )
        for n, day in enumerate(days):
            nav = _day_nav(days, n, expanded, front=False)
            files[day_path(day.date, expanded)] = digest_page(
                day, settings, root="../", nav=nav, expanded=expanded
            )
        for category in settings.categories:
            files[category_path(category, expanded)] = category_page(
                content, category, settings, expanded=expanded
            )
    return files


def render_site(content: SiteContent, settings: Settings) -> dict[str, bytes]:
    files = render_pages(content, settings)
    files["style.css"] = _static("style.css")
    files["favicon.svg"] = _static("favicon.svg")
    files.update(render_feeds(content, settings))
    return files


def write_site(files: dict[str, bytes], site_dir: Path) -> list[str]:
    """Write every file atomically; returns the paths that changed.

    Nothing a static host would publish is ever half-written or a temporary: see
    :func:`write_tree`. Any failure is one :class:`PublishError` line.
    """
    return write_tree(files, site_dir)
