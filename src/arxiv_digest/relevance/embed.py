"""Embedding models for the library similarity (``relevance.embedder``), vectors cached.

* ``"fastembed:<model>"``: a local ONNX model (fastembed, the ``fastembed`` extra),
  downloaded once into ``relevance.cache_dir`` or read from ``relevance.model_path``;
* ``"openai:<model>"``: the ``ai_summary`` endpoint's ``/embeddings`` (same key, base URL,
  retries and deadline as the summaries);
* ``"tfidf"``: no model (:func:`make_embedder` returns None).

:class:`CachedEmbedder` asks the model only for texts whose key it has no vector for, and
keeps the new ones (in the store during a run, in memory for the bench): a rerun embeds
nothing. A model that fails is an :class:`EmbedError`; the ranking then goes on with the
word statistics alone (``RelevanceScorer``).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from arxiv_digest.config import Settings
from arxiv_digest.errors import ConfigError, DigestError
from arxiv_digest.retry import Sleep

log = logging.getLogger(__name__)
Matrix = npt.NDArray[np.float32]  # one L2-normalised row per text
Vector = npt.NDArray[np.float32]
# Small batches of length-sorted texts: on 2 cores 1,500 papers' model_text took 42.6 s in
# batches of 8, 50.1 s in 16 and 60.8 s in 64 (docs/benchmarks.md, "Embedding speed").
FASTEMBED_BATCH = 8
OPENAI_BATCH = 10  # DashScope's text-embedding-v3/v4 take at most 10 texts per request

__all__ = [
    "CachedEmbedder",
    "EmbedError",
    "Embedder",
    "FastEmbedder",
    "MemoryVectors",
    "OpenAIEmbedder",
    "VectorCache",
    "check_embedder",
    "make_embedder",
    "make_vectors",
    "text_key",
]


class EmbedError(DigestError):
    """The model could not embed the texts (not loadable, the API kept failing...)."""


class Embedder(Protocol):
    name: str  # the ``relevance.embedder`` value: what the cached vectors are filed under

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalised float32 row per text, in order."""
        ...


class VectorCache(Protocol):
    def cached_vectors(self, keys: Sequence[str], embedder: str) -> dict[str, Vector]: ...

    def save_vectors(self, vectors: Mapping[str, Vector], embedder: str) -> None: ...


def normalised(rows: Any) -> Matrix:
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2:
        raise EmbedError(f"the model answered {matrix.ndim}-dimensional data, not vectors")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: Matrix = (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return result


def text_key(key: str, text: str) -> str:
    """A cache key for a text that may change under the same key (a library entry)."""
    return f"{key}#{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _import_fastembed(model: str) -> Any:
    try:
        return importlib.import_module("fastembed")
    except ImportError:
        raise ConfigError(
            f"relevance.embedder: 'fastembed:{model}' needs fastembed: "
            "pip install 'arxiv-digest[fastembed]'"
        ) from None


def check_embedder(settings: Settings) -> None:
    """The configured model can be used (installed, key set): a ConfigError before any
    request otherwise. Nothing is loaded or asked."""
    relevance = settings.relevance
    if relevance is None or relevance.embedder == "tfidf":
        return
    kind, _, model = relevance.embedder.partition(":")
    if kind == "fastembed":
        _import_fastembed(model)
    elif kind == "openai":
        _openai_key(model, settings)


def _openai_key(model: str, settings: Settings) -> str:
    from arxiv_digest.summarize.runner import api_key_for

    key = api_key_for(settings)
    if key is None:
        raise ConfigError(
            f"relevance.embedder: 'openai:{model}' needs the API key in the environment "
            f"variable {settings.ai_summary.api_key_env} (ai_summary.api_key_env)"
        )
    return key


class FastEmbedder:
    """A local ONNX model through fastembed; loaded at the first texts to embed."""

    def __init__(
        self, model: str, *, cache_dir: Path | None = None, model_path: Path | None = None
    ) -> None:
        self._fastembed = _import_fastembed(model)
        self.name = f"fastembed:{model}"
        self.model = model
        self.cache_dir = cache_dir
        self.model_path = model_path
        self._loaded: Any = None

    def _load(self) -> Any:
        if self._loaded is None:
            options: dict[str, Any] = {}
            if self.cache_dir is not None:
                options["cache_dir"] = str(self.cache_dir)
            if self.model_path is not None:
                options["specific_model_path"] = str(self.model_path)
            try:
                self._loaded = self._fastembed.TextEmbedding(self.model, **options)
            except Exception as exc:  # fastembed raises ValueError, OSError, HF errors...
                raise EmbedError(f"{self.name}: cannot load the model: {exc}") from exc
        return self._loaded

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self._load()
        # A batch is padded to its longest text: batches of similar lengths waste less
        # (measured: 12 -> 15 papers/s on full abstracts). The rows are put back in order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        try:
            rows = list(model.embed([texts[i] for i in order], batch_size=FASTEMBED_BATCH))
        except Exception as exc:  # onnxruntime's errors have no common base
            raise EmbedError(f"{self.name}: embedding failed: {exc}") from exc
        unsorted: list[Any] = [None] * len(texts)
        for row, index in zip(rows, order, strict=True):
            unsorted[index] = row
        return normalised(unsorted)


class OpenAIEmbedder:
    """``/embeddings`` of the configured OpenAI-compatible endpoint, a batch per request."""

    def __init__(self, model: str, settings: Settings, *, sleep: Sleep | None = None) -> None:
        from arxiv_digest.summarize.llm import LlmClient

        key = _openai_key(model, settings)
        self.name = f"openai:{model}"
        self.model = model
        self._client = LlmClient(settings.ai_summary, key, settings.http, sleep=sleep)

    def embed(self, texts: Sequence[str]) -> Matrix:
        rows: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_BATCH):
            batch = list(texts[start : start + OPENAI_BATCH])
            try:
                vectors = self._client.embeddings(self.model, batch)
            except DigestError as exc:
                raise EmbedError(f"{self.name}: {exc}") from None
            if len(vectors) != len(batch):
                raise EmbedError(f"{self.name}: {len(vectors)} vectors for {len(batch)} texts")
            rows.extend(vectors)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        try:
            return normalised(rows)
        except ValueError as exc:  # vectors of different lengths
            raise EmbedError(f"{self.name}: malformed vectors ({exc})") from None

    def close(self) -> None:
        self._client.close()


def make_embedder(settings: Settings, *, sleep: Sleep | None = None) -> Embedder | None:
    """The configured model, or None for ``"tfidf"`` (or without a ``relevance`` section)."""
    relevance = settings.relevance
    if relevance is None or relevance.embedder == "tfidf":
        return None
    kind, _, model = relevance.embedder.partition(":")
    if kind == "fastembed":
        return FastEmbedder(model, cache_dir=relevance.cache_dir, model_path=relevance.model_path)
    if kind == "openai":
        return OpenAIEmbedder(model, settings, sleep=sleep)
    raise ConfigError(f"relevance.embedder: unknown kind {kind!r}")


def make_vectors(
    settings: Settings, cache: VectorCache, *, sleep: Sleep | None = None
) -> CachedEmbedder | None:
    """The configured model behind ``cache`` (the store, in a run); None for ``"tfidf"``."""
    embedder = make_embedder(settings, sleep=sleep)
    return CachedEmbedder(embedder, cache) if embedder is not None else None


class MemoryVectors:
    """A :class:`VectorCache` for one process (the bench, ``score_case``)."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], Vector] = {}

    def cached_vectors(self, keys: Sequence[str], embedder: str) -> dict[str, Vector]:
        return {k: v for k in keys if (v := self._vectors.get((k, embedder))) is not None}

    def save_vectors(self, vectors: Mapping[str, Vector], embedder: str) -> None:
        self._vectors.update(((k, embedder), v) for k, v in vectors.items())


STALE = (
    "%s: stored vectors have another size than the model's now (the model changed under "
    "the same name): embedding these texts again, once"
)


class CachedEmbedder:
    """An embedder in front of a cache: only texts whose key has no vector are embedded."""

    def __init__(self, embedder: Embedder, cache: VectorCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.embedded = 0  # texts sent to the model by this object

    @property
    def name(self) -> str:
        return self.embedder.name

    def vectors(
        self, keys: Sequence[str], texts: Sequence[str], *, refresh: bool = False
    ) -> Matrix:
        """A row per key (same order); ``texts[i]`` is embedded if ``keys[i]`` is new, or
        every text with ``refresh`` (the stored vectors are then replaced)."""
        found = {} if refresh else self.cache.cached_vectors(keys, self.name)
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        if missing:
            fresh = self.embedder.embed(list(missing.values()))
            new = dict(zip(missing, fresh, strict=True))
            self.embedded += len(new)
            self.cache.save_vectors(new, self.name)
            found.update(new)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        dims = {found[k].shape[0] for k in keys}
        if len(dims) > 1:
            if refresh:
                raise EmbedError(f"{self.name}: the model gives vectors of sizes {sorted(dims)}")
            log.warning(STALE, self.name)
            return self.vectors(keys, texts, refresh=True)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def close(self) -> None:
        close = getattr(self.embedder, "close", None)
        if callable(close):
            close()
