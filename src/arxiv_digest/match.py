"""Finding keywords in text, compiled once per config.

Two modes:

``substring``
    The original bot: ``term.lower() in text.lower()``, nothing more.
``word`` (default)
    What a reader means by the term, not more. Case-insensitive whole words and phrases,
    bounded by non-word characters (``LLM-based`` matches ``LLM``, ``dLLM`` does not; ``RL``
    never matches ``world``), and:

    * **Singular and plural, both ways**: -s, -es after s/x/z/ch/sh, -y/-ies (``policy`` =
      ``policies``), -sis/-ses (``analysis`` = ``analyses``) and a table of Latin and Greek
      plurals (``matrix``/``matrices``, ``criterion``/``criteria``, ``radius``/``radii``;
      see ``wordforms.IRREGULAR_PLURALS``). No other endings: ``Rat`` does not match ``rates``.
      ``data`` is a mass noun here (it does not match ``datum``), and so are ``news``,
      ``dynamics``, ``physics``... (``wordforms.NOT_PLURALS``). In a phrase, only the last
      word takes these forms (``large language models`` = ``large language model``).
    * **Compounds**: in a phrase, a space, a hyphen or nothing join the words
      (``multi-agent`` = ``multi agent`` = ``multiagent``); a one-word term that starts
      with a common prefix (multi, fine, pre, non, self, co, re...: ``wordforms.COMPOUND_PREFIXES``)
      also matches the text's spelling with a hyphen after it (``multiagent`` matches
      ``multi-agent``, ``finetuning`` ``fine-tuning``; not ``multi agent``). A term
      written with a hyphen that ends in -ing or -ed also matches the same compound's other
      regular verb forms (``fine-tuning`` matches ``fine-tuned``, ``fine-tune``,
      ``fine-tunes``); one-word and spaced terms do not (``training`` does not match
      ``trained``).
    * **Accents and apostrophes** are folded on both sides (``Schrödinger`` =
      ``Schrodinger``; a term with ä/ö/ü also matches its German spelling ``Schroedinger``;
      ``Shor's`` = ``Shor’s``).
    * **Acronyms**: a one-word term in capitals (two or more, ``US``, ``GO``, ``GAN``,
      ``LLM``, ``FP8``; a trailing lower-case ``s`` is its plural: ``LLMs``) matches a word
      spelled the same ignoring case, with an optional lower-case plural ``s`` when the
      term ends with a letter, provided the word keeps at least two capitals and is not a
      chemical formula. At most one capital is how ordinary words are written (``us``,
      ``Us`` at a sentence start, ``goes``), while acronyms keep their capitals even when
      some letters are lower-case (``MoE``, ``LoRA``). A mixed-case word that reads as a
      sequence of element symbols is a formula (``GaN`` = Ga + N, gallium nitride; but
      ``MoE`` is not: there is no element E). ``AdS`` ends in a capital S, which is not a
      plural, so it is not ``AD``. Phrases and other terms stay case-insensitive.

Word mode is fast because most terms are one word: the text is split into its set of words
once and each such term is a few set lookups (its forms precomputed). Acronyms look at the
spelling of the few words that pass the lookup; phrases and terms with punctuation are
checked with their own regex, only when their words occur. Accents are folded only in
non-ASCII text, hyphenated compounds found only around hyphens.

:meth:`Matcher.spans` says *where* the terms are (for highlighting), by asking this same
matcher about short stretches of the text: it never decides a match by a rule of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from arxiv_digest.wordforms import (
    COMPOUND_PREFIXES,
    GERMAN,
    fold,
    is_formula,
    noun_forms,
    verb_forms,
)

MatchMode = Literal["word", "substring"]
_WORD = re.compile(r"\w+")
# ASCII characters that are not \w, mapped to spaces: on ASCII text (every text, once
# folded), str.split() then gives exactly the words _WORD finds, about twice as fast.
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not re.match(r"\w", c)})
_JOINER = r"[\s\-\u2010\u2011\u2012\u2013]+"
_COMPOUND = re.compile(r"\w+(?:-\w+)+")
# What a highlight starts and ends on: a run of word characters or one other visible one.
_ATOM = re.compile(r"\w+|[^\w\s]")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class TextWords:
    """A text prepared once: folded, split into its set of lower-cased words; the hyphenated
    compounds it contains, written solid (``multi-agent`` -> ``multiagent``), on demand."""

    __slots__ = ("_compounds", "folded", "lowered", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = fold(text)
        self.lowered = lowered = self.folded.lower()
        self.words = set(lowered.translate(_ASCII_NON_WORD).split())
        self._compounds: set[str] | None = None

    @property
    def compounds(self) -> set[str]:
        if self._compounds is None:
            self._compounds = _compounds(self.lowered) if "-" in self.lowered else set()
        return self._compounds


@lru_cache(maxsize=2048)  # ~9 KB an abstract: at most ~20 MB in a long-lived service
def text_words(text: str) -> TextWords:
    """``text`` prepared, shared: every reader of a team ranks the same day's papers, and a
    paper's words do not depend on who reads them (a day's titles and abstracts fit)."""
    return TextWords(text)


def _compounds(lowered: str) -> set[str]:
    """The hyphenated words of a text, hyphens removed; only the text around each hyphen is
    searched (a regex over the whole text costs more than the rest of the preparation)."""
    found: set[str] = set()
    hyphen = lowered.find("-")
    while hyphen != -1:
        start = lowered.rfind(" ", 0, hyphen) + 1
        end = lowered.find(" ", hyphen)
        end = len(lowered) if end == -1 else end
        for compound in _COMPOUND.findall(lowered, start, end):
            found.add(compound.replace("-", ""))
        hyphen = lowered.find("-", end)
    return found


@dataclass(frozen=True, slots=True)
class _Word:
    """A plain word, or a phrase written solid: a set lookup decides."""

    index: int

    def matches(self, text: TextWords) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class _Acronym:
    index: int
    base: str  # lower-cased, without the plural s
    plural: bool  # a lower-case s may follow (the term ends with a letter)

    def _accepts(self, token: str) -> bool:
        lowered = token.lower()
        if lowered == self.base:
            stem = token
        elif self.plural and lowered == self.base + "s" and token.endswith("s"):
            stem = token[:-1]
        else:
            return False
        if sum(c.isupper() for c in stem) < 2:
            return False
        return stem.isupper() or not is_formula(stem)

    def matches(self, text: TextWords) -> bool:
        lowered, folded = text.lowered, text.folded  # ASCII: the same offsets
        at = lowered.find(self.base)
        while at != -1:
            end = at + len(self.base)
            if at == 0 or not _is_word_char(lowered[at - 1]):
                while end < len(lowered) and _is_word_char(lowered[end]):
                    end += 1
                if self._accepts(folded[at:end]):
                    return True
            at = lowered.find(self.base, end)
        return False


@dataclass(frozen=True, slots=True)
class _Phrase:
    """Several words, or a term with punctuation: its other words, then its regex."""

    index: int
    required: tuple[str, ...]
    pattern: re.Pattern[str]

    def matches(self, text: TextWords) -> bool:
        words = text.words
        return all(w in words for w in self.required) and bool(self.pattern.search(text.folded))


_Rule = _Word | _Acronym | _Phrase


def _acronym_base(term: str) -> str | None:
    """``LLMs`` -> ``LLM``; None when the term is not an acronym."""
    base = term[:-1] if term.endswith("s") and len(term) > 2 else term
    if base.isalnum() and base.isupper() and sum(c.isupper() for c in base) >= 2:
        return base
    return None


def _spellings(term: str) -> list[str]:
    """The term folded, and its German spelling if it has umlauts (Schroedinger)."""
    spellings = [fold(term.strip())]
    german = term.strip().translate(GERMAN)
    if german != term.strip():
        spellings.append(fold(german))
    return spellings


def _rules(index: int, spelling: str) -> Iterable[tuple[str, _Rule, bool]]:
    """(key, rule, also a hyphenated compound's solid spelling) for one spelling of a term."""
    parts = [p for p in re.split(_JOINER, spelling) if p]
    if not parts:
        return
    if len(parts) == 1 and _WORD.fullmatch(parts[0]):
        base = _acronym_base(parts[0])
        if base is not None:
            rule = _Acronym(index, base.lower(), base[-1].isalpha())
            yield base.lower(), rule, False
            if rule.plural:
                yield base.lower() + "s", rule, False
            return
        for form in noun_forms(parts[0].lower()):
            yield form, _Word(index), True
        return
    yield from _phrase_rules(index, spelling, parts)


def _phrase_rules(index: int, spelling: str, parts: list[str]) -> Iterable[tuple[str, _Rule, bool]]:
    lowered = [p.lower() for p in parts]
    last = lowered[-1]
    plain = all(_WORD.fullmatch(p) for p in lowered)
    forms = set(noun_forms(last)) if _WORD.fullmatch(last) else {last}
    if "-" in spelling and plain:
        forms |= verb_forms(last)
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    head = _JOINER.join(re.escape(p) for p in lowered[:-1])
    body = f"{head}{_JOINER}(?:{alternatives})" if head else f"(?:{alternatives})"
    pattern = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
    words = _WORD.findall(" ".join(lowered[:-1]))
    last_words = _WORD.findall(last)
    required = tuple(words + last_words[:-1])
    keys = {_WORD.findall(f)[-1] for f in forms if _WORD.findall(f)} if last_words else set()
    for key in keys:
        yield key, _Phrase(index, required, pattern), False
    if plain:  # written solid: multiagent, finetuned, gpt4 (hyphenated: the regex's)
        for form in forms:
            yield "".join(lowered[:-1]) + form, _Word(index), False


class Matcher:
    """Which of a fixed list of terms occur in a text."""

    def __init__(self, terms: Sequence[str], mode: MatchMode = "word") -> None:
        self.terms = tuple(terms)
        self.mode = mode
        self._lowered = tuple(t.lower() for t in self.terms)
        self._by_key: dict[str, list[_Rule]] = {}
        self._solid: dict[str, list[_Rule]] = {}
        self._always: list[_Rule] = []
        for index, term in enumerate(self.terms):
            self._compile(index, term)
        self._keys = frozenset(self._by_key)
        # A one-word term written with a hyphen after its prefix (multi-agent for
        # multiagent): both halves are words of the text, so index the halves.
        self._heads: dict[str, list[tuple[str, str]]] = {}
        for form in self._solid:
            for prefix in COMPOUND_PREFIXES:
                if form.startswith(prefix) and len(form) - len(prefix) >= 3:
                    self._heads.setdefault(prefix, []).append((form[len(prefix) :], form))
        self._head_keys = frozenset(self._heads)

    def _compile(self, index: int, term: str) -> None:
        compiled = False
        for spelling in _spellings(term):
            for key, rule, solid in _rules(index, spelling):
                compiled = True
                self._by_key.setdefault(key, []).append(rule)
                if solid:
                    self._solid.setdefault(key, []).append(rule)
        if not compiled and term.strip():  # punctuation only: its regex on every text
            pattern = re.compile(re.escape(fold(term.strip())), re.IGNORECASE)
            self._always.append(_Phrase(index, (), pattern))

    def prepare(self, text: str) -> TextWords | str:
        """Pre-process a text once, for several calls of :meth:`found`."""
        return text.lower() if self.mode == "substring" else text_words(text)

    def found(self, prepared: TextWords | str) -> list[int]:
        """Indices of the terms present, in term order."""
        if isinstance(prepared, str):
            return [i for i, t in enumerate(self._lowered) if t in prepared]
        hits: set[int] = set()
        for key in prepared.words & self._keys:
            self._check(self._by_key[key], prepared, hits)
        if "-" in prepared.lowered:
            words = prepared.words
            for head in words & self._head_keys:
                for tail, form in self._heads[head]:
                    if tail in words and form in prepared.compounds:
                        self._check(self._solid[form], prepared, hits)
        if self._always:
            self._check(self._always, prepared, hits)
        return sorted(hits)

    @staticmethod
    def _check(rules: list[_Rule], prepared: TextWords, hits: set[int]) -> None:
        for rule in rules:
            if rule.index not in hits and rule.matches(prepared):
                hits.add(rule.index)

    def search(self, text: str) -> list[str]:
        """The terms present in ``text``, as written, in term order."""
        return [self.terms[i] for i in self.found(self.prepare(text))]

    def spans(self, text: str) -> list[Span]:
        """Where the terms present in ``text`` are: non-overlapping spans in text order.

        Only terms that :meth:`found` reports for the whole text are looked for, and a span
        is a stretch of the text in which this matcher, given that stretch alone, finds the
        term (the shortest such stretch around each word that could start one). So a
        highlight never shows a term the ranking did not match. A term made only of
        punctuation has no span.
        """
        present = self.found(self.prepare(text))
        if not present:
            return []
        if self.mode == "substring":
            found = [
                Span(m.start(), m.end(), i)
                for i in present
                for m in re.finditer(re.escape(self.terms[i]), text, re.IGNORECASE)
            ]
        else:
            atoms, keys = _atoms(text)
            found = [
                s for i in present for s in self._alone_matcher(i)._term_spans(text, atoms, keys, i)
            ]
        found.sort(key=lambda s: (s.start, s.start - s.end))
        kept: list[Span] = []
        for span in found:
            if not kept or span.start >= kept[-1].end:
                kept.append(span)
        return kept

    def _alone_matcher(self, index: int) -> Matcher:
        """A matcher of this one term (each term's rules depend on that term only)."""
        return _alone(self.terms[index], self.mode)

    def _term_spans(
        self, text: str, atoms: Sequence[tuple[int, int]], keys: Sequence[str], index: int
    ) -> Iterable[Span]:
        """This (one-term) matcher's spans: the shortest matching stretch of atoms around
        each atom that is one of its lookup words; a stretch is at most twice the term's
        atoms plus one long (room for a joiner between each pair of its words)."""
        triggers = self._keys | self._head_keys
        width = 2 * len(_ATOM.findall(self.terms[0])) + 1
        for j, key in enumerate(keys):
            if key not in triggers:
                continue
            for size in range(1, width + 1):
                found = self._first_match(text, atoms, j, size)
                if found is not None:
                    yield Span(*found, index)
                    break

    def _first_match(
        self, text: str, atoms: Sequence[tuple[int, int]], j: int, size: int
    ) -> tuple[int, int] | None:
        for first in range(max(0, j - size + 1), min(j, len(atoms) - size) + 1):
            start, end = atoms[first][0], atoms[first + size - 1][1]
            if self.found(TextWords(text[start:end])):  # a stretch: not worth the shared cache
                return start, end
        return None


@lru_cache(maxsize=1024)
def _alone(term: str, mode: MatchMode) -> Matcher:
    """The matcher of one term: the same for every list that holds it (each reader's
    highlights are made with the terms a paper matched, a list of its own)."""
    return Matcher([term], mode)


@lru_cache(maxsize=512)  # ~18 KB an abstract; pages highlight a few hundred texts a run
def _atoms(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
    """The text's atoms (where each is) and their folded lower-case forms: the same for
    every reader whose terms a page highlights in it."""
    atoms = tuple(m.span() for m in _ATOM.finditer(text))
    return atoms, tuple(fold(text[a:b]).lower() for a, b in atoms)


@dataclass(frozen=True, slots=True)
class Span:
    """Where a term occurs: ``text[start:end]`` is term ``index`` of the matcher."""

    start: int
    end: int
    index: int
