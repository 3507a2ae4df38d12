"""The library's signals for one day's candidates: similarity, authors and the model of
the reader's ratings, with the words that explain them.

Ranking (``rank.Ranker``) adds these to the keyword points with the configured weights:

    score = weights.keywords × keyword points
          + weights.similarity × max(similarity, 0)      (similarity in standard deviations)
          + weights.library_authors × Σ (1 + log2 n) over the paper's authors in the
            library whose match is corroborated (authors.py: a shared co-author, close
            content or a rare name), n being how many library papers that author has (so a
            one-time co-author counts 1 and someone you read eight papers of counts 4)
          + weights.ratings × ratings model's score      (once learned; may be negative)
          + weights.categories × category fit              (standard deviations; may be
            negative: filed where the library's papers are, or where none of them is)
          + scoring.author × followed authors             (as without a library)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from arxiv_digest.config import RelevanceSettings
from arxiv_digest.errors import DigestError
from arxiv_digest.models import Paper
from arxiv_digest.relevance.authors import AuthorIndex, Match, corroboration
from arxiv_digest.relevance.categories import category_fit
from arxiv_digest.relevance.embed import STALE, CachedEmbedder, text_key
from arxiv_digest.relevance.learned import taste
from arxiv_digest.relevance.library import Library, LibraryPaper
from arxiv_digest.relevance.similarity import Similarity, document, similarity
from arxiv_digest.relevance.topics import TopicWords, common_phrases
from arxiv_digest.sources.text import clean_prose

log = logging.getLogger(__name__)

TITLE_SHOWN = 80  # characters of a library title quoted in "similar to ..."
LIKED = 1.0  # the ratings model's score (standard deviations) that is worth saying


@dataclass(frozen=True, slots=True)
class Relevance:
    similarity: float  # standard deviations above the day's average
    similar_to: str  # the closest library paper's title
    library_authors: tuple[str, ...]  # the paper's authors found in the library, corroborated
    author_points: float = 0.0  # Σ (1 + log2 library papers) over library_authors
    in_library: str = ""  # the source that holds this very paper ("rated up", "refs.bib")
    taste: float | None = None  # the ratings model's score (standard deviations), if learned
    category_fit: float = 0.0  # standard deviations above the day's average (categories.py)
    cosine: float = 0.0  # to the closest library paper
    by_theme: bool = False  # close to the nearest paper's topic more than to that paper
    theme: str = ""  # then the topic's words ("federated learning"), if the paper uses them
    topic_papers: int = 1  # papers in the nearest paper's topic
    matches: tuple[Match, ...] = ()  # every author name found in the library, corroborated or not
    measures: tuple[tuple[str, float], ...] = ()  # the similarity's parts, standard deviations

    @property
    def namesakes(self) -> tuple[str, ...]:
        """Names found in the library that nothing says are the same person."""
        return tuple(m.name for m in self.matches if not m.corroborated)


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


Matrix = npt.NDArray[np.float64]


def _library_key(paper: LibraryPaper) -> str:
    return text_key(paper.key, model_text(paper.title, paper.abstract))


class _Themes:
    """The words of the library's topics, made when a paper needs them (one day's)."""

    def __init__(self, library: Sequence[LibraryPaper], titles: Sequence[str]) -> None:
        self.library = library
        self.titles = titles
        self._common: set[str] | None = None
        self._topics: dict[tuple[int, ...], TopicWords] = {}

    def phrase(self, members: tuple[int, ...], text: str) -> str:
        if self._common is None:
            self._common = common_phrases(self.titles)
        if members not in self._topics:
            titles = [self.library[m].title for m in members]
            self._topics[members] = TopicWords(titles, self._common)
        return self._topics[members].phrase(text)


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
        self.rates = library.name_rates
        self._documents = [document(p.title, p.abstract) for p in self.library]
        self._authors = AuthorIndex(p.authors for p in self.library)
        self._categories = [p.categories[0] if p.categories else "" for p in self.library]

    def _model_cosines(self, papers: Sequence[Paper]) -> tuple[Matrix | None, Matrix | None]:
        """The model's cosines of the candidates to the library, and the library's vectors."""
        if self.vectors is None or not papers or not self.library:
            return None, None
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
            return None, None
        cosines: Matrix = (docs @ refs.T).astype(np.float64)
        return cosines, refs.astype(np.float64)

    def assess(self, papers: Sequence[Paper]) -> list[Relevance]:
        position = {p.arxiv_id: i for i, p in enumerate(self.library) if p.arxiv_id}
        same = [(i, position[p.arxiv_id]) for i, p in enumerate(papers) if p.arxiv_id in position]
        texts = [document(p.title, p.abstract) for p in papers]
        model, model_library = self._model_cosines(papers)
        found = similarity(texts, self._documents, same, model, model_library)
        fits = category_fit([p.primary_category for p in papers], self._categories)
        itself = dict(same)
        words = _Themes(self.library, [p.title for p in papers])
        views = [
            self._view(paper, found, i, float(fits[i]), words)
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

    def _view(
        self, paper: Paper, found: Similarity, i: int, fit: float, words: _Themes
    ) -> Relevance:
        z = float(found.z[i])
        topic = int(found.topic[i]) if found.topics else 0
        members = found.topics[topic] if found.topics else ()
        by_theme = bool(found.by_topic[i]) if found.topics else False
        theme = ""
        if by_theme and z > 0:
            theme = words.phrase(members, f"{paper.title}. {paper.abstract}")
        matches = corroboration(self._authors, paper.authors, z, self.rates)
        trusted = tuple(m for m in matches if m.corroborated)
        return Relevance(
            similarity=z,
            similar_to=self._title(int(found.nearest[i])),
            cosine=float(found.cosine[i]),
            library_authors=tuple(m.name for m in trusted),
            author_points=float(sum(1 + math.log2(m.papers) for m in trusted)),
            category_fit=fit,
            by_theme=by_theme,
            theme=theme,
            topic_papers=max(len(members), 1),
            matches=matches,
            measures=tuple((name, float(v[i])) for name, v in found.parts.items()),
        )

    def _title(self, index: int) -> str:
        if not self.library:
            return ""
        title = clean_prose(self.library[index].title or self.library[index].key)
        return title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1].rstrip() + "…"

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
    if scorer.admits(relevance) and relevance.similarity > 0:
        if relevance.by_theme:
            on = f" on {relevance.theme}" if relevance.theme else ""
            reasons.append(f"close to your library{on}")
        elif relevance.similar_to:
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
