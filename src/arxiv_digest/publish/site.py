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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from itertools import groupby
from pathlib import Path

import jinja2
from markupsafe import Markup

from arxiv_digest.config import Settings
from arxiv_digest.match import MatchMode
from arxiv_digest.models import DigestEntry, Paper, PublishedDigest, Summary
from arxiv_digest.publish import feeds, trends
from arxiv_digest.publish.content import (
    Appearance,
    ArchiveDay,
    History,
    SiteContent,
    category_days,
)
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
    auto_reload=False,  # no stat() of every template at every include: they are package data
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
    days: tuple[ArchiveDay, ...]  # newest first


def months(days: Sequence[ArchiveDay]) -> list[Month]:
    """The digests by month, newest first (``days`` is newest first)."""
    return [
        Month(f"m-{year}-{month:02d}", f"{MONTHS[month - 1]} {year}", tuple(group))
        for (year, month), group in groupby(days, key=lambda d: (d.date.year, d.date.month))
    ]


def render_page(template: str, settings: Settings, root: str, **values: object) -> bytes:
    """One page of the site (or of serve: search) with the values every template sees."""
    look = _look(settings)
    text = _PAGES.get_template(template).render(
        root=root,
        site_title=settings.feeds.title,
        categories=settings.categories,
        feed_labels=FEED_LABELS,
        feed_paths=feed_paths,
        category_path=category_path,
        paper_block=lambda entry, rank, level, expanded: paper_block(
            entry, rank, level, expanded, look
        ),
        **_paper_values(look),
        **values,
    )
    return text.encode("utf-8")


RATING_SAMPLE = feeds.RATING_SAMPLE  # an id whose rating link stands for every page's


@dataclass(frozen=True, slots=True)
class _Look:
    """The settings a paper's block is made with (hashable: blocks are cached by it)."""

    abs_url: str
    pdf_url: str
    match: MatchMode
    site_url: str | None
    rating: tuple[tuple[str, str], ...] | None  # a sample link: changes with the secret


def _look(settings: Settings) -> _Look:
    sample = rating_links(settings.site_url, RATING_SAMPLE)
    return _Look(
        str(settings.arxiv.abs_url),
        str(settings.arxiv.pdf_url),
        settings.match,
        settings.site_url,
        tuple(sorted(sample.items())) if sample else None,
    )


def _paper_values(look: _Look) -> dict[str, object]:
    return {
        "abs_url": look.abs_url,
        "pdf_url": look.pdf_url,
        "score": format_score,
        "summary_html": markdown_to_html,
        "rich": lambda text, terms=(): rich_text(text, terms, look.match),
        "authors_shown": AUTHORS_SHOWN,
        "rating_links": lambda arxiv_id: rating_links(look.site_url, arxiv_id),
    }


# Every <details> of a paper's block, as an expanded page has it (open) and a folded one.
_OPENED = tuple(
    (f'<details class="{name}" open>', f'<details class="{name}">')
    for name in ("authors", "abstract", "summary")
)


def paper_block(entry: DigestEntry, rank: int, level: int, expanded: bool, look: _Look) -> Markup:
    """One paper of a list (``paper.html.j2``). The same paper is on the front page, its
    day's page and its category's page, each folded and expanded: it is rendered once
    (expanded, its heading's level left open) and folded by closing its ``<details>`` (no
    title or abstract can hold a tag: they are escaped, and summaries are sanitised
    without ``<details>`` or comments)."""
    block = _expanded_block(entry, rank, look).replace(_LEVEL, str(level))
    if not expanded:
        for opened, closed in _OPENED:
            block = block.replace(opened, closed)
    return Markup(block)


# The heading level in a block rendered for any: a comment, which no text can make.
_LEVEL = "<!--level-->"


@lru_cache(maxsize=2048)
def _expanded_block(entry: DigestEntry, rank: int, look: _Look) -> str:
    return _PAGES.get_template("paper.html.j2").render(
        entry=entry, rank=rank, level=Markup(_LEVEL), expanded=True, **_paper_values(look)
    )


def page_settings(settings: Settings) -> dict[str, object]:
    """Every setting :func:`render_page` makes pages with (their title and categories, and
    a paper's links, highlights and rating links: :class:`_Look`): when one changes, any
    page may have (:mod:`arxiv_digest.publish.incremental`). Keep the two in step."""
    return {
        "site_title": settings.feeds.title,
        "categories": list(settings.categories),
        **asdict(_look(settings)),
    }


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


def archive_page(history: History, settings: Settings) -> bytes:
    title = f"Archive · {settings.feeds.title}"
    chart = trends.term_trends(history.terms)
    return render_page(
        "archive.html.j2",
        settings,
        "../",
        days=history.days,
        months=months(history.days),
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
        paths = feed_paths(category)
        files[paths["rss"]], files[paths["atom"]] = feeds.rss_and_atom(
            entries, settings, title, (paths["rss"], paths["atom"]), content.built_at
        )
        files[paths["feed"]] = feeds.json_feed(
            entries, settings, title, paths["feed"], content.built_at
        )
    return files


def neighbours(dates: Sequence[dt.date], n: int) -> tuple[dt.date | None, dt.date | None]:
    """The older and the newer digest day of day ``n`` (``dates`` newest first)."""
    older = dates[n + 1] if n + 1 < len(dates) else None
    newer = dates[n - 1] if n > 0 else None
    return older, newer


def _day_nav(dates: Sequence[dt.date], n: int, expanded: bool, front: bool) -> Nav:
    """Links of day ``n`` (newest first); ``front``: the site's index page shows it."""
    older, newer = neighbours(dates, n)
    here = ("index.html", f"index{EXPANDED}.html") if front else (
        day_path(dates[n]), day_path(dates[n], True))  # fmt: skip
    return Nav(
        folded=here[0],
        expanded=here[1],
        older=(day_path(older, expanded), older) if older else None,
        newer=(day_path(newer, expanded), newer) if newer else None,
    )


def render_common(content: SiteContent, history: History, settings: Settings) -> dict[str, bytes]:
    """What every new digest changes: the front page, the archive's index, the category
    pages and the feeds (``content`` holds at least the feeds' days), and the style."""
    dates = history.dates
    files: dict[str, bytes] = {"archive/index.html": archive_page(history, settings)}
    for expanded in (False, True):
        front = _day_nav(dates, 0, expanded, front=True) if dates else Nav(
            "index.html", f"index{EXPANDED}.html")  # fmt: skip
        files[front.expanded if expanded else front.folded] = digest_page(
            content.latest, settings, nav=front, expanded=expanded, notice=content.notice
        )
        for category in settings.categories:
            files[category_path(category, expanded)] = category_page(
                content, category, settings, expanded=expanded
            )
    files["style.css"] = _static("style.css")
    files["favicon.svg"] = _static("favicon.svg")
    files.update(render_feeds(content, settings))
    return files


def render_days(
    days: Iterable[PublishedDigest], history: History, settings: Settings
) -> dict[str, bytes]:
    """The archive pages (folded and expanded) of ``days``, each linked to the days beside
    it in ``history``."""
    dates = history.dates
    position = {date: n for n, date in enumerate(dates)}
    files: dict[str, bytes] = {}
    for day in days:
        for expanded in (False, True):
            nav = _day_nav(dates, position[day.date], expanded, front=False)
            files[day_path(day.date, expanded)] = digest_page(
                day, settings, root="../", nav=nav, expanded=expanded
            )
    return files


def render_site(content: SiteContent, settings: Settings) -> dict[str, bytes]:
    """Every file of the site, from ``content`` holding every published day."""
    history = History.of(content.days)
    return {
        **render_common(content, history, settings),
        **render_days(content.days, history, settings),
    }


def write_site(files: dict[str, bytes], site_dir: Path) -> list[str]:
    """Write every file atomically; returns the paths that changed.

    Nothing a static host would publish is ever half-written or a temporary: see
    :func:`write_tree`. Any failure is one :class:`PublishError` line.
    """
    return write_tree(files, site_dir)
