"""Cleaning the text arXiv sends: whitespace, HTML entities, mojibake, TeX accents, authors.

Titles and abstracts go through :func:`clean_prose`; author names through
:func:`clean_name` (or :func:`split_authors` for the RSS feed's one string of names).

TeX accents become letters (``Schr\\"odinger`` -> ``Schrödinger``) with a targeted
converter, not a TeX-to-text pass over the whole text: math (``$\\alpha$``,
``\\(x\\)``) and other commands (``\\cite``, ``\\emph{...}``) are kept as the TeX they are.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

from arxiv_digest.ids import VERSIONED_ID

log = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")
_NEEDS_CARE = re.compile(r"[(\[]|\sand\s")
_TEX_MARKUP = re.compile(r"[\\{}]")
_LATEX = LatexNodes2Text()

# UTF-8 read as cp1252/latin-1 turns every non-ASCII letter into a lead character (Â..ô)
# followed by what a continuation byte (0x80-0xBF) decodes to. Only texts holding such a
# pair are handed to ftfy, which decides (it is far too slow to run on every abstract).
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]"
)

# TeX accent commands -> Unicode combining marks.
_SYMBOL_ACCENTS = {
    "'": "\u0301",  # acute
    "`": "\u0300",  # grave
    "^": "\u0302",  # circumflex
    '"': "\u0308",  # diaeresis
    "~": "\u0303",  # tilde
    "=": "\u0304",  # macron
    ".": "\u0307",  # dot above
}
_LETTER_ACCENTS = {
    "H": "\u030b",  # double acute (Erd\H{o}s)
    "c": "\u0327",  # cedilla
    "k": "\u0328",  # ogonek
    "v": "\u030c",  # caron
    "u": "\u0306",  # breve
    "r": "\u030a",  # ring above
    "d": "\u0323",  # dot below
    "b": "\u0331",  # macron below
    "t": "\u0361",  # tie over two letters (\t{oo})
}
_SPECIAL_LETTERS = {
    "ss": "ß", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}  # fmt: skip
_BASE = r"\\[ij](?![A-Za-z])|[A-Za-z]"
_SYMBOLS = re.escape("".join(_SYMBOL_ACCENTS))
_LETTERS = "".join(_LETTER_ACCENTS)
_SPECIALS = "|".join(sorted(_SPECIAL_LETTERS, key=len, reverse=True))
_ACCENT = re.compile(
    r"\\(?:"
    # \'e \' e \'{e} \'\i \'{\i}: a symbol accent may touch its letter
    rf"(?P<sym>[{_SYMBOLS}])\s*(?:\{{\s*(?P<a1>{_BASE})\s*\}}|(?P<a2>{_BASE}))"
    # \H{o} \c c \t{oo}: a letter accent needs a brace or a space, or it is another command
    rf"|(?P<let>[{_LETTERS}])(?:\s*\{{\s*(?P<a3>(?:{_BASE}){{1,2}})\s*\}}|\s+(?P<a4>{_BASE}))"
    # \ss \o{} \AA ngstr: a letter on its own, not the start of a longer command (\omega)
    rf"|(?P<spec>{_SPECIALS})(?![A-Za-z])(?:\{{\}}| (?=[a-z]))?"
    r")"
)
# Math and the commands before a brace group are kept as they are.
_MATH_OPEN = re.compile(r"\$\$?|\\[(\[]")
_MATH_CLOSE = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_COMMAND_BEFORE = re.compile(r"\\[A-Za-z]+\s*\Z")


def clean_text(text: str | None) -> str:
    """Collapse whitespace and decode HTML entities left in the text."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def repair_mojibake(text: str) -> str:
    """``JosÃ© RaÃºl`` (UTF-8 decoded twice) -> ``José Raúl``; other text is unchanged."""
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return text
    import ftfy  # slow to import (its tables), and most feeds need no repair

    fixed: str = ftfy.fix_encoding(text)
    if fixed != text:
        log.info("repaired double-encoded UTF-8: %r -> %r", text[:60], fixed[:60])
    return fixed


def _accent_base(raw: str) -> str:
    """The letter under an accent: ``\\i`` stands for an i whose dot the accent replaces."""
    return raw[1] if raw.startswith("\\") else raw


def _accented(match: re.Match[str]) -> str:
    if match["spec"]:
        return _SPECIAL_LETTERS[match["spec"]]
    if match["sym"]:
        mark, arg = _SYMBOL_ACCENTS[match["sym"]], match["a1"] or match["a2"]
        return _accent_base(arg) + mark
    mark, arg = _LETTER_ACCENTS[match["let"]], match["a3"] or match["a4"]
    letters = [_accent_base(p) for p in re.findall(_BASE, arg)]
    if len(letters) == 2:  # only \t takes two letters: the tie sits between them
        return letters[0] + mark + letters[1] if match["let"] == "t" else match[0]
    return letters[0] + mark


def _math_spans(text: str) -> list[tuple[int, int]]:
    """Where ``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]`` are, in one pass
    (``\\$`` is a dollar sign; an opening with no closing is not math)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (opening := _MATH_OPEN.search(text, pos)) is not None:
        start, pos = opening.span()
        if opening[0][0] == "$" and start and text[start - 1] == "\\":
            pos = start + 1
            continue
        closer = _MATH_CLOSE[opening[0]]
        end = text.find(closer, pos)
        while end != -1 and closer[0] == "$" and text[end - 1] == "\\":
            end = text.find(closer, end + 1)
        if end == -1:
            break
        pos = end + len(closer)
        spans.append((start, pos))
    return spans


def _replaced(text: str, matches: list[re.Match[str]]) -> str:
    """Each match -> its letter, with ``{\\"o}``'s braces dropped (not ``\\emph{\\"o}``'s)."""
    out: list[str] = []
    pos = 0
    for match in matches:
        start, end = match.span()
        wrapped = (
            start - 1 >= pos
            and text[start - 1] == "{"
            and text[end : end + 1] == "}"
            and not _COMMAND_BEFORE.search(text, 0, start - 1)
        )
        if wrapped:
            start, end = start - 1, end + 1
        out.append(text[pos:start])
        out.append(_accented(match))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def tex_accents_to_unicode(text: str) -> str:
    """``Erd\\H{o}s``, ``Schr\\"odinger``, ``{\\"u}``, ``\\ss`` -> letters (NFC); math untouched.

    Most abstracts with a backslash hold math and no accent: the accent search (a regex
    led by a literal backslash, fast) runs first, math is located only when it finds one.
    """
    if "\\" not in text:
        return text
    matches = list(_ACCENT.finditer(text))
    if not matches:
        return text
    spans = _math_spans(text) if "$" in text or "\\(" in text or "\\[" in text else []
    if spans:
        matches = [m for m in matches if not any(a <= m.start() < b for a, b in spans)]
    return unicodedata.normalize("NFC", _replaced(text, matches))


_SUPERSCRIPT = dict(zip("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", strict=True))
_SUBSCRIPT = dict(zip("0123456789+-=()aeiorux", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₒᵣᵤₓ", strict=True))
_SCRIPT = re.compile(r"([\^_])(?:\{([^{}]*)\}|(\\[A-Za-z]+|[^\s{}\\]))")
_MACRO_SPACE = re.compile(r"(\\[A-Za-z]+) (?=\w)")
_TEX_ESCAPE = re.compile(r"\\([%&#_$])")


def _scripted(match: re.Match[str]) -> str:
    table = _SUPERSCRIPT if match[1] == "^" else _SUBSCRIPT
    body = match[2] if match[2] is not None else match[3]
    if body and all(c in table for c in body):
        return "".join(table[c] for c in body)
    inner = _LATEX.latex_to_text(body).strip()
    return f"{match[1]}{inner}" if len(inner) == 1 else f"{match[1]}({inner})"


def math_as_text(formula: str) -> str:
    """One TeX formula (without its delimiters) as plain Unicode text: ``^2`` -> ``²``,
    ``\\alpha`` -> ``α``, ``\\mathbb{R}^d`` -> ``ℝ^d``, ``\\frac{1}{2}`` -> ``1/2``."""
    text = _SCRIPT.sub(_scripted, formula)
    text = _MACRO_SPACE.sub(r"\1{} ", text)  # "\\log n" keeps its space
    return " ".join(unicodedata.normalize("NFC", _LATEX.latex_to_text(text)).split())


def tex_as_text(text: str) -> str:
    """Prose as plain text for places that show no math (the README's lines, chat): each
    formula through :func:`math_as_text` (``FedP$^2$EFT`` -> ``FedP²EFT``), TeX's escaped
    characters as themselves (``46\\%`` -> ``46%``)."""
    if "$" not in text and "\\" not in text:
        return text
    out: list[str] = []
    position = 0
    for start, end in _math_spans(text):
        out.append(_TEX_ESCAPE.sub(r"\1", text[position:start]))
        formula = text[start:end]
        cut = 1 if formula.startswith("$") and not formula.startswith("$$") else 2
        out.append(math_as_text(formula[cut:-cut]))
        position = end
    out.append(_TEX_ESCAPE.sub(r"\1", text[position:]))
    return "".join(out)


def clean_prose(text: str | None) -> str:
    """A title or an abstract as a reader should see it (math left as TeX)."""
    text = clean_text(text)
    if not text.isascii():  # the checks inlined: this runs twice per paper
        text = repair_mojibake(text)
    return tex_accents_to_unicode(text) if "\\" in text else text


@lru_cache(maxsize=4096)
def tex_to_unicode(name: str) -> str:
    """``S\\'ebastien`` -> ``Sébastien``; names without TeX markup are returned as they are."""
    if not _TEX_MARKUP.search(name):
        return name
    converted = _LATEX.latex_to_text(name)
    return unicodedata.normalize("NFC", _SPACES.sub(" ", converted).strip())


def clean_name(name: str | None) -> str:
    """One author name: whitespace, entities, mojibake and TeX accents fixed."""
    return tex_to_unicode(repair_mojibake(clean_text(name)))


def split_authors(creators: str) -> tuple[str, ...]:
    """Split an RSS author string on commas and " and ", never inside parentheses."""
    creators = repair_mojibake(creators)  # once for the whole list
    if not _NEEDS_CARE.search(creators):
        return tuple(n for n in (tex_to_unicode(clean_text(p)) for p in creators.split(",")) if n)
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for char in creators:
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        if char == "," and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(char)
    names.append("".join(current))
    result: list[str] = []
    for raw in names:
        for part in re.split(r"\s+and\s+(?![^()]*\))", raw.strip()):
            name = tex_to_unicode(clean_text(part))
            if name:
                result.append(name)
    return tuple(result)


def split_arxiv_id(raw: str) -> tuple[str, int]:
    """``2512.14082v2`` -> (``2512.14082``, 2); a missing version gives 0.

    Also an abs URL or an OAI identifier. What :data:`arxiv_digest.ids.VERSIONED_ID` does not
    take (fullwidth digits, month 00 or 13) is a ``ValueError``.
    """
    token = raw.strip().rstrip("/").rsplit("/abs/", 1)[-1]
    token = token.removeprefix("oai:arXiv.org:").removeprefix("arXiv:")
    match = VERSIONED_ID.fullmatch(token)
    if match is None:
        raise ValueError(f"not an arXiv identifier: {raw!r}")
    return match["id"], int(match["version"] or 0)
