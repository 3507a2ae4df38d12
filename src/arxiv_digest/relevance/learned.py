"""A model of the reader's taste, learned from their 👍 and 👎 (as arxiv-sanity does).

Once there are ``relevance.min_ratings`` ratings, with both kinds among them, a logistic
regression is trained on the rated papers' words (TF-IDF, fitted together with the day's
papers so the vocabulary is today's) and scores each candidate. Like the other signals its
score is expressed in standard deviations from the day's average; unlike them it may be
negative: a paper like the ones rated 👎 loses points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from arxiv_digest.relevance.similarity import Vector, zscore


def enough(values: Sequence[int], minimum: int) -> bool:
    """Enough ratings, of both kinds, to learn anything."""
    return len(values) >= minimum and any(v > 0 for v in values) and any(v < 0 for v in values)


def taste(
    rated: Sequence[tuple[str, int]], candidates: Sequence[str], minimum: int
) -> Vector | None:
    """Each candidate's score under the model of ``rated`` (document, +1/-1), z-scored over
    the candidates; None when there are too few ratings to learn from."""
    values = [value for _, value in rated]
    if not candidates or not enough(values, minimum):
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer  # here: see similarity.py
    from sklearn.linear_model import LogisticRegression

    documents = [text for text, _ in rated]
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    try:
        matrix = vectorizer.fit_transform([*documents, *candidates])
    except ValueError:  # nothing but stop words
        return None
    model = LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000)
    model.fit(matrix[: len(documents)], np.array([1 if v > 0 else 0 for v in values]))
    scores = np.asarray(model.decision_function(matrix[len(documents) :]), dtype=np.float64)
    return zscore(scores)
