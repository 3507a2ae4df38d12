"""``arxiv-digest doctor``: is everything in place for a run? Never prints a secret."""

from __future__ import annotations

import os

from arxiv_digest.config import Settings
from arxiv_digest.errors import DigestError
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import feed_url
from arxiv_digest.store import Store

Check = tuple[bool, str]


def check_arxiv(settings: Settings) -> Check:
    quick = settings.http.model_copy(update={"retries": 0, "timeout": 15.0})
    try:
        with http.make_client(quick) as client:
            response = http.get(client, feed_url(settings), quick)
    except DigestError as exc:
        return False, str(exc)
    return True, f"{feed_url(settings)} answered HTTP {response.status}"


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
    present = bool(os.environ.get(summary.api_key_env))
    state = "is set" if present else "is NOT set: the digest will have no AI summaries"
    return present, f"{summary.api_key_env} {state}"


def run_checks(settings: Settings) -> dict[str, Check]:
    return {
        "config": (
            True,
            f"{len(settings.categories)} categories, {len(settings.keywords)} keywords",
        ),
        "store": check_store(settings),
        "arXiv": check_arxiv(settings),
        "LLM key": check_llm_key(settings),
    }
