"""How well each new paper's arXiv category fits the categories the library lives in.

Researchers file most of their papers under the same few categories, and a day's digest
mixes several (cs.AI, cs.CL, cs.LG, cs.DC ...). So a paper filed where the library's papers
are filed is a little more likely to be the reader's, and one filed where none of them is a
little less, whatever its words. The measure is the log-ratio of two shares of the paper's
primary category: among the library's papers (smoothed, so a small library says little)
and among today's candidates. Like the similarity it is given in standard deviations from
the day's average; on the labelled set in ``shared/relevance`` (content track) it lifts the
MRR by about 0.01 (``bench/relevance.py``, docs/benchmarks.md).

It says nothing when the library has fewer than ``MIN_FILED`` papers with a known category
(files without arXiv ids) or when every candidate is filed under one category.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from arxiv_digest.relevance.similarity import Vector, zscore

MIN_FILED = 3  # library papers with a known category needed to say anything
SMOOTHING = 0.5  # pseudo-papers added to every category's library count


def category_fit(candidates: Sequence[str], library: Sequence[str]) -> Vector:
    """Per candidate (its primary category, "" if unknown): standard deviations above the
    day's average of log(share in the library / share among the candidates). ``library``
    holds the library papers' primary categories ("" if unknown)."""
    filed = Counter(c for c in library if c)
    known = sum(filed.values())
    today = Counter(c for c in candidates if c)
    if known < MIN_FILED or len(today) < 2:
        return np.zeros(len(candidates))
    kinds = len(set(today) | set(filed))
    fit = np.array(
        [
            math.log((filed[c] + SMOOTHING) / (known + SMOOTHING * kinds))
            - math.log(today[c] / len(candidates))
            if c
            else math.nan
            for c in candidates
        ]
    )
    unknown = np.isnan(fit)
    if unknown.all():
        return np.zeros(len(candidates))
    fit[unknown] = float(np.nanmean(fit))  # no category: neither lifted nor lowered
    return zscore(fit)
