"""Authors in the library: people, not strings.

A name shared with a library paper is evidence that a new paper is by someone the reader
reads, but common names (Wei Wang, Rui Li, Yang Liu) are carried by many people: a library
of a few hundred papers holds dozens of them, and each would draw a stranger's paper in
every day. So a name match counts only when something besides the name says it is the same
person (:func:`corroboration`):

* **a shared co-author**: another author of the new paper also wrote one of that person's
  library papers (people keep working with the same people);
* **close content**: the new paper's similarity to the library is at least
  :data:`CLOSE_CONTENT` standard deviations above the day's average. On the labelled set in
  ``shared/relevance``, a researcher's next paper reaches it about one time in four, the
  other candidates one time in twenty-five: a likelihood ratio above 6. The day's median,
  the other natural line, is passed by half of all papers (with it, 46% of the decoys of
  ``bench/relevance.py``'s namesakes track reach the top 5; with this one, 4%);
* **a rare name**: in the store's history the name signs at most :data:`RARE_PER_MONTH`
  distinct papers a month, no more than one researcher writes, so it is most likely one
  person. A new store knows too little: today's own paper is in it, so a name seen on one
  day counts as a name of twenty papers a month, and only co-authors and content speak
  until the history is long enough.

An uncorroborated match counts nothing and is never the reason a paper is shown; ``explain``
still lists it. Followed authors (``authors`` in the config) are not matched here: the reader
named them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from arxiv_digest.names import Key, author_key, name_stat_key

CLOSE_CONTENT = 2.0  # standard deviations of similarity above the day's average
RARE_PER_MONTH = 1.0  # distinct papers a month a name signs, at most, to be "rare"


def same_person_name(a: Key, b: Key) -> bool:
    """Full first names must agree ("Wei Wang" is not "Wen Wang"); an initial on either
    side agrees with any first name of that letter ("J. Doe")."""
    if a[1] != b[1]:
        return False
    if len(a[0]) == 1 or len(b[0]) == 1:
        return a[0][0] == b[0][0]
    return a[0] == b[0]


@dataclass(frozen=True, slots=True)
class NameRates:
    """How many distinct papers each name signs a month in the store's history
    (:func:`name_stat_key` -> papers a month). A name the mapping lacks is unknown: not
    rare."""

    per_month: Mapping[str, float]

    def rate(self, name: str) -> float | None:
        key = name_stat_key(name)
        return self.per_month.get(key) if key else None

    def rare(self, name: str) -> bool:
        rate = self.rate(name)
        return rate is not None and rate <= RARE_PER_MONTH


NO_RATES = NameRates({})


@dataclass(frozen=True, slots=True)
class Match:
    """One author of a new paper found in the library."""

    name: str  # as the new paper writes it
    papers: int  # library papers with this name
    evidence: str  # what says it is the same person: "co-author", "content", "rare" or ""
    coauthor: str = ""  # for "co-author": the shared co-author, as the new paper writes it

    @property
    def corroborated(self) -> bool:
        return bool(self.evidence)


class AuthorIndex:
    """Names in the library: which library papers each is on, and who wrote them."""

    def __init__(self, papers: Iterable[Iterable[str]]) -> None:
        self._papers: list[set[Key]] = []
        self._by_last: dict[str, set[Key]] = defaultdict(set)
        self._where: dict[Key, list[int]] = defaultdict(list)
        for index, names in enumerate(papers):
            keys = {key for name in names if (key := author_key(name))}
            self._papers.append(keys)
            for key in keys:
                self._by_last[key[1]].add(key)
                self._where[key].append(index)

    def __bool__(self) -> bool:
        return bool(self._where)

    def _papers_of(self, key: Key) -> set[int]:
        """Library papers by a name (an initial agreeing with any first name of its letter)."""
        found: set[int] = set()
        for known in self._by_last.get(key[1], ()):
            if same_person_name(key, known):
                found.update(self._where[known])
        return found

    def papers(self, name: str) -> int:
        """How many library papers this name is an author of (0: not in the library)."""
        key = author_key(name)
        return len(self._papers_of(key)) if key else 0

    def __contains__(self, name: str) -> bool:
        return self.papers(name) > 0

    def shared_coauthor(self, name: str, others: Sequence[str]) -> str | None:
        """One of ``others`` (the new paper's other authors) who is also an author of a
        library paper of ``name``, or None."""
        key = author_key(name)
        if key is None:
            return None
        coauthors = [k for i in self._papers_of(key) for k in self._papers[i]]
        for other in others:
            other_key = author_key(other)
            if other_key is None or same_person_name(other_key, key):
                continue
            if any(same_person_name(other_key, c) for c in coauthors):
                return other
        return None


def corroboration(
    index: AuthorIndex, authors: Sequence[str], similarity: float, rates: NameRates
) -> tuple[Match, ...]:
    """The paper's authors found in the library, each with what says it is the same person
    (a shared co-author first, then close content, then a rare name) or nothing."""
    if not index:
        return ()
    found = []
    for position, name in enumerate(authors):
        papers = index.papers(name)
        if not papers:
            continue
        others = [a for i, a in enumerate(authors) if i != position]
        coauthor = index.shared_coauthor(name, others)
        if coauthor is not None:
            found.append(Match(name, papers, "co-author", coauthor))
        elif similarity >= CLOSE_CONTENT:
            found.append(Match(name, papers, "content"))
        elif rates.rare(name):
            found.append(Match(name, papers, "rare"))
        else:
            found.append(Match(name, papers, ""))
    return tuple(found)
