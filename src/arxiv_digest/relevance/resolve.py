"""The library as a run sees it: files re-read, arXiv entries completed from the store or
one API request, papers rated 👍 added, papers rated 👎 set aside, what stays unresolved
reported once, and how often its author names sign papers in the store's history (for
telling a rare name from a common one). Never fatal past the config check."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.errors import FetchError, StoreError
from arxiv_digest.models import Paper
from arxiv_digest.relevance.authors import NO_RATES, NameRates
from arxiv_digest.relevance.library import (
    Library,
    complete,
    from_paper,
    ids_to_look_up,
    read_library_files,
)
from arxiv_digest.relevance.similarity import document
from arxiv_digest.relevance.zotero import read_zotero_sources
from arxiv_digest.retry import Sleep
from arxiv_digest.sources.arxiv_api import ApiClient
from arxiv_digest.store import Store

log = logging.getLogger(__name__)
LOOKUP_BATCH = 100  # ids per API request


def load_library(
    settings: Settings, store: Store, client: httpx2.Client, *, sleep: Sleep | None = None
) -> Library:
    entries = read_library_files(settings)
    entries += read_zotero_sources(settings, client, store=store, sleep=sleep)  # never fatal
    wanted = ids_to_look_up(entries)
    known: dict[str, Paper] = store.latest_papers(wanted)
    missing = [i for i in wanted if i not in known]
    if missing:
        api = ApiClient(client, settings, sleep=sleep)
        try:
            for start in range(0, len(missing), LOOKUP_BATCH):
                fetched = api.by_ids(missing[start : start + LOOKUP_BATCH])
                store.upsert_papers(fetched, announced=False)  # looked up: no digest day
                known.update((p.arxiv_id, p) for p in fetched)
        except FetchError as exc:
            log.warning("library: %d arXiv entries could not be looked up (%s)", len(missing), exc)
    ratings = store.ratings()
    rated: list[tuple[str, int]] = []
    for rating in ratings:  # a 👍 makes a paper part of the library; both teach the model
        paper = store.paper(rating.arxiv_id)
        if paper is None:
            continue
        rated.append((document(paper.title, paper.abstract), rating.value))
        if rating.value > 0:
            entries.append(from_paper(paper, source="rated up"))
    library = complete(entries, known)
    down = frozenset(r.arxiv_id for r in ratings if r.value < 0)
    library = replace(
        library, rated_down=down, rated=tuple(rated), name_rates=name_rates(store, library)
    )
    if library.unresolved:
        examples = ", ".join(library.unresolved[:3])
        log.warning(
            "library: %d entries have no title or abstract and are left out (e.g. %s)",
            len(library.unresolved),
            examples,
        )
    log.info("library: %d papers", len(library.papers))
    return library


def name_rates(store: Store, library: Library) -> NameRates:
    """How often the library's author names sign a paper, from the store's history (brought
    up to date first, unless the store is read-only). A store that cannot say is a warning:
    no name is then rare, and co-authors and content alone confirm an author match."""
    names = {name for paper in library.papers for name in paper.authors}
    if not names:
        return NO_RATES
    try:
        if not store.read_only:
            store.count_names()
        return NameRates(store.name_rates(names))
    except StoreError as exc:
        log.warning("library: no name statistics, so no author name counts as rare: %s", exc)
        return NO_RATES
