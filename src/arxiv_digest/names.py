"""Author names as keys: who "Raúl González", "raul gonzalez" and "R. González" may be.

Pure functions shared by the library's author matches (:mod:`arxiv_digest.relevance.authors`)
and the store's name statistics (:mod:`arxiv_digest.store.names`).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

Key = tuple[str, str]
ANNOUNCEMENT_DAYS_PER_MONTH = 21  # arXiv announces five days a week


def author_key(name: str) -> Key | None:
    """First and last name, accents, case and punctuation folded ("Raúl González" =
    "raul gonzalez"); None for a one-word name."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = [w for w in "".join(c if c.isalnum() else " " for c in plain).split() if w]
    if len(words) < 2:
        return None
    return (words[0], words[-1])


def name_stat_key(name: str) -> str | None:
    """The key under which the store counts a name's papers: "rui li"; None for a one-word
    name or one whose first name is an initial (no statistic can tell who "J. Doe" is)."""
    key = author_key(name)
    if key is None or len(key[0]) == 1:
        return None
    return f"{key[0]} {key[1]}"


def count_names(author_lists: Iterable[Iterable[str]]) -> Counter[str]:
    """Distinct papers per :func:`name_stat_key` (a name twice on one paper counts once)."""
    counts: Counter[str] = Counter()
    for names in author_lists:
        counts.update({key for name in names if (key := name_stat_key(name))})
    return counts


def monthly_rates(counts: Mapping[str, int], announcement_days: int) -> dict[str, float]:
    """Papers a month per name, from the papers each name signs over ``announcement_days``
    days of history (:data:`ANNOUNCEMENT_DAYS_PER_MONTH` of them make a month)."""
    months = max(announcement_days, 1) / ANNOUNCEMENT_DAYS_PER_MONTH
    return {name: count / months for name, count in counts.items()}
