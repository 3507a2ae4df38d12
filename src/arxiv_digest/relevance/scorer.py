"""The library's signals for one day's candidates: similarity, authors and the model of
the reader's ratings, with the words that explain them.

Ranking (``rank.Ranker``) adds these to the keyword points with the configured weights:

    score = weights.keywords × keyword points
          + weights.similarity × max(similarity, 0)      (similarity in standard deviations)
          + weights.library_authors × Σ (1 + log2 n) over the paper's authors in the
            library, n being how many library papers that author has (so a one-time
            co-author counts 1 and someone you read eight papers of counts 4)
          + weights.ratings × ratings model's score      (once learned; may be negative)
          + weights.categories × category fit              (standard deviations; may be
            negative: filed where the library's papers are, or where none of them is)
          + scoring.author × followed authors             (as without a library)
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from arxiv_digest.config import RelevanceSettings
from arxiv_digest.errors import DigestError
from arxiv_digest.models import Paper
from arxiv_digest.relevance.categories import category_fit
from arxiv_digest.relevance.embed import STALE, CachedEmbedder, text_key
from arxiv_digest.relevance.learned import taste
from arxiv_digest.relevance.library import Library, LibraryPaper
from arxiv_digest.relevance.similarity import document, similarity

log = logging.getLogger(__name__)

TITLE_SHOWN = 80  # characters of a library title quoted in "similar to ..."
LIKED = 1.0  # the ratings model's score (standard deviations) that is worth saying


@dataclass(frozen=True, slots=True)
class Relevance:
    similarity: float  # standard deviations above the day's average
    similar_to: str  # the closest library paper's title
    library_authors: tuple[str, ...]  # the paper's authors found in the library
    author_points: float = 0.0  # Σ (1 + log2 library papers) over library_authors
    in_library: str = ""  # the source that holds this very paper ("rated up", "refs.bib")
    taste: float | None = None  # the ratings model's score (standard deviations), if learned
    category_fit: float = 0.0  # standard deviations above the day's average (categories.py)


def author_key(name: str) -> tuple[str, str] | None:
    """First and last name, accents, case and punctuation folded ("Raúl González" =
    "raul gonzalez"); None for a one-word name."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = [w for w in "".join(c if c.isalnum() else " " for c in plain).split() if w]
    if len(words) < 2:
        return None
    return (words[0], words[-1])


class _AuthorIndex:
    """Names in the library and how many library papers each has. Full first names must
    agree ("Wei Wang" is not "Wen Wang"); an initial on either side agrees with any first
    name of that letter ("J. Doe")."""

    def __init__(self, papers: Iterable[Iterable[str]]) -> None:
        self.full: Counter[tuple[str, str]] = Counter()
        self.initials: Counter[tuple[str, str]] = Counter()
        self.initial_only: Counter[tuple[str, str]] = Counter()
        for names in papers:
            keys = {key for name in names if (key := author_key(name))}
            self.full.update(k for k in keys if len(k[0]) > 1)
            self.initials.update({(k[0][0], k[1]) for k in keys})
            self.initial_only.update(k for k in keys if len(k[0]) == 1)

    def papers(self, name: str) -> int:
        """How many library papers this name is an author of (0: not in the library)."""
        key = author_key(name)
        if key is None:
            return 0
        first, last = key
        if len(first) == 1:
            return self.initials[(first, last)]
        return self.full[key] + self.initial_only[(first[0], last)]

    def __contains__(self, name: str) -> bool:
        return self.papers(name) > 0

    def __bool__(self) -> bool:
        return bool(self.initials)


def paper_key(paper: Paper) -> str:
    """The vector cache's key of a paper version's text."""
    return f"arxiv:{paper.arxiv_id}v{paper.version}"


MODEL_TEXT_CHARS = 600


def model_text(title: str, abstract: str) -> str:
    """What an embedding model reads: the title, then the abstract's first ~600 characters.

    The topic is in the title and the first sentences; a small model reads at most 256
    tokens (about 1,100 characters) anyway, and its time grows with every token: cut here,
    1,500 new papers embed in about half the time (docs/benchmarks.md).
    """
    text = f"{title}. {abstract}".strip()
    if len(text) <= MODEL_TEXT_CHARS:
        return text
    cut = text[:MODEL_TEXT_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut[MODEL_TEXT_CHARS // 2 :] else cut


def _library_key(paper: LibraryPaper) -> str:
    return text_key(paper.key, model_text(paper.title, paper.abstract))


class RelevanceScorer:
    """Scores candidates against one library; build it once per run.

    With ``vectors`` (an embedding model behind a cache), the model's cosines join the
    similarity; if the model fails, a warning says so and the words alone count.
    """

    def __init__(
        self,
        settings: RelevanceSettings,
        library: Library,
        vectors: CachedEmbedder | None = None,
    ) -> None:
        self.settings = settings
        self.library = library.papers
        self.rated_down = library.rated_down
        self.rated = library.rated
        self.vectors = vectors
        self._documents = [document(p.title, p.abstract) for p in self.library]
        self._authors = _AuthorIndex(p.authors for p in self.library)
        self._categories = [p.categories[0] if p.categories else "" for p in self.library]

    def _model_cosines(self, papers: Sequence[Paper]) -> npt.NDArray[np.float64] | None:
        if self.vectors is None or not papers or not self.library:
            return None
        library_keys = [_library_key(p) for p in self.library]
        library_texts = [model_text(p.title, p.abstract) for p in self.library]
        keys = [paper_key(p) for p in papers]
        texts = [model_text(p.title, p.abstract) for p in papers]
        try:
            refs = self.vectors.vectors(library_keys, library_texts)
            docs = self.vectors.vectors(keys, texts)
            if docs.shape[1] != refs.shape[1]:  # one side's stored vectors are a former model's
                log.warning(STALE, self.vectors.name)
                refs = self.vectors.vectors(library_keys, library_texts, refresh=True)
                docs = self.vectors.vectors(keys, texts, refresh=True)
            if docs.shape[1] != refs.shape[1]:
                raise DigestError(f"{docs.shape[1]}- and {refs.shape[1]}-dimensional vectors")
        except DigestError as exc:
            log.warning(
                "relevance.embedder %s failed, ranking by word statistics only: %s",
                self.vectors.name,
                exc,
            )
            self.vectors = None  # not again for every call of this run
            return None
        cosines: npt.NDArray[np.float64] = (docs @ refs.T).astype(np.float64)
        return cosines

    def assess(self, papers: Sequence[Paper]) -> list[Relevance]:
        position = {p.arxiv_id: i for i, p in enumerate(self.library) if p.arxiv_id}
        same = [(i, position[p.arxiv_id]) for i, p in enumerate(papers) if p.arxiv_id in position]
        texts = [document(p.title, p.abstract) for p in papers]
        found = similarity(texts, self._documents, same, self._model_cosines(papers))
        fits = category_fit([p.primary_category for p in papers], self._categories)
        itself = dict(same)
        views = [
            Relevance(
                similarity=float(found.z[i]),
                similar_to=self._title(int(found.nearest[i])),
                library_authors=self._in_library(paper.authors),
                author_points=self._author_points(paper.authors),
                category_fit=float(fits[i]),
            )
            if i not in itself
            else Relevance(
                float(found.z[i]), "", (), in_library=self.library[itself[i]].source or "library"
            )
            for i, paper in enumerate(papers)
        ]
        learned = taste(self.rated, texts, self.settings.min_ratings)
        if learned is None:
            return views
        return [
            replace(view, taste=float(score)) for view, score in zip(views, learned, strict=True)
        ]

    def _title(self, index: int) -> str:
        if not self.library:
            return ""
        title = self.library[index].title or self.library[index].key
        return title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1].rstrip() + "…"

    def _in_library(self, authors: Sequence[str]) -> tuple[str, ...]:
        if not self._authors:
            return ()
        return tuple(a for a in authors if a in self._authors)

    def _author_points(self, authors: Sequence[str]) -> float:
        if not self._authors:
            return 0.0
        counts = (self._authors.papers(a) for a in authors)
        return float(sum(1 + math.log2(n) for n in counts if n > 0))

    def points(self, relevance: Relevance) -> float:
        weights = self.settings.weights
        similar = weights.similarity * max(relevance.similarity, 0.0)
        liked = weights.ratings * relevance.taste if relevance.taste is not None else 0.0
        filed = weights.categories * relevance.category_fit
        return float(similar + weights.library_authors * relevance.author_points + liked + filed)

    def admits(self, relevance: Relevance) -> bool:
        """Enough on its own to enter the digest without a keyword."""
        if relevance.taste is not None and relevance.taste >= LIKED:
            return True
        return bool(relevance.library_authors or relevance.in_library) or (
            relevance.similarity >= self.settings.min_similarity and bool(self.library)
        )


def explain(
    relevance: Relevance | None,
    scorer: RelevanceScorer | None,
    matched: Sequence[str],
    followed: Sequence[str],
) -> str:
    """The paper's one-line "why", strongest reason first."""
    if relevance is None or scorer is None:
        return ""
    reasons = []
    if relevance.in_library:
        reasons.append(f"in your library ({relevance.in_library})")
    if relevance.taste is not None and relevance.taste >= LIKED:
        reasons.append("like papers you rated 👍")
    if scorer.admits(relevance) and relevance.similarity > 0 and relevance.similar_to:
        reasons.append(f"similar to “{relevance.similar_to}”")
    for name in relevance.library_authors[:2]:
        reasons.append(f"by {name} (in your library)")
    if len(relevance.library_authors) > 2:
        reasons.append(f"and {len(relevance.library_authors) - 2} more in your library")
    for name in followed:
        reasons.append(f"by {name} (followed)")
    if matched:
        reasons.append(f"matched {', '.join(matched)}")
    return "; ".join(reasons)
