"""English word forms for the keyword matcher: accent folding, singular and plural,
regular verb forms of a compound, and telling a chemical formula from an acronym.

Pure functions over single words; :mod:`arxiv_digest.match` decides what to do with them.
"""

from __future__ import annotations

import codecs
import unicodedata
from functools import lru_cache

# Letters NFKD does not decompose, apostrophes and hyphens: what a plain keyboard types.
_FOLD = {
    "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "œ": "oe",
    "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i", "’": "'", "‘": "'", "ʼ": "'", "′": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
}  # fmt: skip
GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})

IRREGULAR_PLURALS = {
    "matrix": "matrices", "index": "indices", "vertex": "vertices", "simplex": "simplices",
    "appendix": "appendices", "cortex": "cortices", "apex": "apices", "axis": "axes",
    "criterion": "criteria", "phenomenon": "phenomena", "automaton": "automata",
    "polyhedron": "polyhedra", "radius": "radii", "nucleus": "nuclei", "locus": "loci",
    "focus": "foci", "stimulus": "stimuli", "modulus": "moduli", "torus": "tori",
    "annulus": "annuli", "fungus": "fungi", "corpus": "corpora", "genus": "genera",
    "spectrum": "spectra", "maximum": "maxima", "minimum": "minima", "optimum": "optima",
    "extremum": "extrema", "quantum": "quanta", "curriculum": "curricula", "stratum": "strata",
    "formula": "formulae", "antenna": "antennae", "schema": "schemata", "child": "children",
    "mouse": "mice", "man": "men", "woman": "women", "foot": "feet", "tooth": "teeth",
    "leaf": "leaves", "half": "halves",
}  # fmt: skip
_IRREGULAR_SINGULARS = {plural: singular for singular, plural in IRREGULAR_PLURALS.items()}
# Words ending in s that are not plurals: "news" must not match "new", "dynamics" not
# "dynamic" (an adjective in "dynamic programming").
_NOT_PLURALS_TEXT = (
    "news means series species lens bias gas chaos ethics physics economics robotics "
    "statistics linguistics electronics optics mechanics graphics semantics acoustics "
    "analytics logistics politics informatics photonics kinematics"
)
NOT_PLURALS = frozenset(_NOT_PLURALS_TEXT.split())
_NOT_PLURAL_ENDINGS = ("dynamics", "omics", "matics")
# Where a one-word term may be hyphenated in the text (multiagent = multi-agent).
_COMPOUND_PREFIXES_TEXT = (
    "multi fine pre post non on off self semi cross sub super hyper inter intra over under "
    "out meta auto co re de un bi tri uni mono poly micro macro mini pseudo quasi anti "
    "counter data end few zero long open real"
)
COMPOUND_PREFIXES = tuple(_COMPOUND_PREFIXES_TEXT.split())

_PERIODIC_TABLE = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge "
    "As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm "
    "Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U "
    "Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
)
_ELEMENTS = frozenset(_PERIODIC_TABLE.split())


@lru_cache(maxsize=4096)
def _fold_run(run: str) -> str:
    """ASCII for a run of non-ASCII characters: accents dropped (é -> e), special letters
    spelled out (ß -> ss), other letters kept as words by their code (α -> _3b1_),
    anything else (dashes, quotes, math symbols) a space."""
    out: list[str] = []
    for char in run:
        if char in _FOLD:
            out.append(_FOLD[char])
            continue
        for part in unicodedata.normalize("NFKD", char):
            if part.isascii():
                out.append(part)
            elif part.isalnum():
                out.append("".join(f"_{ord(c):x}_" for c in part.lower()))
            elif not unicodedata.combining(part):
                out.append(" ")
    return "".join(out)


def _fold_error(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return _fold_run(error.object[error.start : error.end]), error.end


# The ASCII encoder finds the non-ASCII runs in C and hands only those to _fold_run: ten
# times faster than a str.translate or a regex over the whole text.
codecs.register_error("arxiv_digest.fold", _fold_error)


def fold(text: str) -> str:
    """The text in ASCII for matching (see :func:`_fold_run`); case is kept."""
    if text.isascii():
        return text
    return text.encode("ascii", "arxiv_digest.fold").decode("ascii")


# Plural rules, written as "which lemmas take which ending" so that both directions are
# the same relation: a word matches a term when they share a lemma.
def _takes_ies(lemma: str) -> bool:
    return len(lemma) >= 3 and lemma.endswith("y") and lemma[-2] not in "aeiou"


def _takes_es(lemma: str) -> bool:
    return len(lemma) >= 3 and lemma.endswith(("s", "x", "z", "ch", "sh"))


def _takes_s(lemma: str) -> bool:
    return (
        len(lemma) >= 3
        and not lemma.endswith(("s", "x", "z", "ch", "sh", "u", "i"))
        and not _takes_ies(lemma)
    )


def _is_plural_spelling(word: str) -> bool:
    return word not in NOT_PLURALS and not word.endswith(_NOT_PLURAL_ENDINGS)


def _plurals(lemma: str) -> set[str]:
    forms = {lemma}
    if _takes_s(lemma):
        forms.add(lemma + "s")
    if _takes_es(lemma):
        forms.add(lemma + "es")
    if _takes_ies(lemma):
        forms.add(lemma[:-1] + "ies")
    if lemma.endswith("sis"):
        forms.add(lemma[:-3] + "ses")
    if lemma in IRREGULAR_PLURALS:
        forms.add(IRREGULAR_PLURALS[lemma])
    return {lemma} | {f for f in forms if _is_plural_spelling(f)}


def _lemmas(word: str) -> set[str]:
    lemmas = {word}
    if not _is_plural_spelling(word):
        return lemmas
    if word.endswith("s") and _takes_s(word[:-1]):
        lemmas.add(word[:-1])
    if word.endswith("es") and _takes_es(word[:-2]):
        lemmas.add(word[:-2])
    if word.endswith("ies") and _takes_ies(word[:-3] + "y"):
        lemmas.add(word[:-3] + "y")
    if word.endswith("ses"):
        lemmas.add(word[:-3] + "sis")
    if word in _IRREGULAR_SINGULARS:
        lemmas.add(_IRREGULAR_SINGULARS[word])
    return lemmas


def noun_forms(word: str) -> frozenset[str]:
    """Every spelling sharing a lemma with ``word`` (lower-case): policy -> policies, ..."""
    if not word[-1:].isalpha():
        return frozenset({word})
    return frozenset(form for lemma in _lemmas(word) for form in _plurals(lemma))


def verb_forms(word: str) -> set[str]:
    """fine-tun(ing): the other regular forms of the verb, for hyphenated -ing/-ed terms."""
    if word.endswith("ing"):
        stems = {word[:-3], word[:-3] + "e"}
    elif word.endswith("ed"):
        stems = {word[:-2], word[:-1]}
    else:
        return set()
    forms: set[str] = set()
    for stem in stems:
        bare = stem[:-1] if stem.endswith("e") else stem
        forms |= {stem, stem + "s", bare + "ing", bare + "ed"}
    return forms


def is_formula(word: str) -> bool:
    """Whether ``word`` reads as element symbols, each with an optional count (GaN, MoS2)."""
    reachable = [False] * (len(word) + 1)
    reachable[0] = True
    for start in range(len(word)):
        if not reachable[start]:
            continue
        for size in (1, 2):
            if start + size <= len(word) and word[start : start + size] in _ELEMENTS:
                end = start + size
                reachable[end] = True
                while end < len(word) and word[end].isdigit():
                    end += 1
                    reachable[end] = True
    return reachable[-1]
