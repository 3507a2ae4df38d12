"""Relevance by the reader's library: what it lifts, what it reads, how it explains itself."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import pytest
from pytest_httpserver import HTTPServer

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.delivery.outline import outline_item
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import DigestEntry, Paper
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.relevance.library import Library, complete, read_library_files
from arxiv_digest.relevance.similarity import document
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store
from tests.conftest import (
    REPO,
    MakeSettings,
    fixture_bytes,
    run_once,
    run_refused_as_config_error,
    serve_feed,
)

DATA = REPO / "tests" / "fixtures" / "relevance"
CATS = "cs.AI+cs.CL+cs.LG"


def real_day() -> list[Paper]:
    day = json.loads((DATA / "day-2025-09-11.json").read_text(encoding="utf-8"))
    return [
        Paper(
            arxiv_id=p["arxiv_id"],
            version=1,
            title=p["title"],
            authors=tuple(p["authors"]),
            abstract=p["abstract"],
            primary_category=p["category"],
            categories=(p["category"],),
            announce_type="new",
            announced=dt.date.fromisoformat(p["day"]),
        )
        for p in day["papers"]
    ]


def about_federated_learning(paper: Paper) -> bool:
    return "federated" in f"{paper.title} {paper.abstract}".lower()


def library_settings(tmp_path: Path, library: list[Any], **config: Any) -> Settings:
    raw = {
        "categories": ["cs.AI", "cs.CL", "cs.LG", "cs.DC", "cs.CV", "stat.ML", "cs.CR"],
        "keywords": [],
        "max_papers": 10,
        "relevance": {"library": library},
        **config,
    }
    return with_paths_resolved(parse_settings(raw), tmp_path)


def ranked_with_library(settings: Settings, papers: list[Paper]) -> list[Any]:
    library = complete(read_library_files(settings), {})
    return Ranker(settings, library).rank(select_candidates(papers, settings))


def test_a_federated_learning_library_lifts_the_days_federated_papers_to_the_top() -> None:
    papers = real_day()
    assert sum(map(about_federated_learning, papers)) == 6  # of 93
    settings = library_settings(DATA, ["library-federated.csl.json"])
    ranked = ranked_with_library(settings, papers)
    top = [r.paper for r in ranked]
    assert all(map(about_federated_learning, top[:4]))
    assert sum(map(about_federated_learning, top[:8])) >= 5
    assert ranked[0].why == "close to your library on federated learning"  # its theme


def test_without_a_library_only_keywords_count() -> None:
    papers = real_day()
    raw = {"categories": ["cs.AI", "cs.LG", "cs.DC"], "keywords": ["federated"]}
    settings = parse_settings(raw)
    ranked = Ranker(settings).rank(select_candidates(papers, settings))
    assert {r.paper.arxiv_id for r in ranked} <= {p.arxiv_id for p in papers}
    assert all(r.why == "" and r.matched == ("federated",) for r in ranked)


def test_authors_in_the_library_are_a_reason_of_their_own_when_a_co_author_confirms_them(
    tmp_path: Path,
) -> None:
    """An unrelated paper of the day whose first two authors wrote a library paper together:
    the shared co-author says it is the same person, so the name is a reason to show it."""
    papers = real_day()
    chosen = next(p for p in papers if not about_federated_learning(p) and len(p.authors) > 1)
    first, second = chosen.authors[0], chosen.authors[1]
    (tmp_path / "mine.bib").write_text(
        "@article{mine, title={An unrelated topic entirely}, "
        f"author={{{first} and {second}}}, abstract={{Nothing alike.}}}}\n",
        encoding="utf-8",
    )
    settings = library_settings(tmp_path, ["mine.bib"], max_papers=93)
    ranked = {r.paper.arxiv_id: r for r in ranked_with_library(settings, papers)}
    assert f"by {first} (in your library)" in ranked[chosen.arxiv_id].why
    assert f"by {second} (in your library)" in ranked[chosen.arxiv_id].why


def test_an_author_you_have_many_papers_of_counts_for_more_than_a_one_time_co_author(
    tmp_path: Path,
) -> None:
    """Two unrelated papers of the day, each with one author in the library (and a co-author
    of theirs there too): the one whose author wrote four of the library's papers ranks
    above the one-time co-author's."""
    papers = real_day()
    unrelated = [
        p
        for p in papers
        if not about_federated_learning(p)
        and len(p.authors) > 2
        and all(a.isascii() and "\\" not in a for a in p.authors[:2])
    ]
    often, once = unrelated[0], unrelated[1]
    entries = [
        f"@article{{o{n}, title={{Unrelated topic {n}}}, "
        f"author={{{often.authors[0]} and {often.authors[1]}}}, abstract={{Nothing alike.}}}}"
        for n in range(4)
    ]
    entries.append(
        "@article{c, title={Another topic}, "
        f"author={{{once.authors[1]} and {once.authors[0]}}}, abstract={{Nothing alike.}}}}"
    )
    (tmp_path / "mine.bib").write_text("\n".join(entries) + "\n", encoding="utf-8")
    settings = library_settings(tmp_path, ["mine.bib"], max_papers=93)
    ranked = {r.paper.arxiv_id: r for r in ranked_with_library(settings, papers)}
    order = list(ranked)
    assert order.index(often.arxiv_id) < order.index(once.arxiv_id)
    # each paper has two library authors: 8 × (3 + 3) against 8 × (1 + 1)
    assert ranked[often.arxiv_id].score - ranked[once.arxiv_id].score >= 8.0 * 4


def bibtex_entry(item: dict[str, Any]) -> str:
    """A CSL-JSON item of the fixture library as the BibTeX a reader would export."""
    authors = " and ".join(f"{a['family']}, {a['given']}" for a in item["author"])
    year = item["issued"]["date-parts"][0][0]
    return (
        f"@article{{{item['id']}, title={{{item['title']}}}, author={{{authors}}}, "
        f"abstract={{{item['abstract']}}}, eprint={{{item['id']}}}, year={{{year}}}}}"
    )


def federated_bibtex(tmp_path: Path, count: int = 8) -> Path:
    items = json.loads((DATA / "library-federated.csl.json").read_text(encoding="utf-8"))
    path = tmp_path / "federated.bib"
    path.write_text("\n".join(bibtex_entry(i) for i in items[:count]) + "\n", encoding="utf-8")
    return path


def with_namesakes(papers: list[Paper], names: list[str]) -> tuple[list[Paper], list[Paper]]:
    """The day with one author of as many papers off the library's topic renamed to each of
    ``names``: other people who happen to carry a library author's name."""
    others = [p for p in papers if not about_federated_learning(p) and len(p.authors) > 1]
    namesakes = [
        replace(p, authors=(p.authors[0], name, *p.authors[2:]))
        for p, name in zip(others, names, strict=False)
    ]
    kept = [p for p in papers if p not in others[: len(namesakes)]]
    return kept + namesakes, namesakes


def test_a_library_only_digest_of_a_real_day_puts_the_library_topic_first_not_namesakes(
    tmp_path: Path,
) -> None:
    """As a new user: a BibTeX library of 8 federated-learning papers, no keywords, a real
    day with 6 federated-learning papers, and four papers off the topic each carrying a
    common name of a one-time co-author in the library (as "Rui Li" did). The top 5 are the
    library's topic, each with a why line; no namesake is in the top 10."""
    federated_bibtex(tmp_path)
    day, namesakes = with_namesakes(real_day(), ["Peng Li", "Haozhao Wang", "Weihua Li", "Zhou Su"])
    settings = library_settings(tmp_path, ["federated.bib"], max_papers=10)
    ranked = ranked_with_library(settings, day)
    top = [r.paper for r in ranked[:5]]
    assert sum(map(about_federated_learning, top)) >= 4
    assert all(r.why for r in ranked[:5])
    assert not {p.arxiv_id for p in namesakes} & {r.paper.arxiv_id for r in ranked[:10]}
    assert not any("(in your library)" in r.why for r in ranked)


def test_bibtex_csl_json_and_arxiv_references_are_read(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(
        r"""@article{a, title={{Schr\"odinger} bridges for {LLM} alignment},
  author={Doe, Jane and Gonz{\'a}lez, Ra{\'u}l}, eprint={2401.12345}, year={2024},
  primaryClass={cs.LG}, abstract={We align models.}}
@inproceedings{b, title={No abstract here}, author={Roe, R.}, doi={10.1000/xyz}}
""",
        encoding="utf-8",
    )
    (tmp_path / "zotero.json").write_text(
        json.dumps([{"title": "A CSL item", "abstract": "Text.", "DOI": "10.48550/arXiv.2402.00001",
                     "author": [{"given": "Ada", "family": "Lovelace"}, {"literal": "ACME Lab"}]}]),
        encoding="utf-8",
    )  # fmt: skip
    settings = library_settings(
        tmp_path, ["refs.bib", "zotero.json", "https://arxiv.org/abs/2403.00002v2"]
    )
    entries = {e.key: e for e in read_library_files(settings)}
    first = entries["arxiv:2401.12345"]
    assert first.title == "Schrödinger bridges for LLM alignment"
    assert first.authors == ("Jane Doe", "Raúl González")
    assert first.added == dt.date(2024, 1, 1)
    assert first.categories == ("cs.LG",)
    assert entries["doi:10.1000/xyz"].abstract == ""
    assert entries["arxiv:2402.00001"].authors == ("Ada Lovelace", "ACME Lab")
    assert entries["arxiv:2403.00002"].arxiv_id == "2403.00002"  # to be looked up


def twins_filed_apart(paper: Paper, here: str, elsewhere: str) -> tuple[Paper, Paper]:
    """Two copies of one paper, words alike, filed under different categories."""
    return (
        replace(paper, arxiv_id="2609.90001", primary_category=here, categories=(here,)),
        replace(paper, arxiv_id="2609.90002", primary_category=elsewhere, categories=(elsewhere,)),
    )


def bibtex_of(papers: list[Paper], *, filed: bool) -> str:
    return "\n".join(
        f"@article{{k{n}, title={{{p.title}}}, abstract={{{p.abstract}}}"
        + (f", primaryClass={{{p.primary_category}}}" if filed else "")
        + "}"
        for n, p in enumerate(papers)
    )


def test_a_paper_filed_where_the_library_is_ranks_above_its_twin_filed_elsewhere(
    tmp_path: Path,
) -> None:
    """The library's federated-learning papers are mostly cs.DC; of two copies of the
    day's paper closest to them, the copy filed under cs.DC outranks the one filed under
    cs.CV, where the library has nothing."""
    papers = real_day()
    library = [p for p in papers if about_federated_learning(p)]
    assert Counter(p.primary_category for p in library).most_common(1)[0][0] == "cs.DC"
    (tmp_path / "mine.bib").write_text(bibtex_of(library, filed=True), encoding="utf-8")
    settings = library_settings(  # the twins share a title: keep both
        tmp_path, ["mine.bib"], max_papers=200, enable_deduplication=False
    )
    others = [p for p in papers if not about_federated_learning(p)]
    closest = ranked_with_library(settings, others)[0].paper
    in_dc, in_cv = twins_filed_apart(closest, "cs.DC", "cs.CV")
    day = [p for p in others if p is not closest] + [in_dc, in_cv]
    ranked = {r.paper.arxiv_id: r for r in ranked_with_library(settings, day)}
    assert ranked[in_dc.arxiv_id].score > ranked[in_cv.arxiv_id].score
    order = list(ranked)
    assert order.index(in_dc.arxiv_id) < order.index(in_cv.arxiv_id)


def test_categories_count_nothing_when_the_library_does_not_say_where_it_is_filed(
    tmp_path: Path,
) -> None:
    papers = real_day()
    library = [p for p in papers if about_federated_learning(p)]
    (tmp_path / "mine.bib").write_text(bibtex_of(library, filed=False), encoding="utf-8")
    day = [p for p in papers if not about_federated_learning(p)]

    def scores(weight: float) -> dict[str, float]:
        settings = library_settings(
            tmp_path, ["mine.bib"], max_papers=200,
            relevance={"library": ["mine.bib"], "weights": {"categories": weight}},
        )  # fmt: skip
        return {r.paper.arxiv_id: r.score for r in ranked_with_library(settings, day)}

    assert scores(0.5) == scores(0.0)


@pytest.mark.parametrize(
    ("library", "content", "message"),
    [
        (["missing.bib"], None, "relevance.library[0]: "),
        (["broken.json"], "{not json", "relevance.library[0]: "),
        (["notes.txt"], "x", "neither a .bib or .json file nor an arXiv id"),
        ([{"mendeley": "x.json"}], None, "unknown library source 'mendeley'"),
        ([{"zotero": {"user": 1}}], None, "relevance.library[0].zotero.user: unknown key"),
        ([{"zotero": {"library_id": "1", "api_key_env": "zk-7Hq2 key"}}], None,
         "relevance.library[0].zotero.api_key_env: "),
    ],
)  # fmt: skip
def test_a_bad_library_is_a_config_error_before_anything_is_created(
    tmp_path: Path, library: list[Any], content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / str(library[0])).write_text(content, encoding="utf-8")
    config = {"categories": ["cs.AI"], "relevance": {"library": library}}
    assert message in run_refused_as_config_error(tmp_path, config)


@pytest.mark.parametrize("parts", [5, {"a": 1}, [[2024, None]], [2024], [["May"]], [[0]]])
def test_a_csl_date_that_is_not_year_month_day_is_a_config_error_naming_the_item(
    tmp_path: Path, parts: Any
) -> None:
    items = [
        {"title": "Fine", "issued": {"date-parts": [[2024, 3]]}},
        {"title": "Broken date", "issued": {"date-parts": parts}},
    ]
    (tmp_path / "lib.json").write_text(json.dumps(items), encoding="utf-8")
    config = {"categories": ["cs.AI"], "relevance": {"library": ["lib.json"]}}
    message = run_refused_as_config_error(tmp_path, config)
    assert "relevance.library[0]: " in message and "lib.json" in message
    assert "item 2 (Broken date): issued.date-parts" in message


def test_csl_dates_in_any_of_their_valid_forms(tmp_path: Path) -> None:
    dates = {
        "day": {"date-parts": [[2024, 3, 5]]},
        "text": {"date-parts": [["2023", "11"]]},
        "season": {"date-parts": [[2022, 21]]},  # CSL's months 21-24 are seasons
        "range": {"date-parts": [[2020, 1], [2021, 6]]},
        "raw": {"raw": "2024"},  # no date-parts: no date
    }
    items = [{"title": t, "abstract": "Text.", "issued": d} for t, d in dates.items()]
    (tmp_path / "lib.json").write_text(json.dumps(items), encoding="utf-8")
    entries = read_library_files(library_settings(tmp_path, ["lib.json"]))
    assert {e.title: e.added for e in entries} == {
        "day": dt.date(2024, 3, 5),
        "text": dt.date(2023, 11, 1),
        "season": dt.date(2022, 1, 1),
        "range": dt.date(2020, 1, 1),
        "raw": None,
    }


def test_a_bad_library_file_fails_to_load_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "lib.json").write_text('{"items": 3}', encoding="utf-8")
    settings = library_settings(tmp_path, ["lib.json"])
    with pytest.raises(ConfigError, match=r"relevance\.library\[0\]: .*lib\.json"):
        read_library_files(settings)


def test_why_lines_in_readme_site_and_feeds(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, tmp_path: Path
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    day = parse_rss(combined_feed).papers
    liked = next(p for p in day if "reasoning" in p.title.lower())
    (tmp_path / "library.bib").write_text(
        f"@article{{x, title={{{liked.title}}}, abstract={{{liked.abstract}}}}}\n",
        encoding="utf-8",
    )
    settings = make_settings(keywords=["LLM"], relevance={"library": ["library.bib"]})
    run_once(settings)
    readme = settings.output.readme.read_text(encoding="utf-8")
    assert f"**Why**: similar to “{liked.title[:60]}" in readme
    both = [b for b in readme.split("\n### ") if "**Matched**" in b and "**Why**" in b]
    assert both and all(b.index("**Matched**") < b.index("**Why**") for b in both)
    site = (settings.output.site_dir / "index.html").read_text(encoding="utf-8")
    assert '<p class="why">similar to “' in site
    feed = feedparser.parse((settings.output.site_dir / "rss.xml").read_bytes())
    assert any("Why" in e.summary and "similar to" in e.summary for e in feed.entries)


def test_arxiv_entries_are_looked_up_once_then_read_from_the_store(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_all-nicotine_10entries.xml"), content_type="application/atom+xml"
    )
    settings = make_settings(
        relevance={"library": ["1509.01687"]}, arxiv={"api_delay": 0}, http={"retries": 0}
    )
    run_once(settings)
    run_once(settings)
    lookups = [r for r, _ in httpserver.log if r.path == "/api/query"]
    assert len(lookups) == 1


def test_arxiv_entries_with_their_own_abstract_are_looked_up_once_for_their_categories(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, tmp_path: Path
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    httpserver.expect_request("/api/query").respond_with_data(
        fixture_bytes("api/query_all-nicotine_10entries.xml"),
        content_type="application/atom+xml",
    )
    (tmp_path / "library.bib").write_text(
        "@article{a, title={Mine}, eprint={1509.01687}, abstract={My own words.}}\n",
        encoding="utf-8",
    )
    settings = make_settings(
        relevance={"library": ["library.bib"]}, arxiv={"api_delay": 0}, http={"retries": 0}
    )
    run_once(settings)
    run_once(settings)
    lookups = [r for r, _ in httpserver.log if r.path == "/api/query"]
    assert len(lookups) == 1
    assert "1509.01687" in lookups[0].args["id_list"]
    with Store(settings.store.url) as store:
        stored = store.paper("1509.01687")
    assert stored is not None and stored.primary_category == "cond-mat.mes-hall"


def test_ratings_move_papers_a_thumbs_up_joins_the_library_a_thumbs_down_leaves(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    settings = make_settings(keywords=["LLM", "reasoning", "agents"], relevance={"library": []})
    run_once(settings)
    before = settings.output.readme.read_text(encoding="utf-8")
    papers = {p.arxiv_id: p for p in parse_rss(combined_feed).papers}
    shown = [i for i in papers if f"abs/{i})" in before]
    liked, disliked = papers[shown[-1]], papers[shown[0]]
    with Store(settings.store.url) as store:
        now = dt.datetime(2026, 4, 27, 13, tzinfo=dt.UTC)
        store.rate(liked.arxiv_id, 1, "cli", now)
        store.rate(disliked.arxiv_id, -1, "cli", now)
    run_once(settings)
    after = settings.output.readme.read_text(encoding="utf-8")
    assert f"abs/{disliked.arxiv_id})" not in after  # 👎: not shown again
    assert f"abs/{liked.arxiv_id})" in after
    assert f"similar to “{liked.title[:40]}" not in after.split(liked.title, 1)[1].split("---")[0]
    assert "similar to “" in after  # the liked paper now draws others like it


def test_enough_ratings_teach_a_model_that_moves_papers_like_them() -> None:
    papers = real_day()
    federated = [p for p in papers if about_federated_learning(p)]
    others = [p for p in papers if not about_federated_learning(p)]
    # The reader liked two federated-learning papers and disliked ten others, earlier.
    rated = tuple(
        [(document(p.title, p.abstract), 1) for p in federated[:2]]
        + [(document(p.title, p.abstract), -1) for p in others[:10]]
    )
    today = federated[2:] + others[10:]
    settings = library_settings(DATA, [], max_papers=len(today), keywords=["xyzzy"])
    assert settings.relevance is not None
    untaught = Ranker(settings, Library(())).rank(today)
    assert untaught == []  # no keyword, no library: nothing to go on
    taught = Ranker(settings, Library((), rated=rated)).rank(today)
    top = [r.paper for r in taught[:4]]
    assert sum(map(about_federated_learning, top)) >= 3
    assert "like papers you rated 👍" in taught[0].why
    too_few = settings.model_copy(
        update={"relevance": settings.relevance.model_copy(update={"min_ratings": 13})}
    )
    assert Ranker(too_few, Library((), rated=rated)).rank(today) == []


def test_math_in_a_library_title_shows_as_the_page_shows_math_and_as_text_elsewhere(
    httpserver: HTTPServer, make_settings: MakeSettings, combined_feed: bytes, tmp_path: Path
) -> None:
    serve_feed(httpserver, CATS, combined_feed)
    liked = next(p for p in parse_rss(combined_feed).papers if "reasoning" in p.title.lower())
    (tmp_path / "library.bib").write_text(
        f"@article{{x, title={{R$^2$: {liked.title}}}, abstract={{{liked.abstract}}}}}\n",
        encoding="utf-8",
    )
    settings = make_settings(keywords=["LLM"], relevance={"library": ["library.bib"]})
    run_once(settings)
    readme = settings.output.readme.read_text(encoding="utf-8")
    assert "**Why**: similar to “R²: " in readme  # plain text, as a README line
    site = (settings.output.site_dir / "index.html").read_text(encoding="utf-8")
    assert '<p class="why">similar to “R<math' in site  # MathML, as the page's titles
    with Store(settings.store.url) as store:
        run = store.last_run()
        assert run is not None
        shown = [r for r in store.ranking(run["id"]) if "R$^2$" in r.why]
    item = outline_item(1, DigestEntry(shown[0]), settings)  # what chat and e-mail show
    assert "similar to “R²: " in item.why and "$" not in item.why
