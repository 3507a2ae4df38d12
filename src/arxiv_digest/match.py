"""Finding keywords in text, compiled once per config.

Two modes:

``word`` (default)
    Case-insensitive whole words and phrases. A term also matches its plural (``LLM`` ->
    ``LLMs``) and is bounded by non-word characters (``LLM-based`` matches, ``dLLM`` does
    not; ``RL`` never matches ``world``). In phrases, spaces and hyphens match each other
    (``speculative decoding`` = ``speculative-decoding``).
``substring``
    The original bot: ``term.lower() in text.lower()``.

Word mode is fast because most terms are one word: the text is split into its set of words
once and each such term is a few set lookups (the word, its plurals). Phrases and terms
with punctuation are checked with their own regex, only when all their words occur.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MatchMode = Literal["word", "substring"]
_WORD = re.compile(r"\w+")
# ASCII characters that are not \w, mapped to spaces: on ASCII text, str.split() then gives
# exactly the words _WORD finds, about twice as fast.
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not re.match(r"\w", c)})
_JOINER = r"[\s\-\u2010\u2011\u2012\u2013]+"


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
    forms: tuple[str, ...]  # the text words that stand for it: llm, llms, llmes
    pattern: re.Pattern[str]


class TextWords:
    """A text split once into its set of lower-cased words."""

    __slots__ = ("text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        lowered = text.lower()
        spaced = lowered.translate(_ASCII_NON_WORD)
        self.words = set(spaced.split() if spaced.isascii() else _WORD.findall(lowered))


class Matcher:
    """Which of a fixed list of terms occur in a text."""

    def __init__(self, terms: Sequence[str], mode: MatchMode = "word") -> None:
        self.terms = tuple(terms)
        self.mode = mode
        self._lowered = tuple(t.lower() for t in self.terms)
        self._word_terms = tuple(self._compile(i, t) for i, t in enumerate(self.terms))
        self._by_form: dict[str, list[int]] = {}
        for term in self._word_terms:
            for form in term.forms:
                self._by_form.setdefault(form, []).append(term.index)
        self._forms = frozenset(self._by_form)

    @staticmethod
    def _compile(index: int, term: str) -> _WordTerm:
        words = tuple(_WORD.findall(term.lower()))
        single = len(words) == 1 and words[0] == term.lower()
        last = words[-1] if words else ""
        forms = (last, f"{last}s", f"{last}es") if term[-1:].isalpha() else (last,)
        return _WordTerm(index, words, single, forms, _term_regex(term))

    def prepare(self, text: str) -> TextWords | str:
        """Pre-process a text once, for several calls of :meth:`found`."""
        return text.lower() if self.mode == "substring" else TextWords(text)

    def found(self, prepared: TextWords | str) -> list[int]:
        """Indices of the terms present, in term order."""
        if isinstance(prepared, str):
            return [i for i, t in enumerate(self._lowered) if t in prepared]
        words = prepared.words
        candidates = {i for form in words & self._forms for i in self._by_form[form]}
        hits = []
        for index in sorted(candidates):
            term = self._word_terms[index]
            if term.single or (
                all(w in words for w in term.words[:-1]) and term.pattern.search(prepared.text)
            ):
                hits.append(index)
        return hits

    def search(self, text: str) -> list[str]:
        """The terms present in ``text``, as written, in term order."""
        return [self.terms[i] for i in self.found(self.prepare(text))]
