"""How close each new paper is to the reader's library, from the words alone (no model).

Two classic measures, fitted on the day's papers and the library together, so that a word
counts for more when it is rare among today's papers:

* **BM25** with the whole library as one query (each library word weighted by the log of
  how often the library uses it): finds papers sharing the library's distinctive terms;
* **TF-IDF cosine** (sublinear term frequency, English stop words), averaged over the
  library and at its best library paper: the topic overall, and the nearest single paper.

Each is turned into standard deviations from the day's average (a z-score), the two are
averaged and z-scored again: a paper's similarity says how unusually close to the library
it is today, whatever the library's size or wording. On the labelled set in
``shared/relevance`` (content track) this blend ranks better than either measure alone
(``bench/relevance.py`` prints the figures). Titles count twice: they are the paper's own
summary of itself.

With an embedding model (``relevance.embedder``), the model's cosines, averaged over the
library and at its best library paper, z-scored the same way, join the sum before the last
z-score: still standard deviations above the day's average; the nearest library paper
is then the model's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True, slots=True)
class Similarity:
    """Per candidate: standard deviations above the day's average, and the index of the
    library paper it is closest to (for the "similar to ..." explanation)."""

    z: Vector
    nearest: npt.NDArray[np.int64]
    cosine: Vector  # the cosine to that nearest library paper


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


def _cosines(candidates: list[str], library: list[str]) -> npt.NDArray[np.float64]:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    matrix = tfidf.fit_transform(candidates + library)
    docs, refs = matrix[: len(candidates)], matrix[len(candidates) :]
    product = docs @ refs.T
    dense = product.toarray() if sparse.issparse(product) else product
    result: npt.NDArray[np.float64] = np.asarray(dense, dtype=np.float64)
    return result


def _by_cosines(cosines: npt.NDArray[np.float64]) -> Vector:
    by: Vector = (zscore(cosines.mean(axis=1)) + zscore(cosines.max(axis=1))) / 2
    return by


def similarity(
    candidates: Sequence[str],
    library: Sequence[str],
    same: Sequence[tuple[int, int]] = (),
    model: npt.NDArray[np.float64] | None = None,
) -> Similarity:
    """Similarity of each candidate document to the library documents (see module doc).

    ``same`` lists (candidate, library) pairs that are one paper (a paper rated 👍 that is
    still among today's): it is not compared with itself. ``model`` is an embedding model's
    cosine of each candidate (row) to each library paper (column), or None for words only.
    """
    count = len(candidates)
    if not count or not library:
        empty = np.zeros(count)
        return Similarity(empty, np.zeros(count, dtype=np.int64), empty)
    docs, refs = list(candidates), list(library)
    try:
        cosines = _cosines(docs, refs)
        bm25 = _bm25(docs, refs)
    except ValueError:  # only stop words everywhere: nothing to compare
        empty = np.zeros(count)
        return Similarity(empty, np.zeros(count, dtype=np.int64), empty)
    for candidate, reference in same:
        cosines[candidate, reference] = 0.0
    by_words = _by_cosines(cosines)
    if model is None:
        nearest = cosines.argmax(axis=1).astype(np.int64)
        best = cosines[np.arange(count), nearest]
        return Similarity(zscore(zscore(bm25) + by_words), nearest, best)
    model = np.array(model, dtype=np.float64)
    for candidate, reference in same:
        model[candidate, reference] = 0.0
    nearest = model.argmax(axis=1).astype(np.int64)
    best = model[np.arange(count), nearest]
    return Similarity(zscore(zscore(bm25) + by_words + _by_cosines(model)), nearest, best)
