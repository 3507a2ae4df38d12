"""``arxiv-digest doctor``: is everything in place for a run? Never prints a secret."""

from __future__ import annotations

import os

from arxiv_digest.config import Settings
from arxiv_digest.delivery.dispatch import channel_label, configured_channels, missing_secrets
from arxiv_digest.errors import DigestError, FeedError
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import RssFeed, feed_url, parse_rss
from arxiv_digest.store import Store

Check = tuple[bool, str]


def check_arxiv(settings: Settings) -> Check:
    """Fetch the feed the run would fetch and parse it as the run would.

    An answer of HTTP 200 is not enough: arXiv (or a proxy) answering with an HTML page
    passed here and then failed the run.
    """
    url = feed_url(settings)
    quick = settings.http.model_copy(update={"retries": 0, "timeout": 15.0})
    try:
        with http.make_client(quick) as client:
            response = http.get(client, url, quick)
    except DigestError as exc:
        return False, str(exc)
    try:
        feed = parse_rss(response.content, response.content_type)
    except FeedError as exc:
        return False, f"{url} answered HTTP {response.status}, but not with a feed: {exc}"
    return True, f"{url}: {_items_found(feed)}"


def _items_found(feed: RssFeed) -> str:
    if not feed.papers:
        return "a feed with no items (arXiv announces nothing on weekends and holidays)"
    new = sum(1 for paper in feed.papers if paper.announce_type == "new")
    day = f", announced {feed.date.isoformat()}" if feed.date else ""
    return f"{len(feed.papers)} items ({new} new){day}"


def check_store(settings: Settings) -> Check:
    try:
        with Store(settings.store.url) as store:
            runs = store.runs(limit=1)
            last = f", last run {runs[0]['status']}" if runs else ", no run yet"
            return True, f"{store.safe_url}: {store.count_papers()} papers{last}"
    except DigestError as exc:
        return False, str(exc)


def check_llm_key(settings: Settings) -> Check:
    summary = settings.ai_summary
    if not summary.enabled:
        return True, "AI summaries disabled"
    if summary.is_local:
        return True, "local server: no key needed"
    present = bool(os.environ.get(summary.api_key_env))
    state = "is set" if present else "is NOT set: the digest will have no AI summaries"
    return present, f"{summary.api_key_env} {state}"


def check_delivery(settings: Settings) -> Check:
    """Every channel's secrets are in the environment (their values are never shown)."""
    delivery = settings.delivery
    if delivery is None:
        return True, "no delivery channels"
    problems = [
        f"{channel_label(c)}: {', '.join(names)} not set"
        for c in configured_channels(delivery)
        if (names := missing_secrets(c))
    ]
    if problems:
        return False, "; ".join(problems) + " (those channels will be skipped)"
    return True, f"{', '.join(delivery.channels)}: secrets set"


def run_checks(settings: Settings) -> dict[str, Check]:
    return {
        "config": (
            True,
            f"{len(settings.categories)} categories, {len(settings.keywords)} keywords",
        ),
        "store": check_store(settings),
        "arXiv": check_arxiv(settings),
        "LLM key": check_llm_key(settings),
        "delivery": check_delivery(settings),
    }
