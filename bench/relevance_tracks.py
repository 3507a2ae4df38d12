"""The two failure modes of ranking by a library, as tracks of ``bench/relevance.py``.

Both are built from the labelled set itself (``../shared/relevance``), seeded, with no
other data:

**namesakes**: every case again, three times, each time with one decoy among the
candidates: a real paper of the file by other people (not a candidate or profile paper
of the case, no author of it in the profile), one of whose authors is renamed to one of the
profile's one-time co-authors (a full first name, on one profile paper only); its text
is kept as it is. A ranker that trusts a name alone lifts the decoy; one that asks for a
second sign (a shared co-author, close content) does not. Reported: the usual metrics for
the case's own paper, and how often the decoy is in the top 5 (the share of variants, and
of the top-5 slots).

**themed**: libraries made of papers that share a topic, the later same-topic papers as
the relevant ones. A topic is a two-word title phrase (English stop words left out) that
at least 12 papers' titles use and whose papers' abstracts are, on average, at least
:data:`COHERENCE` times as alike (TF-IDF cosine) as two papers of the file are: "kv
cache", "speculative decoding", "federated learning", not "language model" or "deep
learning". A phrase whose papers are more than half another, more coherent, topic's is
left out. For each topic, every :data:`STEP_DAYS` days from the day after its 8th paper:
the library is the 8 latest papers with the phrase before that day, the candidates are
every paper of the file from the following :data:`WINDOW_DAYS` days, and the relevant ones
are those with the phrase in their title (a case needs one). The phrase stays in every
text: the blend uses no keywords, so the words that define the topic are fair evidence.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from arxiv_digest.names import author_key
from arxiv_digest.relevance.authors import AuthorIndex

LIBRARY = 8  # papers of a themed library
MIN_TOPIC = 12  # titles a topic phrase needs: a library and a few later papers
COHERENCE = 3.0  # times the file's average cosine between two papers
WINDOW_DAYS = 7
STEP_DAYS = 14
DECOYS = 3  # variants per case in the namesakes track, one decoy each
# The blend before issue 17 (names counted without corroboration, nearest paper alone):
# what "today's blend" means in the namesakes and themed tracks.
BASELINE = "d17b24f9e9ec8b5d13375aa0d502557be2b88bb8"
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class TrackCase:
    name: str
    profile: tuple[str, ...]
    candidates: tuple[str, ...]
    relevant: frozenset[str]
    decoys: frozenset[str] = frozenset()


# -- themed libraries -----------------------------------------------------------------------


def topic_phrases(
    ids: Sequence[str], titles: Sequence[str], abstracts: Sequence[str]
) -> list[tuple[str, list[str]]]:
    """(phrase, ids of the papers whose title has it), most coherent first (module doc)."""
    counts = CountVectorizer(
        ngram_range=(2, 2),
        stop_words="english",
        token_pattern=r"(?u)\b[^\W\d_][\w]+\b",
        binary=True,
    )
    in_title = counts.fit_transform(titles).tocsc()
    terms = counts.get_feature_names_out()
    vectors = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2).fit_transform(
        abstracts
    )
    n = vectors.shape[0]
    total = np.asarray(vectors.sum(axis=0)).ravel()
    average = (float(total @ total) - n) / (n * (n - 1))  # mean cosine of two distinct papers
    found = []
    for j, term in enumerate(terms):
        rows = in_title[:, j].nonzero()[0]
        if len(rows) < MIN_TOPIC:
            continue
        sums = np.asarray(vectors[rows].sum(axis=0)).ravel()
        within = (float(sums @ sums) - len(rows)) / (len(rows) * (len(rows) - 1))
        if within >= COHERENCE * average:
            found.append((within / average, str(term), [ids[r] for r in rows]))
    found.sort(key=lambda t: (-t[0], t[1]))
    chosen: list[tuple[str, list[str]]] = []
    taken: set[str] = set()
    for _, term, members in found:
        if len(taken.intersection(members)) > len(members) / 2:
            continue
        chosen.append((term, members))
        taken.update(members)
    return chosen


def themed_cases(papers: dict[str, Any]) -> list[TrackCase]:
    """``papers``: the file's records (``relevance.Record``) by id."""
    ids = sorted(papers)
    day = {i: papers[i].day for i in ids}
    topics = topic_phrases(ids, [papers[i].title for i in ids], [papers[i].abstract for i in ids])
    last = max(day.values())
    cases = []
    for term, members in topics:
        ordered = sorted(members, key=lambda i: (day[i], i))
        start = day[ordered[LIBRARY - 1]] + dt.timedelta(days=1)
        while start <= last:
            end = start + dt.timedelta(days=WINDOW_DAYS)
            profile = [m for m in ordered if day[m] < start][-LIBRARY:]
            candidates = [i for i in ids if start <= day[i] < end]
            relevant = frozenset(i for i in candidates if i in set(members))
            if relevant:
                cases.append(
                    TrackCase(f"{term} @ {start}", tuple(profile), tuple(candidates), relevant)
                )
            start += dt.timedelta(days=STEP_DAYS)
    return cases


# -- namesakes ------------------------------------------------------------------------------


def one_time_coauthors(papers: dict[str, Any], profile: Sequence[str]) -> list[str]:
    """Names (full first names) on exactly one profile paper."""
    on: dict[tuple[str, str], set[str]] = {}
    shown: dict[tuple[str, str], str] = {}
    for pid in profile:
        for name in papers[pid].authors:
            key = author_key(name)
            if key is not None and len(key[0]) > 1:
                on.setdefault(key, set()).add(pid)
                shown.setdefault(key, name)
    return sorted(shown[k] for k, where in on.items() if len(where) == 1)


def namesake_cases(
    papers: dict[str, Any], cases: Sequence[Any], seed: int
) -> tuple[dict[str, Any], list[TrackCase]]:
    """The file's records with the decoys added, and the cases with one decoy each."""
    ids = sorted(papers)
    records = dict(papers)
    out = []
    for case in cases:
        rng = random.Random(f"namesakes:{seed}:{case.name}")
        names = one_time_coauthors(papers, case.profile)
        index = AuthorIndex(papers[p].authors for p in case.profile)
        taken = set(case.candidates) | set(case.profile)
        pool = [
            i
            for i in ids
            if i not in taken
            and papers[i].authors
            and not any(a in index for a in papers[i].authors)
        ]
        for n, name in enumerate(rng.sample(names, min(DECOYS, len(names)))):
            source = papers[rng.choice(pool)]
            authors = list(source.authors)
            authors[rng.randrange(len(authors))] = name
            decoy_id = f"9999.{len(records):05d}"
            records[decoy_id] = replace(source, arxiv_id=decoy_id, authors=tuple(authors))
            out.append(
                TrackCase(
                    f"{case.name} #{n + 1}",
                    tuple(case.profile),
                    (*case.candidates, decoy_id),
                    frozenset(case.relevant),
                    frozenset({decoy_id}),
                )
            )
    return records, out


def decoy_rates(
    cases: Sequence[Any], scores: Sequence[Sequence[float]], tie: Sequence[dict[str, float]]
) -> tuple[float, float]:
    """(share of cases with a decoy in the top 5, share of top-5 slots held by decoys)."""
    with_decoy = slots = 0
    for case, case_scores, order in zip(cases, scores, tie, strict=True):
        ranked = sorted(
            range(len(case.candidates)),
            key=lambda i: (-case_scores[i], order[case.candidates[i]]),
        )[:5]
        held = sum(case.candidates[i] in case.decoys for i in ranked)
        with_decoy += held > 0
        slots += held
    return with_decoy / len(cases), slots / (5 * len(cases))


# -- today's blend, from git --------------------------------------------------------------


def baseline_scores(
    records: dict[str, Any], cases: Sequence[Any], authors: bool, rev: str
) -> list[list[float]]:
    """``score_case`` of the blend at commit ``rev``, run in a child process on that
    commit's ``src/arxiv_digest`` (``git archive``): the same cases, the same inputs."""
    with tempfile.TemporaryDirectory(prefix="arxiv-digest-baseline-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "src/arxiv_digest"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        request = {
            "authors": authors,
            "papers": {
                i: {
                    "title": r.title,
                    "abstract": r.abstract,
                    "authors": list(r.authors),
                    "category": r.category,
                    "day": r.day.isoformat(),
                }
                for i, r in records.items()
            },
            "cases": [{"profile": c.profile, "candidates": c.candidates} for c in cases],
        }
        env = {**os.environ, "PYTHONPATH": str(Path(folder) / "src")}
        child = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("relevance_baseline.py"))],
            input=json.dumps(request).encode(),
            capture_output=True,
            check=True,
            env=env,
        )
    scores: list[list[float]] = json.loads(child.stdout)
    return scores
