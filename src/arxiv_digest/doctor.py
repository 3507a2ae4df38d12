"""``arxiv-digest doctor``: is everything in place for a run? Never prints a secret."""

from __future__ import annotations

import os

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.delivery.dispatch import channel_label, configured_channels, missing_secrets
from arxiv_digest.errors import DigestError, FeedError
from arxiv_digest.sources import http
from arxiv_digest.sources.rss import RssFeed, feed_url, parse_rss
from arxiv_digest.store import Store
from arxiv_digest.summarize.llm import connection_failure, endpoint
from arxiv_digest.summarize.runner import api_key_for

Check = tuple[bool, str]
# A working API lists its models at once; a run's own calls get ``ai_summary.timeout``.
LLM_CHECK_TIMEOUT = 10.0
NOT_THE_API = "not an OpenAI-compatible API (base_url usually ends in /v1)"


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


def check_llm_api(settings: Settings) -> Check:
    """Ask the LLM API for its models (``GET {base_url}/models``: free, no tokens spent) and
    say what answered: nothing (and why), an HTTP error, something else, or the API.

    An API without a model list (404) is sent a chat request with no messages instead,
    which an OpenAI-compatible API refuses (HTTP 400) before any model runs. Only the host
    and port are named, never the key or the URL's user info.
    """
    summary = settings.ai_summary
    if not summary.enabled:
        return True, "AI summaries disabled"
    where = endpoint(summary.base_url)
    key = api_key_for(settings)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    base = summary.base_url.rstrip("/")
    quick = settings.http.model_copy(update={"retries": 0, "timeout": LLM_CHECK_TIMEOUT})
    try:
        with http.make_client(quick) as client:
            response = client.get(f"{base}/models", headers=headers)
            if response.status_code in (404, 405):
                empty = {"model": summary.model, "messages": [], "max_tokens": 1}
                probe = client.post(f"{base}/chat/completions", headers=headers, json=empty)
                return _probe_answer(probe, where, response.status_code)
    except httpx2.TimeoutException:
        return False, f"{where} did not answer within {LLM_CHECK_TIMEOUT:g} s"
    except httpx2.HTTPError as exc:
        return False, f"nothing answers at {where}: {connection_failure(exc)}"
    return _models_answer(response, where, summary.model)


def _refused(response: httpx2.Response, where: str) -> Check | None:
    if response.status_code in (401, 403):
        status = response.status_code
        return False, f"{where} refused the request: HTTP {status} (API key missing or wrong)"
    return None


def _models_answer(response: httpx2.Response, where: str, model: str) -> Check:
    """What an answer to ``GET /models`` says about the API behind it."""
    if refused := _refused(response, where):
        return refused
    if response.status_code != 200:
        return False, f"{where} answered HTTP {response.status_code} for /models: {NOT_THE_API}"
    models = _model_ids(_json(response))
    if models is None:
        return False, f"{where} answered HTTP 200 with {_kind(response)}, {NOT_THE_API}"
    listed = f"{model} among them" if model in models else f"{model} not among them"
    return True, f"{where}: an OpenAI-compatible API, {len(models)} models ({listed})"


def _probe_answer(response: httpx2.Response, where: str, models_status: int) -> Check:
    """What an answer to a chat request with no messages says about the API behind it."""
    if refused := _refused(response, where):
        return refused
    status = response.status_code
    if status in (200, 400, 422) and isinstance(_json(response), dict):
        return True, (
            f"{where}: an OpenAI-compatible API (no model list; a chat request with no "
            f"messages got HTTP {status})"
        )
    return False, (
        f"{where} answered HTTP {models_status} for /models and HTTP {status} with "
        f"{_kind(response)} for /chat/completions: {NOT_THE_API}"
    )


def _json(response: httpx2.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _kind(response: httpx2.Response) -> str:
    return response.headers.get("Content-Type", "no content type").split(";")[0].strip()


def _model_ids(body: object) -> set[str] | None:
    """The ids of an OpenAI model list (``{"data": [{"id": ...}]}``), or None if it is not one."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    return {str(item["id"]) for item in data if isinstance(item, dict) and "id" in item}


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


def check_zotero_keys(settings: Settings) -> Check:
    """Each Zotero library's key variable (a public group needs none: only a note)."""
    sources = settings.relevance.library if settings.relevance is not None else []
    names = sorted({s.zotero.api_key_env for s in sources if s.zotero is not None})
    if not names:
        return True, "no Zotero library"
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        return True, f"{', '.join(missing)} not set (fine for a public group library only)"
    return True, f"{', '.join(names)} set"


def secret_checks(settings: Settings) -> dict[str, Check]:
    """Only the environment variables the config names: what a CI job can check offline."""
    return {
        "LLM key": check_llm_key(settings),
        "Zotero key": check_zotero_keys(settings),
        "delivery": check_delivery(settings),
    }


def run_checks(settings: Settings) -> dict[str, Check]:
    return {
        "config": (
            True,
            f"{len(settings.categories)} categories, {len(settings.keywords)} keywords",
        ),
        "store": check_store(settings),
        "arXiv": check_arxiv(settings),
        "LLM key": check_llm_key(settings),
        "LLM API": check_llm_api(settings),
        "Zotero key": check_zotero_keys(settings),
        "delivery": check_delivery(settings),
    }
