"""How a reader's papers are chosen and ordered: keywords and the points they earn
(``scoring``), the ``relevance`` section (the reader's library from files, arXiv ids or
Zotero, the weights that blend its signals, the optional LLM triage), and
:class:`TermLists`, the checks on keyword and author lists that both the top-level config
and each team profile inherit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from arxiv_digest.config.common import HttpUrl, _Section
from arxiv_digest.config.delivery import EnvName
from arxiv_digest.ids import ARXIV_ID, VERSION


class Keyword(_Section):
    term: str = Field(min_length=1, description="Word or phrase to look for.")
    weight: float = Field(1.0, gt=0, description="Multiplies this keyword's points.")

    @field_validator("term")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


def _keyword_from_str(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


KeywordItem = Annotated[Keyword, Field(description="A term or {term, weight}.")]


class ScoringSettings(_Section):
    keyword: float = Field(1.0, ge=0, description="Points per keyword found in title+abstract.")
    title: float = Field(0.5, ge=0, description="Extra points per keyword found in the title.")
    author: float = Field(10.0, ge=0, description="Points per followed author on the paper.")


_ARXIV_REF = re.compile(
    rf"(?:arXiv:)?{ARXIV_ID}(?:{VERSION})?|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/\S+",
    re.IGNORECASE | re.ASCII,
)
LibraryKind = Literal["bibtex", "csl-json", "arxiv", "zotero"]
_LIBRARY_KEYS = {
    "bibtex": "bibtex",
    "csl_json": "csl-json",
    "csl-json": "csl-json",
    "arxiv": "arxiv",
    "zotero": "zotero",
}


class ZoteroSource(_Section):
    """A Zotero library read through the Zotero Web API (v3, over the project's HTTP client)."""

    library_id: str = Field(min_length=1, description="The user or group id (digits).")
    library_type: Literal["user", "group"] = Field("user", description='"user" or "group".')
    collection: str | None = Field(
        None, description="Only this collection (its key, e.g. ABCD2345); default: everything."
    )
    api_key_env: EnvName = Field(
        "ZOTERO_API_KEY",
        description="Environment variable holding the API key (not needed for a public group).",
    )
    base_url: HttpUrl = Field("https://api.zotero.org", description="The Zotero API's address.")


class LibrarySource(_Section):
    """One source of the reader's library: a BibTeX file, a CSL-JSON file (the export of
    Zotero, Mendeley, Paperpile) or one arXiv paper (id or abs/pdf URL)."""

    kind: LibraryKind = Field(description="bibtex, csl-json, arxiv or zotero.")
    path: Path | None = Field(None, description="The file (bibtex, csl-json).")
    arxiv: str | None = Field(None, description="The arXiv id or URL (arxiv).")
    zotero: ZoteroSource | None = Field(None, description="The Zotero library (zotero).")

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _library_shorthand(value.strip())
        if isinstance(value, dict) and "kind" not in value and len(value) == 1:
            ((key, item),) = value.items()
            kind = _LIBRARY_KEYS.get(str(key))
            if kind is None:
                raise ValueError(
                    f"unknown library source {key!r} (bibtex, csl_json, arxiv, zotero)"
                )
            field = {"arxiv": "arxiv", "zotero": "zotero"}.get(kind, "path")
            return {"kind": kind, field: item}
        return value


def _library_shorthand(value: str) -> dict[str, str]:
    if _ARXIV_REF.fullmatch(value):
        return {"kind": "arxiv", "arxiv": value}
    suffix = value.rsplit(".", 1)[-1].lower() if "." in value else ""
    if suffix in ("bib", "bibtex"):
        return {"kind": "bibtex", "path": value}
    if suffix == "json":
        return {"kind": "csl-json", "path": value}
    raise ValueError(
        f"{value!r} is neither a .bib or .json file nor an arXiv id or URL; "
        'write {"bibtex": "file"} or {"csl_json": "file"} for other file names'
    )


class RelevanceWeights(_Section):
    keywords: float = Field(1.0, ge=0, description="Multiplies the keyword points.")
    similarity: float = Field(
        2.0,
        ge=0,
        description="Points per standard deviation a paper's similarity to the library lies "
        "above the day's average.",
    )
    library_authors: float = Field(
        8.0,
        ge=0,
        description="Points per author of the paper who is in the library, times 1 + log2 "
        "of that author's papers in the library; only for a name something corroborates "
        "(a shared co-author, close content, a name rare in the store).",
    )
    ratings: float = Field(
        2.0,
        ge=0,
        description="Points per standard deviation of the model learned from your ratings.",
    )
    categories: float = Field(
        0.5,
        ge=0,
        description="Points per standard deviation a paper's arXiv category fits the "
        "library's categories better than the day's average (negative below it).",
    )


class TriageSettings(_Section):
    enabled: bool = Field(
        False,
        description="Ask an LLM to judge the best-ranked candidates against "
        "relevance.interests (a score 0-10 and a one-line reason, cached).",
    )
    model: str | None = Field(
        None,
        min_length=1,
        description="The judging model (default: ai_summary.model; same endpoint and key).",
    )
    top_k: int = Field(20, ge=1, description="How many of the best-ranked candidates are judged.")
    max_calls: int = Field(
        20, ge=0, description="Most LLM calls per run (cached judgements do not count)."
    )
    weight: float = Field(
        1.0,
        ge=0,
        description="Points per triage point above 5: score += weight × (triage − 5).",
    )
    max_output_tokens: int = Field(
        300,
        ge=64,
        description="Longest judgement, in tokens (a score and one line; a cap on the cost of "
        "a model that rambles).",
    )


class RelevanceSettings(_Section):
    interests: str | None = Field(
        None,
        min_length=1,
        description="Your interests in plain language, for the LLM triage.",
    )
    triage: TriageSettings = Field(
        default_factory=TriageSettings,
        description="Optional LLM triage of the top candidates (off by default).",
    )
    library: list[LibrarySource] = Field(
        default_factory=list,
        description="The reader's library: BibTeX or CSL-JSON files, arXiv ids or URLs "
        "(paths relative to the config file); re-read at every run.",
    )
    embedder: str = Field(
        "tfidf",
        pattern=r"^(tfidf|fastembed:\S+|openai:\S+)$",
        description='How texts are compared: "tfidf" (word statistics, no model); '
        '"fastembed:<model>" (a local ONNX model, e.g. BAAI/bge-small-en-v1.5, downloaded '
        'once); "openai:<model>" (the ai_summary endpoint, e.g. text-embedding-3-small). '
        "A model's similarity is added to the word statistics.",
    )
    model_path: Path | None = Field(
        None,
        description="A local copy of the fastembed model (offline use); relative paths are "
        "relative to the config file.",
    )
    cache_dir: Path | None = Field(
        None, description="Where fastembed keeps downloaded models (default: its own cache)."
    )
    min_ratings: int = Field(
        10,
        ge=2,
        description="Ratings (with at least one 👍 and one 👎) before a model learned from "
        "them joins the score.",
    )
    weights: RelevanceWeights = Field(
        default_factory=RelevanceWeights, description="The blend of the relevance signals."
    )
    min_similarity: float = Field(
        1.0,
        description="A paper without a keyword or a library author enters the digest only "
        "when its similarity is at least this many standard deviations above the day's "
        "average.",
    )

    @model_validator(mode="after")
    def _triage_needs_interests(self) -> RelevanceSettings:
        if self.triage.enabled and not (self.interests or "").strip():
            raise ValueError(
                "relevance.triage.enabled needs relevance.interests: a plain-language "
                "statement of what you want to read"
            )
        return self


class TermLists(_Section):
    """The keyword and name lists a reader sets: the config's own, and each profile's."""

    @field_validator("keywords", mode="before", check_fields=False)
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        return [_keyword_from_str(v) for v in value] if isinstance(value, list) else value

    @field_validator("exclude_keywords", "authors", check_fields=False)
    @classmethod
    def _no_blank_terms(cls, value: list[str]) -> list[str]:
        if any(not term.strip() for term in value):
            raise ValueError("contains an empty term")
        return [term.strip() for term in value]
