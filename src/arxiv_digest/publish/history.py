"""Writing the store's history folder (``store.history_dir``) after a run, and reading it
back before one: see :mod:`arxiv_digest.store.history` for what the files hold and why."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from arxiv_digest.config import Settings
from arxiv_digest.config.profiles import profile_settings
from arxiv_digest.publish.files import write_atomic
from arxiv_digest.store import Store
from arxiv_digest.store.history import (
    CANDIDATES,
    DIGESTS,
    NOTICES,
    RATINGS,
    candidates_day,
    day_path,
    digest_day,
    mark_seen,
    notices_file,
    prune_candidates,
    ratings_file,
    restore,
)

log = logging.getLogger(__name__)


def restore_history(settings: Settings, store: Store) -> None:
    """Load the history files this store has not seen (all of them on a fresh runner)."""
    folder = settings.store.history_dir
    if folder is None:
        return
    loaded = restore(store, folder, candidate_days=_candidate_days(settings))
    if loaded:
        log.info("store: loaded %d history file(s) from %s", len(loaded), folder)


def write_history(settings: Settings, store: Store, day: dt.date | None) -> list[str]:
    """Write the history files of ``day`` (and of any published day that has none yet, as
    after switching an existing store to a history folder); returns the files changed."""
    folder = settings.store.history_dir
    if folder is None:
        return []
    days = {d for d, _, _ in store.published_runs() if not (folder / day_path(DIGESTS, d)).exists()}
    if day is not None:
        days.add(day)
    hidden = private_profiles(settings)
    files: dict[str, bytes] = {}
    for each in sorted(days):
        files[day_path(DIGESTS, each)] = digest_day(store, each, hidden=hidden)
        if _candidate_days(settings):
            files[day_path(CANDIDATES, each)] = candidates_day(store, each)
    for name, data in (
        (RATINGS, ratings_file(store, hidden=hidden)),
        (NOTICES, notices_file(store)),
    ):
        if data or (folder / name).exists():
            files[name] = data
    changed = [name for name, data in files.items() if write_atomic(Path(folder, name), data)]
    mark_seen(store, files)
    return changed


def private_profiles(settings: Settings) -> frozenset[str]:
    """The members whose picks and ratings stay out of the (committed) history folder."""
    return frozenset(name for name, p in profile_settings(settings).items() if p.private)


def apply_retention(settings: Settings, store: Store) -> int:
    """Slim the candidates older than ``store.retention_days`` that nothing used."""
    keep_days = settings.store.retention_days
    latest = store.latest_announcement()
    if not keep_days or latest is None:
        return 0
    pruned = prune_candidates(store, latest - dt.timedelta(days=keep_days))
    if pruned:
        log.info("store: %d unused candidate(s) older than %d days slimmed", pruned, keep_days)
    return pruned


def _candidate_days(settings: Settings) -> int:
    """Candidate files matter only to digests that span several days (``days_back``)."""
    return settings.days_back if settings.days_back > 1 else 0
