"""The reader's library: the papers a digest should find more of.

Read at every run from the configured sources, so an edited file counts the next morning:

* BibTeX (``bibtexparser``): title, abstract, authors; ``eprint``/``arxivId``/``arxiv``
  fields, an arXiv DOI (10.48550/arXiv.ID) or an arXiv URL give the arXiv id;
* CSL-JSON (the export of Zotero, Mendeley, Paperpile): the same fields in CSL's names;
* arXiv ids and abs/pdf URLs: metadata from the store, else one arXiv API request for all;
* a Zotero library through the Web API: read by the run (:mod:`.zotero`), not here.

An entry without an abstract is completed from arXiv when its id is known; entries that
stay without text are reported once (count and examples) and otherwise left out, never
fatal. A file that is missing or cannot be parsed, or whose CSL dates are not
``[[year, month, day]]``, is a :class:`ConfigError` naming it (and the item), raised before
any request (:func:`read_library_files`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import bibtexparser

from arxiv_digest.config import LibrarySource, Settings
from arxiv_digest.config.settings import CATEGORY_RE
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import Paper
from arxiv_digest.relevance.authors import NO_RATES, NameRates
from arxiv_digest.sources.text import clean_name, clean_prose, split_arxiv_id

log = logging.getLogger(__name__)

_ARXIV_IN_TEXT = re.compile(
    r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?(?:[?#]|$)|10\.48550/arxiv\.([^\s]+)"
    r"|arxiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?)",
    re.IGNORECASE,
)
_BRACES = re.compile(r"[{}]")


@dataclass(frozen=True, slots=True)
class LibraryPaper:
    """One paper of the library, whatever its source."""

    key: str  # "arxiv:2401.12345", "doi:10.1000/x" or "title:<hash>": what identifies it
    title: str
    abstract: str
    authors: tuple[str, ...]
    arxiv_id: str | None = None
    added: dt.date | None = None  # when it was published or added, for recency
    source: str = ""  # the file or "arXiv" it came from, for messages
    categories: tuple[str, ...] = ()  # arXiv categories, the primary one first, if known


@dataclass(frozen=True, slots=True)
class Library:
    papers: tuple[LibraryPaper, ...]
    unresolved: tuple[str, ...] = ()  # entries left out: no text found
    rated_down: frozenset[str] = frozenset()  # arXiv ids the reader said no to (👎)
    rated: tuple[tuple[str, int], ...] = ()  # (title and abstract, +1/-1) of rated papers
    name_rates: NameRates = NO_RATES  # papers a month of the library's names in the store


# -- files ------------------------------------------------------------------------------


def read_library_files(settings: Settings) -> list[LibraryPaper]:
    """Every entry of the configured files and arXiv references, not yet completed.

    No request: Zotero sources are left to the run (:func:`.zotero.read_zotero_sources`).
    """
    entries: list[LibraryPaper] = []
    for index, source in enumerate(settings.library):
        field = f"relevance.library[{index}]"
        if source.kind == "arxiv":
            entries.append(_arxiv_reference(source, field))
        elif source.kind == "zotero":
            continue  # read by the run, which has the HTTP client: relevance/zotero.py
        else:
            assert source.path is not None
            entries.extend(_read_file(source, Path(source.path), field))
    return entries


def _arxiv_reference(source: LibrarySource, field: str) -> LibraryPaper:
    found = arxiv_id_in(source.arxiv or "")
    if found is None:
        raise ConfigError(f"{field}: {source.arxiv!r} is not an arXiv id or URL")
    return LibraryPaper(f"arxiv:{found}", "", "", (), arxiv_id=found, source="arXiv")


def _read_file(source: LibrarySource, path: Path, field: str) -> list[LibraryPaper]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{field}: cannot read {path}: {exc}") from None
    try:
        if source.kind == "bibtex":
            return _from_bibtex(text, path.name)
        return _from_csl_json(text, path.name)
    except ValueError as exc:
        raise ConfigError(f"{field}: {path} is not valid {source.kind}: {exc}") from None


def arxiv_id_in(text: str) -> str | None:
    """The arXiv id (without version) in an id, an abs/pdf URL, an arXiv DOI or a note."""
    candidates = [text.strip()]
    candidates += [next(g for g in m.groups() if g) for m in _ARXIV_IN_TEXT.finditer(text)]
    for candidate in candidates:
        try:
            return split_arxiv_id(candidate)[0]
        except ValueError:
            continue
    return None


def _plain(value: str) -> str:
    """BibTeX text as a reader sees it: accents converted, protective braces dropped."""
    return _BRACES.sub("", clean_prose(value))


def _bib_authors(value: str) -> tuple[str, ...]:
    names = []
    for raw in re.split(r"\s+and\s+", value.strip()):
        name = clean_name(_BRACES.sub("", raw))
        if "," in name:  # "Doe, Jane" -> "Jane Doe"
            last, first = (part.strip() for part in name.split(",", 1))
            name = f"{first} {last}".strip()
        if name and name.lower() != "others":
            names.append(name)
    return tuple(names)


def _from_bibtex(text: str, origin: str) -> list[LibraryPaper]:
    library = bibtexparser.parse_string(text)  # type: ignore[attr-defined]
    if library.failed_blocks and not library.entries:
        raise ValueError(f"{len(library.failed_blocks)} unreadable block(s), no entry")
    if library.failed_blocks:
        log.warning("%s: %d BibTeX block(s) could not be read", origin, len(library.failed_blocks))
    papers = []
    for entry in library.entries:
        fields = {k.lower(): str(v.value) for k, v in entry.fields_dict.items()}
        reference = " ".join(
            fields.get(k, "") for k in ("eprint", "arxivid", "arxiv", "doi", "url", "note")
        )
        year = fields.get("year", "")
        category = fields.get("primaryclass", "").strip()
        papers.append(
            make_entry(
                title=_plain(fields.get("title", "")),
                abstract=_plain(fields.get("abstract", "")),
                authors=_bib_authors(fields.get("author", "")),
                arxiv_id=arxiv_id_in(reference),
                doi=fields.get("doi", ""),
                added=_date(year[:4]) if year[:4].isdigit() else None,
                origin=origin,
                categories=(category,) if CATEGORY_RE.match(category) else (),
            )
        )
    return papers


def _csl_authors(names: Any) -> tuple[str, ...]:
    out = []
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, dict):
            continue
        full = name.get("literal") or " ".join(
            str(name.get(part, "")) for part in ("given", "family") if name.get(part)
        )
        if full:
            out.append(clean_name(str(full)))
    return tuple(out)


def _csl_date(item: dict[str, Any]) -> dt.date | None:
    """The first date of ``issued`` (else ``accessed``): ``{"date-parts": [[2024, 3, 5]]}``,
    year and month or year alone, numbers or digit strings. None without date-parts;
    ValueError (the file is broken) for date-parts of another shape or year 0."""
    for field in ("issued", "accessed"):
        value = item.get(field)
        if not isinstance(value, dict) or value.get("date-parts") in (None, [], [[]]):
            continue  # no date, or a "raw"/"literal" one
        parts = _date_parts(value["date-parts"])
        if parts is None:
            given = json.dumps(value["date-parts"], ensure_ascii=False)
            given = given if len(given) <= 40 else given[:39] + "…"
            raise ValueError(f"{field}.date-parts must be [[year, month, day]], not {given}")
        year, month, day = [*parts, 1, 1][:3]
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise ValueError(f"{field}.date-parts: year {year} is not a date")
        try:
            return dt.date(year, month, day)
        except (ValueError, OverflowError):  # a season (months 21-24), day 31 of June
            return dt.date(year, 1, 1)
    return None


def _csl_item_date(item: dict[str, Any], number: int) -> dt.date | None:
    try:
        return _csl_date(item)
    except ValueError as exc:
        title = " ".join(str(item.get("title") or "untitled").split())
        title = title if len(title) <= 60 else title[:59] + "…"
        raise ValueError(f"item {number} ({title}): {exc}") from None


def _date_parts(value: Any) -> list[int] | None:
    """The first date of CSL ``date-parts`` (a list of one or two [year, month, day] lists
    of numbers or digit strings), or None if it is not shaped like that."""
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        return None
    first = value[0]
    if not 1 <= len(first) <= 3:
        return None
    numbers = [n for part in first if (n := _csl_number(part)) is not None]
    return numbers if len(numbers) == len(first) else None


def _csl_number(part: Any) -> int | None:
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    if isinstance(part, str) and part.strip().isascii() and part.strip().isdigit():
        return int(part)
    return None


def _from_csl_json(text: str, origin: str) -> list[LibraryPaper]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    items = data.get("items", data) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("expected a list of CSL items")
    papers = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            continue
        reference = " ".join(
            str(item.get(k, "")) for k in ("DOI", "URL", "number", "archive_location", "note")
        )
        papers.append(
            make_entry(
                title=clean_prose(str(item.get("title", ""))),
                abstract=clean_prose(str(item.get("abstract", ""))),
                authors=_csl_authors(item.get("author")),
                arxiv_id=arxiv_id_in(reference),
                doi=str(item.get("DOI", "")),
                added=_csl_item_date(item, number),
                origin=origin,
            )
        )
    return papers


def _date(year: str) -> dt.date:
    return dt.date(int(year), 1, 1)


def make_entry(
    *,
    title: str,
    abstract: str,
    authors: tuple[str, ...],
    arxiv_id: str | None,
    doi: str,
    added: dt.date | None,
    origin: str,
    categories: tuple[str, ...] = (),
) -> LibraryPaper:
    if arxiv_id:
        key = f"arxiv:{arxiv_id}"
    elif doi.strip():
        key = f"doi:{doi.strip().lower()}"
    else:
        key = (
            "title:" + hashlib.sha256(" ".join(title.casefold().split()).encode()).hexdigest()[:16]
        )
    return LibraryPaper(key, title, abstract, authors, arxiv_id, added, origin, categories)


# -- completing entries from arXiv ------------------------------------------------------


def from_paper(paper: Paper, source: str = "arXiv") -> LibraryPaper:
    return LibraryPaper(
        key=f"arxiv:{paper.arxiv_id}",
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        arxiv_id=paper.arxiv_id,
        added=paper.announced,
        source=source,
        categories=filed_under(paper),
    )


def filed_under(paper: Paper) -> tuple[str, ...]:
    """The paper's arXiv categories, its primary one first."""
    primary = (paper.primary_category,) if paper.primary_category else ()
    return (*primary, *(c for c in paper.categories if c != paper.primary_category))


def complete(entries: Sequence[LibraryPaper], known: dict[str, Paper]) -> Library:
    """Fill missing text and categories from arXiv metadata (``known`` by id); drop what
    stays empty.

    Entries with the same key (a paper in two files) are kept once, the first with text.
    """
    kept: dict[str, LibraryPaper] = {}
    unresolved: list[str] = []
    for given in entries:
        paper = known.get(given.arxiv_id or "")
        entry = given
        if paper is not None and not given.abstract:
            entry = replace(
                given,
                title=given.title or paper.title,
                abstract=paper.abstract,
                authors=given.authors or paper.authors,
                added=given.added or paper.announced,
            )
        if paper is not None and not entry.categories:
            entry = replace(entry, categories=filed_under(paper))
        if not entry.abstract and not entry.title:
            unresolved.append(entry.arxiv_id or entry.key)
            continue
        if entry.key not in kept or (entry.abstract and not kept[entry.key].abstract):
            kept[entry.key] = entry
    return Library(tuple(kept.values()), tuple(unresolved))


def ids_to_look_up(entries: Iterable[LibraryPaper]) -> list[str]:
    """arXiv ids of entries that lack an abstract or their arXiv categories."""
    return sorted({e.arxiv_id for e in entries if e.arxiv_id and not (e.abstract and e.categories)})
