"""Finding keywords in text, compiled once per config.

Two modes:

``word`` (default)
    Case-insensitive whole words and phrases. A term also matches its plural (``LLM`` ->
    ``LLMs``) and is bounded by non-word characters (``LLM-based`` matches, ``dLLM`` does
    not; ``RL`` never matches ``world``). In phrases, spaces and hyphens match each other
    (``speculative decoding`` = ``speculative-decoding``).
``substring``
    The original bot: ``term.lower() in text.lower()``.

Word mode is fast because most terms are one word: the text is split into words once and
each such term is a set lookup. Phrases and terms with punctuation are checked with their
own regex, only when all their words occur in the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MatchMode = Literal["word", "substring"]
_WORD = re.compile(r"\w+")
_JOINER = r"[\s\-\u2010\u2011\u2012\u2013]+"


def _plural_forms(word: str) -> tuple[str, ...]:
    """The singular forms a text word may stand for: ``models`` -> (models, model)."""
    forms = [word]
    if word.endswith("s") and len(word) > 1:
        forms.append(word[:-1])
        if word.endswith("es") and len(word) > 2:
            forms.append(word[:-2])
    return tuple(forms)


def _term_regex(term: str) -> re.Pattern[str]:
    parts = [p for p in re.split(_JOINER, term.strip()) if p]
    body = _JOINER.join(re.escape(p) for p in parts)
    if term[-1:].isalpha():
        body += "(?:e?s)?"
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _WordTerm:
    index: int
    words: tuple[str, ...]  # lower-cased words of the term
    single: bool  # one plain word: a set lookup decides
    pluralizable: bool  # ends with a letter, so "LLM" also matches "LLMs"
    pattern: re.Pattern[str]


class TextWords:
    """A text split into lower-cased words once, with the singular of plurals added."""

    __slots__ = ("exact", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.exact = set(_WORD.findall(text.lower()))
        words: set[str] = set()
        for word in self.exact:
            words.update(_plural_forms(word))
        self.words = words


class Matcher:
    """Which of a fixed list of terms occur in a text."""

    def __init__(self, terms: Sequence[str], mode: MatchMode = "word") -> None:
        self.terms = tuple(terms)
        self.mode = mode
        self._lowered = tuple(t.lower() for t in self.terms)
        self._word_terms = tuple(self._compile(i, t) for i, t in enumerate(self.terms))

    @staticmethod
    def _compile(index: int, term: str) -> _WordTerm:
        words = tuple(_WORD.findall(term.lower()))
        single = len(words) == 1 and words[0] == term.lower()
        return _WordTerm(index, words, single, term[-1:].isalpha(), _term_regex(term))

    def prepare(self, text: str) -> TextWords | str:
        """Pre-process a text once, for several calls of :meth:`found`."""
        return text.lower() if self.mode == "substring" else TextWords(text)

    def found(self, prepared: TextWords | str) -> list[int]:
        """Indices of the terms present, in term order."""
        if isinstance(prepared, str):
            return [i for i, t in enumerate(self._lowered) if t in prepared]
        words = prepared.words
        hits: list[int] = []
        for term in self._word_terms:
            if term.single:
                if term.words[0] in (words if term.pluralizable else prepared.exact):
                    hits.append(term.index)
            elif all(w in words for w in term.words) and term.pattern.search(prepared.text):
                hits.append(term.index)
        return hits

    def search(self, text: str) -> list[str]:
        """The terms present in ``text``, as written, in term order."""
        return [self.terms[i] for i in self.found(self.prepare(text))]
