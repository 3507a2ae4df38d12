"""Relevance ranking against a labelled set: random, keywords, TF-IDF, MiniLM, the blend.

    .venv/bin/python bench/relevance.py PATH [--json] [--tracks content,full,...] [--seed 1]
                                             [--weight categories=0.25 ...] [--baseline REV]

PATH is a file in the format of ``../shared/relevance/author-continuity-dev.json``::

    {"papers": {id: {"arxiv_id", "title", "abstract", "authors", "category", "day"}},
     "cases":  [{"case", "profile": [id], "candidates": [id], "relevant": [id]}]}

Each case is one researcher: ``profile`` stands for their library, and the ``relevant``
candidates (their later papers) are hidden among about 140 papers shown the same week.
Tracks: ``content`` drops every author list before ranking (text alone), ``full`` keeps them.
Two more are built from the same file (``relevance_tracks.py``): ``namesakes``, every case
with a decoy carrying one of the profile's one-time co-author names (authors kept), and
``themed``, libraries of eight papers sharing a topic with the topic's later papers as the
relevant ones (authors kept; ``themed-text`` drops them). For each track and method it
prints MRR (of the first relevant candidate), hit@5 and nDCG@10 (binary gains), the time
per method and the machine (on ``namesakes``, also how often the decoy is in the top 5);
``--json`` prints only ``{track: {method: {"mrr", "hit5", "ndcg10"[, "decoy_top5",
"decoy_slots"]}}}``.

Methods (ties in a score are broken by one seeded shuffle per case, the same for all):

``random``
    Seeded random scores.
``keyword-only``
    What a keyword-only user gets: arxiv-digest's own matcher (``Matcher``, word mode) and
    the default keyword points (``scoring.keyword`` per keyword in title+abstract, plus
    ``scoring.title`` per keyword in the title). The keywords stand for the ones the
    researcher would write down: the 10 title terms (words and two-word phrases, English stop
    words left out) with the largest summed TF-IDF weight over the profile's titles, the
    IDF taken over every paper of the file. Terms the researcher keeps using but few others
    do rank first, which is what a hand-written keyword list is meant to capture.
    Text only, so both tracks give the same figures.
``tfidf-mean``
    TF-IDF (scikit-learn, 1-2-grams, sublinear tf, English stop words, terms in at least two
    papers: a term of one paper links nothing) of title + abstract, fitted on every paper of
    the file; a candidate's score is its mean cosine to the profile papers.
``zotero-arxiv-daily``
    That bot's ranking, with all-MiniLM-L6-v2 (the offline int8 copy, ``tests/minilm.py``):
    the profile is ordered newest first (by ``day``) and the paper of recency rank r
    (1 = newest) weighs 1 / (1 + log10 r), the weights normalised to sum to one; a
    candidate's score is the weighted sum of its cosines to the profile papers. So the
    newest library items count most and the weight falls off slowly (rank 10 weighs half
    of rank 1). Title + abstract are embedded.
``arxiv-digest``
    The project's default blend, ``arxiv_digest.relevance.score_case`` (skipped with a note
    when that is not importable).
``baseline``
    The blend of commit ``--baseline`` (default: the last one before issue 17, which
    counted every library name without corroboration and compared each new paper with its
    nearest library paper alone), run in a child process on that commit's sources
    (``git archive``): today's blend against the new, in the same run. ``--baseline none``
    leaves it out.
``arxiv-digest+minilm``
    The blend with ``relevance.embedder`` set to all-MiniLM-L6-v2 (the offline int8 copy):
    ``score_case(..., embedder=...)``, the model's cosines (mean and nearest) joining the
    word statistics. The vectors are ``zotero-arxiv-daily``'s (one model, one text), so
    the model embeds nothing more.
``arxiv-digest+ratings``
    The blend after learning from ratings. Per case the days are revealed in order up to the
    day of the last relevant candidate D: every relevant candidate announced before D is
    rated up (the reader's own paper, seen and liked), and on each earlier day 3 of the
    day's 10 best-ranked other candidates (by the blend without ratings: what the digest
    showed) are rated down, chosen by a seeded draw. All candidates, rated ones included (so
    their text is there to learn from), go to ``score_case(..., ratings=...)``; the rated
    papers have been seen, so the metrics rank only the others. The table also gives the
    blend without ratings on the same remaining candidates, for comparison.
    Skipped when ``score_case`` takes no ``ratings``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from arxiv_digest.config import ScoringSettings
from arxiv_digest.match import Matcher
from arxiv_digest.models import Paper
from corpus import machine
from relevance_tracks import (
    BASELINE,
    baseline_scores,
    decoy_rates,
    namesake_cases,
    themed_cases,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' offline MiniLM
from tests.minilm import DEFAULT_DIR, load_minilm

TRACKS = ("content", "full", "namesakes", "themed", "themed-text")
TEXT_TRACKS = {"content", "themed-text"}  # author lists dropped before ranking
METHODS = (
    "random",
    "keyword-only",
    "tfidf-mean",
    "zotero-arxiv-daily",
    "arxiv-digest",
    "arxiv-digest+minilm",
    "arxiv-digest+ratings",
)
KEYWORDS_PER_PROFILE = 10
SHOWN_PER_DAY = 10  # the digest's top papers of a day, what a reader sees and may rate
DOWN_PER_DAY = 3
OPTIONS: dict[str, Any] = {"cache": True, "weights": {}, "baseline": BASELINE}  # command line

Scores = list[list[float]]  # per case, per candidate
Vectors = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Record:
    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    category: str
    day: dt.date

    @property
    def text(self) -> str:
        return f"{self.title}. {self.abstract}"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    profile: tuple[str, ...]
    candidates: tuple[str, ...]
    relevant: frozenset[str]
    decoys: frozenset[str] = frozenset()  # namesakes track: the renamed papers


@dataclass(slots=True)
class Dataset:
    papers: dict[str, Record]
    cases: list[Case]
    index: dict[str, int] = field(default_factory=dict)  # arxiv id -> row in ``ids``
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = sorted(self.papers)
        self.index = {pid: i for i, pid in enumerate(self.ids)}

    def rows(self, ids: Sequence[str]) -> list[int]:
        return [self.index[i] for i in ids]


def load(path: Path) -> Dataset:
    raw = json.loads(path.read_text(encoding="utf-8"))
    papers = {
        pid: Record(
            arxiv_id=p["arxiv_id"],
            title=p["title"],
            abstract=p["abstract"],
            authors=tuple(p["authors"]),
            category=p["category"],
            day=dt.date.fromisoformat(p["day"]),
        )
        for pid, p in raw["papers"].items()
    }
    cases = [
        Case(c["case"], tuple(c["profile"]), tuple(c["candidates"]), frozenset(c["relevant"]))
        for c in raw["cases"]
    ]
    return Dataset(papers, cases)


# -- metrics ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metrics:
    mrr: float
    hit5: float
    ndcg10: float

    def as_json(self) -> dict[str, float]:
        return {
            "mrr": round(self.mrr, 4),
            "hit5": round(self.hit5, 4),
            "ndcg10": round(self.ndcg10, 4),
        }


def tiebreak(case: Case, seed: int) -> dict[str, float]:
    """One seeded shuffle of a case's candidates: the order among equal scores."""
    rng = random.Random(f"{seed}:{case.name}")
    return {pid: rng.random() for pid in case.candidates}


def case_metrics(
    candidates: Sequence[str],
    scores: Sequence[float],
    relevant: frozenset[str],
    tie: Mapping[str, float],
) -> tuple[float, float, float]:
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], tie[candidates[i]]))
    hits = [candidates[i] in relevant for i in order]
    first = hits.index(True) + 1 if any(hits) else math.inf
    dcg = sum(1 / math.log2(r + 2) for r, hit in enumerate(hits[:10]) if hit)
    ideal = sum(1 / math.log2(r + 2) for r in range(min(sum(hits), 10)))
    return 1 / first, float(first <= 5), dcg / ideal if ideal else 0.0


def evaluate(
    cases: Sequence[Case], candidates: Sequence[Sequence[str]], scores: Scores, seed: int
) -> Metrics:
    rows = [
        case_metrics(cands, s, case.relevant, tiebreak(case, seed))
        for case, cands, s in zip(cases, candidates, scores, strict=True)
    ]
    mrr, hit5, ndcg = (float(np.mean(col)) for col in zip(*rows, strict=True))
    return Metrics(mrr, hit5, ndcg)


# -- methods ------------------------------------------------------------------------------


class Skipped(Exception):
    """A method that cannot run here; the message says why."""


def random_scores(data: Dataset, track: str, seed: int) -> Scores:
    del track
    out = []
    for case in data.cases:
        rng = random.Random(f"random:{seed}:{case.name}")
        out.append([rng.random() for _ in case.candidates])
    return out


def profile_keywords(data: Dataset, k: int = KEYWORDS_PER_PROFILE) -> list[list[str]]:
    """Per case, the profile's ``k`` most distinctive title terms (see the module docstring)."""
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        stop_words="english",
        token_pattern=r"(?u)\b[^\W\d_][\w]+\b",  # words of 2+ characters starting with a letter
        sublinear_tf=True,
    )
    titles = vectorizer.fit_transform([data.papers[i].title for i in data.ids])
    terms = vectorizer.get_feature_names_out()
    out = []
    for case in data.cases:
        weights = np.asarray(titles[data.rows(case.profile)].sum(axis=0)).ravel()
        top = sorted(np.flatnonzero(weights), key=lambda j: (-weights[j], terms[j]))[:k]
        out.append([str(terms[j]) for j in top])
    return out


def keyword_scores(data: Dataset, track: str, seed: int) -> Scores:
    del track, seed
    points = ScoringSettings()
    out = []
    for case, keywords in zip(data.cases, profile_keywords(data), strict=True):
        matcher = Matcher(keywords, "word")
        scores = []
        for pid in case.candidates:
            paper = data.papers[pid]
            in_text = matcher.found(matcher.prepare(f"{paper.title} {paper.abstract}"))
            in_title = matcher.found(matcher.prepare(paper.title)) if in_text else []
            scores.append(points.keyword * len(in_text) + points.title * len(in_title))
        out.append(scores)
    return out


def cosine_scores(
    data: Dataset, vectors: Vectors, weights: Callable[[Case], NDArray[np.float64]]
) -> Scores:
    """Per candidate, the ``weights``-weighted sum of its cosines to the profile papers."""
    out = []
    for case in data.cases:
        sim = vectors[data.rows(case.candidates)] @ vectors[data.rows(case.profile)].T
        out.append([float(s) for s in np.asarray(sim) @ weights(case)])
    return out


def tfidf_mean_scores(data: Dataset, track: str, seed: int) -> Scores:
    del track, seed
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, stop_words="english", min_df=2
    )
    matrix = vectorizer.fit_transform([data.papers[i].text for i in data.ids])  # rows L2-normed
    out = []
    for case in data.cases:
        sim = matrix[data.rows(case.candidates)] @ matrix[data.rows(case.profile)].T
        out.append([float(s) for s in np.asarray(sim.mean(axis=1)).ravel()])
    return out


def recency_weights(data: Dataset, case: Case) -> NDArray[np.float64]:
    """zotero-arxiv-daily's weights, in profile order: 1 / (1 + log10 rank), rank 1 newest."""
    newest_first = sorted(
        range(len(case.profile)),
        key=lambda i: (data.papers[case.profile[i]].day, case.profile[i]),
        reverse=True,
    )
    weights: NDArray[np.float64] = np.empty(len(case.profile))
    for rank, i in enumerate(newest_first, start=1):
        weights[i] = 1 / (1 + math.log10(rank))
    total = float(weights.sum())
    return weights / total


_MINILM: dict[int, Vectors] = {}
CACHED: set[str] = set()  # methods whose vectors came from the cache (their time says so)


def minilm_vectors(data: Dataset) -> Vectors:
    """Unit vectors of every paper's title + abstract, kept next to the model folder by a
    hash of the texts (a rerun on the same file embeds nothing; ``--no-cache`` re-embeds)."""
    if id(data) in _MINILM:
        return _MINILM[id(data)]
    texts = [data.papers[i].text for i in data.ids]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    path = DEFAULT_DIR / f"vectors-{digest}.npy"
    if OPTIONS["cache"] and path.exists():
        CACHED.add("zotero-arxiv-daily")
        vectors: Vectors = np.load(path)
    else:
        model = load_minilm()
        vectors = np.array(list(model.embed(texts, batch_size=16)), dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    _MINILM[id(data)] = vectors
    return vectors


def zotero_scores(data: Dataset, track: str, seed: int) -> Scores:
    del track, seed
    return cosine_scores(data, minilm_vectors(data), lambda case: recency_weights(data, case))


# -- the project's blend ------------------------------------------------------------------


def _blend() -> tuple[Callable[..., list[float]], Any]:
    try:
        from arxiv_digest.relevance import LibraryPaper, score_case
    except ImportError as exc:
        raise Skipped(f"arxiv-digest blend not available ({exc})") from exc
    return score_case, LibraryPaper


def blend_options() -> dict[str, Any]:
    """``score_case``'s settings when ``--weight`` changed any (else its defaults)."""
    if not OPTIONS["weights"]:
        return {}
    from arxiv_digest.config import RelevanceSettings

    return {"settings": RelevanceSettings.model_validate({"weights": OPTIONS["weights"]})}


def as_paper(record: Record, track: str) -> Paper:
    return Paper(
        arxiv_id=record.arxiv_id,
        version=1,
        title=record.title,
        authors=() if track in TEXT_TRACKS else record.authors,
        abstract=record.abstract,
        primary_category=record.category,
        categories=(record.category,),
        announce_type="new",
        announced=record.day,
    )


def as_library(record: Record, track: str, library_paper: Any) -> Any:
    return library_paper(
        key=record.arxiv_id,
        title=record.title,
        abstract=record.abstract,
        authors=() if track in TEXT_TRACKS else record.authors,
        arxiv_id=record.arxiv_id,
        added=record.day,
        source="bench",
        categories=(record.category,),  # kept on both tracks: only authors are dropped
    )


def blend_inputs(
    data: Dataset, case: Case, track: str, library_paper: Any
) -> tuple[list[Any], list[Paper]]:
    profile = [as_library(data.papers[i], track, library_paper) for i in case.profile]
    return profile, [as_paper(data.papers[i], track) for i in case.candidates]


_BLEND: dict[tuple[int, str], Scores] = {}


def blend_scores(data: Dataset, track: str, seed: int) -> Scores:
    del seed
    score_case, library_paper = _blend()
    if (id(data), track) not in _BLEND:
        out = []
        for case in data.cases:
            profile, candidates = blend_inputs(data, case, track, library_paper)
            out.append([float(s) for s in score_case(profile, candidates, **blend_options())])
        _BLEND[id(data), track] = out
    return _BLEND[id(data), track]


class BenchMiniLM:
    """The relevance embedder protocol over the bench's MiniLM vectors (the model itself
    for a text the file does not hold)."""

    name = "fastembed:all-MiniLM-L6-v2-int8"

    def __init__(self, data: Dataset) -> None:
        self.vectors = minilm_vectors(data)
        self.row = {data.papers[i].text: n for n, i in enumerate(data.ids)}
        self._model: Any = None

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[Vectors] = []
        for text in texts:
            if text in self.row:
                rows.append(self.vectors[self.row[text]])
                continue
            if self._model is None:
                self._model = load_minilm()
            rows.append(np.asarray(next(iter(self._model.embed([text]))), dtype=np.float32))
        return np.stack(rows).astype(np.float32)


def blend_minilm_scores(data: Dataset, track: str, seed: int) -> Scores:
    del seed
    score_case, library_paper = _blend()
    if "embedder" not in inspect.signature(score_case).parameters:
        raise Skipped("score_case takes no embedder")
    embedder = BenchMiniLM(data)
    out = []
    for case in data.cases:
        profile, candidates = blend_inputs(data, case, track, library_paper)
        scores = score_case(profile, candidates, embedder=embedder, **blend_options())
        out.append([float(s) for s in scores])
    return out


def simulated_ratings(
    data: Dataset, case: Case, plain: Sequence[float], seed: int
) -> dict[str, int]:
    """The ratings a reader gives before the day of the case's last relevant candidate."""
    days = {pid: data.papers[pid].day for pid in case.candidates}
    last = max(days[pid] for pid in case.relevant)
    rng = random.Random(f"ratings:{seed}:{case.name}")
    ratings = {pid: 1 for pid in sorted(case.relevant) if days[pid] < last}
    score = dict(zip(case.candidates, plain, strict=True))
    for day in sorted({d for d in days.values() if d < last}):
        shown = sorted(
            (pid for pid in case.candidates if days[pid] == day and pid not in case.relevant),
            key=lambda pid: (-score[pid], pid),
        )[:SHOWN_PER_DAY]
        for pid in rng.sample(shown, min(DOWN_PER_DAY, len(shown))):
            ratings[pid] = -1
    return ratings


@dataclass(slots=True)
class RatingsRun:
    """The ratings simulation: after learning, and the blend without ratings, same papers."""

    after: Metrics
    before: Metrics
    ratings: int


def ratings_run(data: Dataset, track: str, seed: int) -> RatingsRun:
    score_case, library_paper = _blend()
    if "ratings" not in inspect.signature(score_case).parameters:
        raise Skipped("score_case takes no ratings")
    plain = blend_scores(data, track, seed)
    cases, remaining, after, before = [], [], [], []
    total = 0
    for case, scores in zip(data.cases, plain, strict=True):
        ratings = simulated_ratings(data, case, scores, seed)
        total += len(ratings)
        keep = [i for i, pid in enumerate(case.candidates) if pid not in ratings]
        left = Case(
            case.name,
            case.profile,
            tuple(case.candidates[i] for i in keep),
            case.relevant - ratings.keys(),
        )
        # score_case sees the rated papers (it learns from their text) among the candidates;
        # only the unrated ones are scored for the metrics
        profile, candidates = blend_inputs(data, case, track, library_paper)
        learned = score_case(profile, candidates, ratings=ratings, **blend_options())
        cases.append(left)
        remaining.append(left.candidates)
        after.append([float(learned[i]) for i in keep])
        before.append([scores[i] for i in keep])
    return RatingsRun(
        evaluate(cases, remaining, after, seed), evaluate(cases, remaining, before, seed), total
    )


# -- running and printing -----------------------------------------------------------------


def baseline_run(data: Dataset, track: str, seed: int) -> Scores:
    del seed
    if OPTIONS["baseline"] in ("", "none"):
        raise Skipped("--baseline none")
    try:
        return baseline_scores(
            data.papers, data.cases, track not in TEXT_TRACKS, OPTIONS["baseline"]
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise Skipped(f"baseline {OPTIONS['baseline'][:10]}: {exc} {detail[-200:]!r}") from exc


SCORERS: dict[str, Callable[[Dataset, str, int], Scores]] = {
    "random": random_scores,
    "keyword-only": keyword_scores,
    "tfidf-mean": tfidf_mean_scores,
    "zotero-arxiv-daily": zotero_scores,
    "baseline": baseline_run,
    "arxiv-digest": blend_scores,
    "arxiv-digest+minilm": blend_minilm_scores,
}
# The tracks built from the file compare the blend with the baseline (and two references).
BUILT_TRACK_METHODS = ("random", "tfidf-mean", "baseline", "arxiv-digest")
TEXT_ONLY = {"random", "keyword-only", "tfidf-mean", "zotero-arxiv-daily"}  # same on both tracks
_TRACK_DATA: dict[tuple[int, str], Dataset] = {}


def track_data(data: Dataset, track: str, seed: int) -> Dataset:
    """The file's cases (content, full), or the cases a track builds from them."""
    if track in ("content", "full"):
        return data
    kind = "themed" if track.startswith("themed") else track
    if (id(data), kind) not in _TRACK_DATA:
        if kind == "namesakes":
            records, built = namesake_cases(data.papers, data.cases, seed)
        else:
            records, built = data.papers, themed_cases(data.papers)
        cases = [Case(c.name, c.profile, c.candidates, c.relevant, c.decoys) for c in built]
        _TRACK_DATA[id(data), kind] = Dataset(records, cases)
    return _TRACK_DATA[id(data), kind]


@dataclass(slots=True)
class Result:
    metrics: Metrics | None
    seconds: float
    note: str = ""
    decoys: tuple[float, float] | None = None  # namesakes: (cases, top-5 slots) with a decoy


def run_track(
    data: Dataset, track: str, seed: int, done: Mapping[str, Result]
) -> dict[str, Result]:
    """``done``: the results of a track on the same cases, for the text-only methods."""
    results: dict[str, Result] = {}
    built = track not in ("content", "full")
    for name, scorer in SCORERS.items():
        if built and name not in BUILT_TRACK_METHODS:
            continue
        if name in TEXT_ONLY and name in done:  # authors play no part: reuse the other track's
            results[name] = Result(done[name].metrics, 0.0, "same as the other track")
            continue
        start = time.perf_counter()
        try:
            scores = scorer(data, track, seed)
        except Skipped as skip:
            results[name] = Result(None, 0.0, str(skip))
            continue
        metrics = evaluate(data.cases, [c.candidates for c in data.cases], scores, seed)
        note = "vectors from the cache" if name in CACHED else ""
        result = Result(metrics, time.perf_counter() - start, note)
        if track == "namesakes":
            ties = [tiebreak(c, seed) for c in data.cases]
            result.decoys = decoy_rates(data.cases, scores, ties)
            result.note = f"decoy in the top 5: {result.decoys[0]:.1%} of cases"
        results[name] = result
    if built:
        return results
    start = time.perf_counter()
    try:
        run = ratings_run(data, track, seed)
    except Skipped as skip:
        results["arxiv-digest+ratings"] = Result(None, 0.0, str(skip))
    else:
        b = run.before
        note = (
            f"{run.ratings} ratings; without them on the same remaining candidates: "
            f"MRR {b.mrr:.3f}, hit@5 {b.hit5:.2f}, nDCG@10 {b.ndcg10:.3f}"
        )
        results["arxiv-digest+ratings"] = Result(run.after, time.perf_counter() - start, note)
    return results


def as_json(result: Result) -> dict[str, float]:
    assert result.metrics is not None
    figures = result.metrics.as_json()
    if result.decoys is not None:
        figures["decoy_top5"] = round(result.decoys[0], 4)
        figures["decoy_slots"] = round(result.decoys[1], 4)
    return figures


def table(track: str, results: Mapping[str, Result], cases: int) -> str:
    lines = [
        f"track {track} ({cases} cases)",
        f"  {'method':<22} {'MRR':>6} {'hit@5':>6} {'nDCG@10':>8} {'time':>8}",
    ]
    for name, r in results.items():
        if r.metrics is None:
            lines.append(f"  {name:<22} {'-':>6} {'-':>6} {'-':>8} {'-':>8}  {r.note}")
            continue
        m = r.metrics
        lines.append(
            f"  {name:<22} {m.mrr:>6.3f} {m.hit5:>6.2f} {m.ndcg10:>8.3f} {r.seconds:>7.1f}s"
            + (f"  {r.note}" if r.note else "")
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("path", type=Path, help="labelled set (papers + cases), JSON")
    parser.add_argument("--json", action="store_true", help="print only the figures, as JSON")
    parser.add_argument(
        "--tracks", default=",".join(TRACKS), help=f"a subset of {','.join(TRACKS)} (all)"
    )
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        metavar="REV",
        help="the commit whose blend is the baseline row (none: no baseline)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cache", action="store_true", help="embed again with MiniLM")
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a relevance.weights value for the blend rows, e.g. categories=0 (repeatable)",
    )
    args = parser.parse_args(argv)
    OPTIONS["cache"] = not args.no_cache
    OPTIONS["baseline"] = args.baseline
    try:
        OPTIONS["weights"] = {k: float(v) for k, v in (w.split("=", 1) for w in args.weight)}
    except ValueError:
        parser.error("--weight: NAME=NUMBER, e.g. categories=0.25")
    tracks = [t.strip() for t in args.tracks.split(",") if t.strip()]
    if not tracks or set(tracks) - set(TRACKS):
        parser.error(f"--tracks: a comma-separated subset of {','.join(TRACKS)}")
    os.environ["HF_HUB_OFFLINE"] = "1"  # never a download: the model is the local copy
    data = load(args.path)
    everything: dict[str, dict[str, Result]] = {}
    done: dict[int, dict[str, Result]] = {}  # per set of cases
    for track in tracks:
        cases = track_data(data, track, args.seed)
        everything[track] = run_track(cases, track, args.seed, done.get(id(cases), {}))
        done[id(cases)] = everything[track]
    if args.json:
        print(
            json.dumps(
                {
                    track: {n: as_json(r) for n, r in res.items() if r.metrics}
                    for track, res in everything.items()
                }
            )
        )
        return 0
    print(f"{args.path.name}: {len(data.cases)} cases, {len(data.papers)} papers")
    for track in tracks:
        cases = track_data(data, track, args.seed)
        print(table(track, everything[track], len(cases.cases)))
    print(f"machine: {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
