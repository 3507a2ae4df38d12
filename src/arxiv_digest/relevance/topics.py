"""The library's topics: groups of library papers about one thing, and their words.

A library of eight federated-learning papers is about federated learning; one of them may
also be about multilingual fine-tuning, but a new paper about multilingual fine-tuning
alone echoes that one paper, not the library. So a new paper's closeness to its nearest
library paper is weighed against that paper's topic (:func:`closeness`):

    closeness = cosine to the nearest paper / m + cosine to its topic's centroid × (1 − 1/m)

m being the number of papers in the topic: the nearest paper is one voice among the m
that make the topic. A paper like no other in the library is a topic of its own (m = 1),
so a library of unrelated papers is compared paper by paper, as before, and in a library
that is all one theme the nearest paper counts for 1/8 and the theme for 7/8.

A topic (:func:`topics`) is a group of library papers that are, on average, at least
:data:`TOPIC_RATIO` times as alike (TF-IDF cosine) as a new paper and a library paper are
on average that day: average-linkage clustering cut there. The centroid's cosine is
computed from the cosines at hand (mean cosine to the topic's papers over the length of
their mean vector). :class:`TopicWords` names a topic by the words its papers' titles
share and the new paper uses ("federated learning"), for the why line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

TOPIC_RATIO = 3.0  # times the day's average (new paper, library paper) cosine
COMMON_SHARE = 0.05  # a phrase in more of the day's titles names no topic
MAX_CLUSTERED = 3000  # larger libraries are compared paper by paper (clustering is quadratic)

Matrix = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float64]
_WORD = re.compile(r"[^\W_][\w-]*[^\W_]|[^\W\d_]", re.UNICODE)
_CLAUSE = re.compile(r"[,.:;!?()\[\]{}\"“”]|\s[-–—]\s")


def topics(vectors: Any, threshold: float) -> list[tuple[int, ...]]:
    """Groups of library papers (indices) whose average pairwise cosine is at least
    ``threshold``; ``vectors``: the library papers' unit vectors, a row each (a dense or
    a SciPy sparse matrix)."""
    count = vectors.shape[0]
    if count < 2 or count > MAX_CLUSTERED:
        return [(i,) for i in range(count)]
    from scipy import sparse  # here: see similarity.py
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    between = vectors @ vectors.T
    between = between.toarray() if sparse.issparse(between) else np.asarray(between)
    distance = np.clip(1.0 - between.astype(np.float64), 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=max(1.0 - threshold, 0.0), criterion="distance")
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return [tuple(g) for g in sorted(groups.values(), key=lambda g: g[0])]


def centroid_lengths(vectors: Any, groups: Sequence[tuple[int, ...]]) -> Vector:
    """The length of each topic's mean vector (1 for a paper alone, less the more its
    papers differ; 0 for a paper without words)."""
    from scipy import sparse  # here: see similarity.py

    squares = vectors.multiply(vectors) if sparse.issparse(vectors) else vectors * vectors
    norms = np.sqrt(np.asarray(squares.sum(axis=1), dtype=np.float64).ravel())
    lengths = np.array([norms[g[0]] for g in groups], dtype=np.float64)
    for k, members in enumerate(groups):
        if len(members) > 1:
            mean = np.asarray(vectors[list(members)].mean(axis=0), dtype=np.float64)
            lengths[k] = float(np.linalg.norm(mean.ravel()))
    return lengths


@dataclass(frozen=True, slots=True)
class Closeness:
    """Per candidate (see the module doc)."""

    value: Vector  # nearest paper's cosine / m + its topic's centroid cosine × (1 − 1/m)
    nearest: npt.NDArray[np.int64]  # the nearest library paper
    topic: npt.NDArray[np.int64]  # the index of its topic
    by_topic: npt.NDArray[np.bool_]  # the topic's share is larger than the paper's own


def closeness(cosines: Matrix, groups: Sequence[tuple[int, ...]], lengths: Vector) -> Closeness:
    """``cosines``: candidates x library papers; ``groups``: the library's topics
    (:func:`topics`); ``lengths``: their centroids' lengths (:func:`centroid_lengths`)."""
    count = cosines.shape[0]
    label = np.zeros(cosines.shape[1], dtype=np.int64)
    for k, members in enumerate(groups):
        label[list(members)] = k
    nearest = cosines.argmax(axis=1).astype(np.int64)
    topic = label[nearest]
    m = np.array([len(groups[k]) for k in topic], dtype=np.float64)
    own = cosines[np.arange(count), nearest] / m
    centroid = np.zeros(count)
    for k in np.unique(topic[m > 1]):  # a paper alone: its topic is itself, weighed 0
        rows = np.flatnonzero(topic == k)
        if lengths[k] > 1e-12:
            centroid[rows] = cosines[np.ix_(rows, list(groups[k]))].mean(axis=1) / lengths[k]
    shared = centroid * (1 - 1 / m)
    return Closeness(own + shared, nearest, topic, shared > own)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | {"via", "using", "based", "towards", "toward"}


def _phrases(title: str) -> dict[str, str]:
    """The title's words and phrases of two or three words, stop words left out: folded ->
    as shown (lower case, acronyms kept: "KV cache")."""
    stop = _stop_words()
    found: dict[str, str] = {}
    for part in _CLAUSE.split(title):  # "Secure, Efficient": no phrase across the comma
        words = _WORD.findall(part)
        shown = [w if len(w) > 1 and w.isupper() else w.lower() for w in words]
        folded = [w.casefold() for w in words]
        kept = [w not in stop and not w.isdigit() for w in folded]
        for i in range(len(folded)):
            for n in (1, 2, 3):
                if i + n > len(folded) or not all(kept[i : i + n]):
                    break
                found.setdefault(" ".join(folded[i : i + n]), " ".join(shown[i : i + n]))
    return found


class TopicWords:
    """The words and phrases of a topic's titles, and how many titles share each.

    ``common`` holds the phrases too common that day to say anything ("learning",
    "language models" among cs.CL papers): they never name a topic."""

    def __init__(self, titles: Sequence[str], common: Collection[str] = ()) -> None:
        self.shared: Counter[str] = Counter()
        self.shown: dict[str, str] = {}
        for title in titles:
            phrases = _phrases(title)
            self.shared.update(phrases.keys())
            for key, value in phrases.items():
                self.shown.setdefault(key, value)
        defining = max(2, len(titles) / 2)  # what half the titles, and two at least, share
        self.words = sorted(
            (
                p
                for p, n in self.shared.items()
                if n >= defining and " " not in p and p not in common
            ),
            key=lambda p: (-self.shared[p], p),
        )
        self.holding: dict[str, list[str]] = {}  # word -> the phrases holding it
        for phrase in self.shared:
            if " " in phrase:
                for word in phrase.split():
                    self.holding.setdefault(word, []).append(phrase)

    def phrase(self, text: str) -> str:
        """What the topic is about, for a new paper (``text``: its title and abstract): of
        the words that define the topic (half of its titles or more, and two at least,
        share them), the most shared one the paper uses, or the topic's most shared phrase
        holding it when half as many titles or more share that and the paper uses its
        other words too ("federated" -> "federated learning"). "" when the paper uses none
        of them: it is close to the library, but not by the topic's own words."""
        used = {w.casefold() for w in _WORD.findall(text)}
        best = next((w for w in self.words if w in used), None)
        if best is None:
            return ""
        pairs = [
            p
            for p in self.holding.get(best, ())
            if 2 * self.shared[p] >= self.shared[best] and used.issuperset(p.split())
        ]
        if pairs:  # the most shared, the longer of two as shared
            best = min(pairs, key=lambda p: (-self.shared[p], -len(p.split()), p))
        return self.shown[best]


def common_phrases(titles: Sequence[str]) -> set[str]:
    """Phrases in more than :data:`COMMON_SHARE` of the day's titles (and in 3 or more)."""
    counts: Counter[str] = Counter()
    for title in titles:
        counts.update(_phrases(title).keys())
    limit = max(2, COMMON_SHARE * len(titles))
    return {p for p, n in counts.items() if n > limit}
