"""How close each new paper is to the reader's library, from the words alone (no model).

Two classic measures, fitted on the day's papers and the library together, so that a word
counts for more when it is rare among today's papers:

* **BM25** with the whole library as one query (each library word weighted by the log of
  how often the library uses it): finds papers sharing the library's distinctive terms;
* **TF-IDF cosine** (sublinear term frequency, English stop words), averaged over the
  library, and at the nearest library paper weighed against that paper's topic
  (:mod:`.topics`): the library overall, and the part of it the new paper is closest to.
  A paper alone in its topic counts alone, so a library of unrelated papers is compared
  paper by paper; in a tightly themed one the theme counts, and a new paper that echoes
  one paper of a federated-learning library in passing no longer outranks one about
  federated learning (``bench/relevance.py``'s themed track).

Each is turned into standard deviations from the day's average (a z-score), the two are
averaged and z-scored again: a paper's similarity says how unusually close to the library
it is today, whatever the library's size or wording. On the labelled set in
``shared/relevance`` (content track) this blend ranks better than either measure alone
(``bench/relevance.py`` prints the figures). Titles count twice: they are the paper's own
summary of itself.

With an embedding model (``relevance.embedder``), the model's cosines, averaged over the
library and at the nearest paper weighed against its topic (the same topics, the model's
centroids), z-scored the same way, join the sum before the last z-score: still standard
deviations above the day's average; the nearest library paper is then the model's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from arxiv_digest.relevance.topics import TOPIC_RATIO, centroid_lengths, closeness, topics

Vector = npt.NDArray[np.float64]
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True, slots=True)
class Similarity:
    """Per candidate: standard deviations above the day's average, the library paper and
    the topic it is closest to (for the why line), and each measure before the sum."""

    z: Vector
    nearest: npt.NDArray[np.int64]
    cosine: Vector  # the cosine to that nearest library paper
    topic: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    topics: tuple[tuple[int, ...], ...] = ()  # the library papers of each topic
    by_topic: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    parts: Mapping[str, Vector] = field(default_factory=dict)  # measure -> standard deviations


def document(title: str, abstract: str) -> str:
    return f"{title}. {title}. {abstract}"


def zscore(values: Vector) -> Vector:
    spread = float(values.std())
    if not np.isfinite(spread) or spread < 1e-12:
        return np.zeros_like(values)
    scaled: Vector = (values - values.mean()) / spread
    return scaled


# scikit-learn and SciPy are imported where they are used: together about 100 MB that
# ``serve`` (which imports the pipeline for its scheduler) should not carry while it serves.


def _bm25(candidates: list[str], library: list[str]) -> Vector:
    from sklearn.feature_extraction.text import CountVectorizer

    counts = CountVectorizer(stop_words="english")
    matrix = counts.fit_transform(candidates + library).tocsr().astype(np.float64)
    docs, query = matrix[: len(candidates)], matrix[len(candidates) :]
    n = docs.shape[0]
    doc_freq = np.bincount(docs.indices, minlength=docs.shape[1]).astype(np.float64)
    idf = np.log((n - doc_freq + 0.5) / (doc_freq + 0.5) + 1.0)
    lengths = np.asarray(docs.sum(axis=1)).ravel()
    average = lengths.mean() if n and lengths.mean() > 0 else 1.0
    weighted = docs.copy()
    rows = np.repeat(np.arange(n), np.diff(docs.indptr))
    tf = weighted.data
    norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[rows] / average)
    weighted.data = tf * (BM25_K1 + 1) / (tf + norm) * idf[weighted.indices]
    wanted = np.log1p(np.asarray(query.sum(axis=0)).ravel())
    return np.asarray(weighted @ wanted).ravel()


Matrix = npt.NDArray[np.float64]


def _dense(product: object) -> Matrix:
    from scipy import sparse

    dense = product.toarray() if sparse.issparse(product) else product  # type: ignore[attr-defined]
    result: Matrix = np.asarray(dense, dtype=np.float64)
    return result


def _cosines(candidates: list[str], library: list[str]) -> tuple[Matrix, Any]:
    """TF-IDF cosines of the candidates to the library, and the library's vectors."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    matrix = tfidf.fit_transform(candidates + library)
    docs, refs = matrix[: len(candidates)], matrix[len(candidates) :]
    return _dense(docs @ refs.T), refs


def similarity(
    candidates: Sequence[str],
    library: Sequence[str],
    same: Sequence[tuple[int, int]] = (),
    model: Matrix | None = None,
    model_library: Matrix | None = None,
) -> Similarity:
    """Similarity of each candidate document to the library documents (see module doc).

    ``same`` lists (candidate, library) pairs that are one paper (a paper rated 👍 that is
    still among today's): it is not compared with itself. ``model`` is an embedding model's
    cosine of each candidate (row) to each library paper (column), or None for words only;
    ``model_library`` the model's unit vectors of the library papers, a row each (without
    them, each library paper is a topic of its own for the model).
    """
    count = len(candidates)
    if not count or not library:
        empty = np.zeros(count)
        return Similarity(empty, np.zeros(count, dtype=np.int64), empty)
    try:
        cosines, vectors = _cosines(list(candidates), list(library))
        bm25 = _bm25(list(candidates), list(library))
    except ValueError:  # only stop words everywhere: nothing to compare
        empty = np.zeros(count)
        return Similarity(empty, np.zeros(count, dtype=np.int64), empty)
    for candidate, reference in same:
        cosines[candidate, reference] = 0.0
    groups = topics(vectors, TOPIC_RATIO * float(cosines.mean()))
    near = closeness(cosines, groups, centroid_lengths(vectors, groups))
    parts = {
        "bm25": zscore(bm25),
        "mean": zscore(cosines.mean(axis=1)),
        "nearest": zscore(near.value),
    }
    total = parts["bm25"] + (parts["mean"] + parts["nearest"]) / 2
    nearest, topic, by_topic = near.nearest, near.topic, near.by_topic
    best = cosines[np.arange(count), nearest]
    if model is not None:
        model = np.array(model, dtype=np.float64)
        for candidate, reference in same:
            model[candidate, reference] = 0.0
        if model_library is None:  # no model centroids: each paper on its own
            groups = [(i,) for i in range(model.shape[1])]  # what ``topic`` now refers to
            lengths = np.ones(len(groups))
        else:
            lengths = centroid_lengths(model_library, groups)
        by_model = closeness(model, groups, lengths)
        parts["model mean"] = zscore(model.mean(axis=1))
        parts["model nearest"] = zscore(by_model.value)
        total = total + (parts["model mean"] + parts["model nearest"]) / 2
        nearest, topic, by_topic = by_model.nearest, by_model.topic, by_model.by_topic
        best = model[np.arange(count), nearest]
    return Similarity(zscore(total), nearest, best, topic, tuple(groups), by_topic, parts)
