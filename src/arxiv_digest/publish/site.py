"""The static site: today's digest, the archive, and every feed, as files.

:func:`render_site` returns every file as bytes (the web service serves exactly these);
:func:`write_site` writes them atomically, leaving unchanged files untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import jinja2

from arxiv_digest.config import Settings
from arxiv_digest.models import Paper, PublishedDigest, Summary
from arxiv_digest.publish import feeds
from arxiv_digest.publish.content import Appearance, SiteContent
from arxiv_digest.publish.files import write_tree
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


def feed_paths(category: str | None = None) -> dict[str, str]:
    """Where each feed lives: rss.xml, atom.xml, feed.json; rss/cs.AI.xml, ... per category."""
    if category is None:
        return {"rss": "rss.xml", "atom": "atom.xml", "feed": "feed.json"}
    return {name: f"{name}/{category}.{ext}" for name, (ext, _) in FEED_FORMATS.items()}


def _page(template: str, settings: Settings, root: str, **values: object) -> bytes:
    text = _PAGES.get_template(template).render(
        root=root,
        site_title=settings.feeds.title,
        categories=settings.categories,
        abs_url=settings.arxiv.abs_url,
        pdf_url=settings.arxiv.pdf_url,
        score=format_score,
        summary_html=markdown_to_html,
        rating_links=lambda arxiv_id: rating_links(settings.site_url, arxiv_id),
        **values,
    )
    return text.encode("utf-8")


def digest_page(day: PublishedDigest | None, settings: Settings, root: str = "") -> bytes:
    title = settings.feeds.title
    heading = f"{title}: {day.date.isoformat()}" if day else title
    return _page("digest.html.j2", settings, root, digest=day, heading=heading, page_title=heading)


def paper_page(
    paper: Paper,
    summary: Summary | None,
    listed: Sequence[Appearance],
    settings: Settings,
    root: str = "../",
) -> bytes:
    """One paper on its own: metadata, links, its AI summary, and the digests that listed it.

    Not a one-paper digest: the service shows any stored paper here, listed or not.
    """
    return _page(
        "paper_page.html.j2",
        settings,
        root,
        paper=paper,
        summary=summary,
        appearances=listed,
        page_title=f"{paper.title} · {settings.feeds.title}",
    )


def archive_page(content: SiteContent, settings: Settings) -> bytes:
    title = f"Archive · {settings.feeds.title}"
    return _page("archive.html.j2", settings, "../", days=content.days, page_title=title)


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


def render_site(content: SiteContent, settings: Settings) -> dict[str, bytes]:
    files = {
        "index.html": digest_page(content.latest, settings),
        "archive/index.html": archive_page(content, settings),
        "style.css": _static("style.css"),
        "favicon.svg": _static("favicon.svg"),
    }
    for day in content.days:
        files[f"archive/{day.date.isoformat()}.html"] = digest_page(day, settings, root="../")
    files.update(render_feeds(content, settings))
    return files


def write_site(files: dict[str, bytes], site_dir: Path) -> list[str]:
    """Write every file atomically; returns the paths that changed.

    Nothing a static host would publish is ever half-written or a temporary: see
    :func:`write_tree`. Any failure is one :class:`PublishError` line.
    """
    return write_tree(files, site_dir)
