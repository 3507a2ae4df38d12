"""People, not strings: a name shared with the library counts only when something else says
it is the same person (a shared co-author, close content, a rare name in the store)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from arxiv_digest.models import Paper, RankedPaper
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.relevance.authors import NameRates
from arxiv_digest.relevance.library import Library, complete, read_library_files
from arxiv_digest.relevance.resolve import load_library
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from tests.test_relevance import (
    federated_bibtex,
    library_settings,
    real_day,
    with_namesakes,
)

NAMESAKE = "Peng Li"  # one of five co-authors of one library paper (2508.19078)


def library_of(tmp_path: Path, **config: object) -> tuple[Ranker, Library]:
    federated_bibtex(tmp_path)
    settings = library_settings(tmp_path, ["federated.bib"], max_papers=93, **config)
    library = complete(read_library_files(settings), {})
    return Ranker(settings, library), library


def ranked(ranker: Ranker, day: list[Paper]) -> dict[str, RankedPaper]:
    return {r.paper.arxiv_id: r for r in ranker.rank(select_candidates(day, ranker.settings))}


def test_a_namesake_counts_nothing_and_is_never_the_reason_a_paper_is_shown(
    tmp_path: Path,
) -> None:
    ranker, _ = library_of(tmp_path)
    day, (namesake,) = with_namesakes(real_day(), [NAMESAKE])
    shown = ranked(ranker, day)
    assert namesake.arxiv_id not in shown  # no keyword, far from the library: not a candidate
    assert ranker.relevance is not None
    view = ranker.relevance.assess(day)[day.index(namesake)]
    assert view.library_authors == () and view.author_points == 0.0
    assert view.namesakes == (NAMESAKE,)
    explained = ranker.contributions(namesake, view)
    line = next(c for c in explained if c.signal == "library authors")
    assert line.points == 0.0 and line.detail.startswith(f"{NAMESAKE} (1 library paper): not")


def test_a_shared_co_author_confirms_a_library_author(tmp_path: Path) -> None:
    """The same namesake paper, but a second author of it also wrote that library paper."""
    ranker, _ = library_of(tmp_path)
    day, (namesake,) = with_namesakes(real_day(), [NAMESAKE])
    colleague = replace(namesake, authors=(*namesake.authors, "Dongxiao Yu"))
    day = [colleague if p is namesake else p for p in day]
    shown = ranked(ranker, day)
    why = shown[colleague.arxiv_id].why
    assert f"by {NAMESAKE} (in your library)" in why
    assert "by Dongxiao Yu (in your library)" in why


def test_content_close_to_the_library_confirms_a_library_author(tmp_path: Path) -> None:
    """A library author's new federated-learning paper with new co-authors: its content,
    two standard deviations or more above the day's average, says it is them."""
    ranker, _ = library_of(tmp_path)
    papers = real_day()
    top = next(iter(ranked(ranker, papers).values()))
    own = replace(top.paper, authors=("Someone New", NAMESAKE))
    day = [own if p.arxiv_id == own.arxiv_id else p for p in papers]
    assert f"by {NAMESAKE} (in your library)" in ranked(ranker, day)[own.arxiv_id].why


@pytest.mark.parametrize(("per_month", "counted"), [(0.5, True), (1.0, True), (12.0, False)])
def test_a_rare_name_in_the_stores_history_confirms_a_library_author(
    tmp_path: Path, per_month: float, counted: bool
) -> None:
    """At most one paper a month under that name: most likely one person."""
    _, library = library_of(tmp_path)
    settings = library_settings(tmp_path, ["federated.bib"], max_papers=93)
    rates = NameRates({"peng li": per_month})
    ranker = Ranker(settings, replace(library, name_rates=rates))
    day, (namesake,) = with_namesakes(real_day(), [NAMESAKE])
    shown = ranked(ranker, day)
    assert (namesake.arxiv_id in shown) is counted
    if counted:
        assert f"by {NAMESAKE} (in your library)" in shown[namesake.arxiv_id].why


def test_a_followed_author_keeps_its_meaning(tmp_path: Path) -> None:
    """``authors`` in the config: the reader asked for that name, whoever carries it."""
    ranker, _ = library_of(tmp_path, authors=[NAMESAKE])
    day, (namesake,) = with_namesakes(real_day(), [NAMESAKE])
    entry = ranked(ranker, day)[namesake.arxiv_id]
    assert entry.why.endswith(f"by {NAMESAKE} (followed)")
    assert "(in your library)" not in entry.why


def test_names_must_agree_on_the_first_name_or_its_initial(tmp_path: Path) -> None:
    (tmp_path / "mine.bib").write_text(
        "@article{a, title={Unrelated}, author={Wang, Wei and Doe, J. and Roe, Anna},"
        " abstract={Nothing alike.}}\n",
        encoding="utf-8",
    )
    settings = library_settings(tmp_path, ["mine.bib"])
    ranker = Ranker(settings, complete(read_library_files(settings), {}))
    assert ranker.relevance is not None
    day = [p for p in real_day() if len(p.authors) > 1][:3]
    names = [("Wen Wang", "Anna Roe"), ("Jane Doe", "Anna Roe"), ("Wei Wang", "Ann Roe")]
    day = [replace(p, authors=n) for p, n in zip(day, names, strict=True)]
    views = ranker.relevance.assess(day)
    assert [tuple(m.name for m in v.matches) for v in views] == [
        ("Anna Roe",),  # "Wen Wang" is not "Wei Wang"
        ("Jane Doe", "Anna Roe"),  # an initial agrees with any first name of its letter
        ("Wei Wang",),  # "Ann Roe" is not "Anna Roe"
    ]
    assert [v.library_authors for v in views] == [
        (),  # Anna Roe's co-authors in the library are Wei Wang and J. Doe, not Wen Wang
        ("Jane Doe", "Anna Roe"),  # each the other's co-author
        (),
    ]


def paper(number: int, day: dt.date, authors: list[str], kind: str = "new") -> Paper:
    return Paper(
        f"2509.{number:05d}", 1, f"Paper {number}", tuple(authors), "Text.", "cs.LG",
        ("cs.LG",), kind, day,
    )  # fmt: skip


def test_the_store_counts_the_distinct_papers_each_name_signs_a_month(store: Store) -> None:
    first, second = dt.date(2025, 9, 1), dt.date(2025, 9, 2)
    # the store fixture: a SQLite file, and PostgreSQL too when one is configured
    store.upsert_papers([
        paper(1, first, ["Rui Li", "Wei Wang"]),
        paper(2, first, ["Rui Li", "Rui  LI"]),  # one paper, one name
        paper(3, first, ["Ada Lovelace"], kind="replace"),  # not a new paper
    ])  # fmt: skip
    assert store.count_names() == 1
    assert store.count_names() == 0  # nothing new: nothing counted twice
    # one announcement day is 1/21 of a month
    assert store.name_rates(["Rui Li", "Wei Wang", "Ada Lovelace", "R. Li"]) == {
        "rui li": 42.0,
        "wei wang": 21.0,
    }
    store.upsert_papers([paper(4, first, ["Rui Li"])])  # a day that grew: counted again
    store.upsert_papers([paper(5, second, ["Wei Wang"])])
    assert store.count_names() == 2
    assert store.name_rates(["Rui Li", "Wei Wang"]) == {"rui li": 31.5, "wei wang": 21.0}


def test_a_run_reads_the_library_names_rates_from_the_store(tmp_path: Path) -> None:
    """After a month of history, a name seen once is rare; a new store knows no rare name
    (today's own paper alone makes twenty a month)."""
    (tmp_path / "mine.bib").write_text(  # no arXiv id: nothing to look up
        f"@article{{a, title={{Federated fine-tuning}}, author={{{NAMESAKE} and Zhou Su}},"
        " abstract={We fine-tune models across clients.}}\n",
        encoding="utf-8",
    )
    settings = library_settings(tmp_path, ["mine.bib"])
    days = [dt.date(2025, 8, 1) + dt.timedelta(days=n) for n in range(30)]
    with (
        Store(f"sqlite:///{tmp_path / 'store.sqlite'}") as store,
        http.make_client(settings.http) as client,
    ):
        store.upsert_papers([paper(1, days[-1], [NAMESAKE, "Someone Else"])])
        assert not load_library(settings, store, client).name_rates.rare(NAMESAKE)
        store.upsert_papers([paper(n + 2, d, ["Filler Author"]) for n, d in enumerate(days)])
        library = load_library(settings, store, client)
    assert library.name_rates.rate(NAMESAKE) == pytest.approx(21 / 30)
    assert library.name_rates.rare(NAMESAKE)
