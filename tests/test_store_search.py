"""Searching the store: SQLite FTS5 always, PostgreSQL when ARXIV_DIGEST_TEST_PG is set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from arxiv_digest.errors import SearchError
from arxiv_digest.models import Paper, RankedPaper, RunReport, Summary
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store, migrations, schema, search
from arxiv_digest.store.rows import paper_row
from arxiv_digest.store.search_query import parse_query
from tests.conftest import fixture_bytes

MakePaper = Callable[..., Paper]
NOW = dt.datetime(2026, 4, 28, 9, tzinfo=dt.UTC)


def ids(store: Store, query: str, **filters: object) -> list[str]:
    return [hit.paper.arxiv_id for hit in store.search(query, **filters).hits]  # type: ignore[arg-type]


def summarize(store: Store, paper: Paper, text: str, when: dt.datetime = NOW) -> None:
    store.save_summary(Summary(paper.arxiv_id, paper.version, "test-model", text), "p", when)


def publish(store: Store, papers: list[Paper], day: dt.date) -> None:
    """A published digest of ``day`` listing ``papers``."""
    run_id = store.start_run(NOW)
    store.save_ranking(run_id, [RankedPaper(p, 1.0, (), p.primary_category) for p in papers])
    report = RunReport(status="ok", ranked=len(papers), digest_date=day)
    store.finish_run(run_id, report, NOW, fingerprint=f"digest-{day}")


def test_a_title_match_ranks_above_an_abstract_only_match(
    store: Store, make_paper: MakePaper
) -> None:
    in_abstract = make_paper(title="Efficient inference", abstract="We use a transformer here.")
    in_title = make_paper(title="A transformer for proteins", abstract="Proteins fold.")
    neither = make_paper(title="Graph colouring", abstract="Colours on graphs.")
    store.upsert_papers([in_abstract, in_title, neither])

    page = store.search("transformer")

    assert [hit.paper.arxiv_id for hit in page.hits] == [in_title.arxiv_id, in_abstract.arxiv_id]
    assert page.total == 2
    assert page.hits[0].score > page.hits[1].score
    assert page.hits[0].title.html == "A <mark>transformer</mark> for proteins"
    assert page.hits[1].snippet.html == "We use a <mark>transformer</mark> here."
    assert page.hits[0].paper == store.paper(in_title.arxiv_id)


def test_every_stored_paper_is_searchable_not_only_the_shown_ones(store: Store) -> None:
    papers = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers
    store.upsert_papers(papers)

    page = store.search('"neural networks"', limit=5)

    assert page.total == 9 and len(page.hits) == 5 and page.has_next
    assert all("neural network" in h.title.text.lower() + h.snippet.text.lower() for h in page.hits)
    assert not any(hit.shown for hit in page.hits)


def test_words_match_other_forms_of_the_same_word(store: Store, make_paper: MakePaper) -> None:
    paper = make_paper(title="Networks that reason", abstract="Reasoning about networks.")
    store.upsert_papers([paper])

    assert ids(store, "network") == ids(store, "NETWORKS") == [paper.arxiv_id]
    assert ids(store, "reasoning") == [paper.arxiv_id]


def test_authors_are_searchable_and_marked(store: Store, make_paper: MakePaper) -> None:
    paper = make_paper(authors=("Grace Hopper", "Alan Turing"))
    store.upsert_papers([paper, make_paper()])

    [hit] = store.search("turing").hits

    assert hit.paper.arxiv_id == paper.arxiv_id
    assert hit.authors.html == "Grace Hopper, Alan <mark>Turing</mark>"


def test_accents_are_ignored_either_way_and_the_accented_name_is_marked(
    store: Store, make_paper: MakePaper
) -> None:
    paper = make_paper(
        title="Schrödinger bridges for generative models", authors=("Raúl González",)
    )
    store.upsert_papers([paper, make_paper()])

    assert ids(store, "gonzalez") == ids(store, "GONZÁLEZ") == [paper.arxiv_id]
    assert ids(store, "schrodinger bridges") == [paper.arxiv_id]
    [hit] = store.search("gonzalez").hits
    assert hit.authors.html == "Raúl <mark>González</mark>"


def test_ai_summaries_are_searchable_and_the_snippet_comes_from_them(
    store: Store, make_paper: MakePaper
) -> None:
    paper = make_paper(title="Protein folding", abstract="We fold proteins.")
    store.upsert_papers([paper])
    assert ids(store, "zebrafish") == []

    summarize(store, paper, "## Results\n\n- A **zebrafish** model of folding | 12% |")

    [hit] = store.search("zebrafish").hits
    assert hit.snippet_from == "summary"
    assert hit.snippet.html == "Results A <mark>zebrafish</mark> model of folding 12%"


def test_a_newer_summary_replaces_the_older_one_in_the_index(
    store: Store, make_paper: MakePaper
) -> None:
    paper = make_paper()
    store.upsert_papers([paper])
    summarize(store, paper, "About walruses.", NOW)
    summarize(store, paper, "About narwhals.", NOW + dt.timedelta(hours=1))

    assert ids(store, "narwhals") == [paper.arxiv_id]
    assert ids(store, "walruses") == []


def test_a_new_version_replaces_the_old_one_in_the_index(
    store: Store, make_paper: MakePaper
) -> None:
    v1 = make_paper(title="Sparse attention", abstract="An early draft.")
    store.upsert_papers([v1])
    v2 = make_paper(
        arxiv_id=v1.arxiv_id,
        version=2,
        title="Dense attention",
        abstract="The final method.",
        announce_type="replace",
        announced=v1.announced + dt.timedelta(days=7),
    )
    store.upsert_papers([v2])

    [hit] = store.search("attention").hits
    assert (hit.paper.version, hit.paper.title, hit.paper.announced) == (2, v2.title, v2.announced)
    assert ids(store, "sparse") == []
    assert ids(store, "dense") == [v1.arxiv_id]


def test_storing_the_same_papers_again_leaves_the_same_results(store: Store) -> None:
    papers = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers
    store.upsert_papers(papers)
    first = store.search("regression", limit=50)
    store.upsert_papers(papers)
    again = store.search("regression", limit=50)

    assert first.total == again.total > 5
    assert [h.paper.arxiv_id for h in first.hits] == [h.paper.arxiv_id for h in again.hits]


def test_phrases_exclusions_and_alternatives(store: Store, make_paper: MakePaper) -> None:
    phrase = make_paper(title="Graph neural networks at scale")
    apart = make_paper(title="Neural nets on a graph")
    trees = make_paper(title="Decision trees at scale")
    store.upsert_papers([phrase, apart, trees])

    assert ids(store, '"graph neural"') == [phrase.arxiv_id]
    assert sorted(ids(store, "graph neural")) == sorted([phrase.arxiv_id, apart.arxiv_id])
    assert ids(store, "neural -scale") == [apart.arxiv_id]
    assert ids(store, 'scale -"graph neural"') == [trees.arxiv_id]
    assert sorted(ids(store, "trees OR graph")) == sorted(
        [phrase.arxiv_id, apart.arxiv_id, trees.arxiv_id]
    )
    assert ids(store, "scale trees OR nets") == [trees.arxiv_id]


def test_filters_narrow_the_results(store: Store, make_paper: MakePaper) -> None:
    day = dt.date(2026, 4, 27)
    lg = make_paper(title="Kernels one", primary_category="cs.LG", categories=("cs.LG",))
    cross = make_paper(
        title="Kernels two",
        primary_category="stat.ML",
        categories=("stat.ML", "cs.LG"),
        announced=day - dt.timedelta(days=30),
    )
    math = make_paper(
        title="Kernels three",
        primary_category="math-ph",
        categories=("math-ph",),
        announced=day - dt.timedelta(days=60),
    )
    store.upsert_papers([lg, cross, math])
    publish(store, [lg], day)
    store.rate(cross.arxiv_id, 1, "cli", NOW)
    store.rate(math.arxiv_id, -1, "cli", NOW)

    assert ids(store, "kernels") == [lg.arxiv_id, cross.arxiv_id, math.arxiv_id]
    assert ids(store, "kernels", category="cs.LG") == [lg.arxiv_id, cross.arxiv_id]
    assert ids(store, "kernels", category="stat") == [cross.arxiv_id]
    assert ids(store, "kernels", category="math") == []  # math-ph is not an archive of math
    assert ids(store, "kernels", category="math-ph") == [math.arxiv_id]
    assert ids(store, "kernels", since=day - dt.timedelta(days=30)) == [lg.arxiv_id, cross.arxiv_id]
    assert ids(store, "kernels", until=day - dt.timedelta(days=31)) == [math.arxiv_id]
    assert ids(store, "kernels", shown=True) == [lg.arxiv_id]
    assert ids(store, "kernels", shown=False) == [cross.arxiv_id, math.arxiv_id]
    assert ids(store, "kernels", rated="up") == [cross.arxiv_id]
    assert ids(store, "kernels", rated="down") == [math.arxiv_id]
    assert ids(store, "kernels", rated="any") == [cross.arxiv_id, math.arxiv_id]
    assert ids(store, "kernels", rated="none") == [lg.arxiv_id]
    hits = {h.paper.arxiv_id: h for h in store.search("kernels").hits}
    assert (hits[lg.arxiv_id].shown_on, hits[lg.arxiv_id].rating) == (day, None)
    assert (hits[cross.arxiv_id].shown_on, hits[cross.arxiv_id].rating) == (None, 1)


def test_newest_first_on_request(store: Store, make_paper: MakePaper) -> None:
    day = dt.date(2026, 4, 27)
    old = make_paper(title="Diffusion diffusion diffusion", announced=day - dt.timedelta(days=9))
    new = make_paper(abstract="Some diffusion.", announced=day)
    store.upsert_papers([old, new])

    assert ids(store, "diffusion") == [old.arxiv_id, new.arxiv_id]
    assert ids(store, "diffusion", sort="newest") == [new.arxiv_id, old.arxiv_id]


def test_pages_follow_one_another(store: Store, make_paper: MakePaper) -> None:
    store.upsert_papers([make_paper(title=f"Agents {n}") for n in range(7)])

    pages = [store.search("agents", limit=3, offset=offset) for offset in (0, 3, 6)]

    assert [len(p.hits) for p in pages] == [3, 3, 1]
    assert [p.has_next for p in pages] == [True, True, False]
    assert {p.total for p in pages} == {7}
    assert len({h.paper.arxiv_id for p in pages for h in p.hits}) == 7


HOSTILE = [
    '"unclosed phrase',
    'a"b"c"',
    '""',
    "title: NEAR(agents tools, 3) ^start *",
    "agents AND OR NOT",
    "'; DROP TABLE papers; --",
    "agents' OR '1'='1",
    "<script>alert(1)</script>",
    "(((",
    "agents & | ! <-> :*",
    "\x00 agents \u202e",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_is_an_ordinary_query(
    store: Store, make_paper: MakePaper, query: str
) -> None:
    store.upsert_papers([make_paper(title="Agents <b>with</b> tools", abstract="NEAR agents.")])
    try:
        page = store.search(query)
    except SearchError as exc:
        assert len(str(exc)) < 80
        return
    for hit in page.hits:
        assert "<b>" not in hit.title.html and "&lt;b&gt;" in hit.title.html
    assert store.count_papers() == 1


@pytest.mark.parametrize(
    "query", ["agents\x00", "\x00agents", "tools\x00agents", "agents\x1b\x7f\x85", "agents \udcff"]
)
def test_control_characters_and_undecodable_bytes_separate_words(
    store: Store, make_paper: MakePaper, query: str
) -> None:
    """A NUL ended FTS5's quoted string: a StoreError, "search is unavailable" on the web.
    A lone surrogate (a command line's undecodable byte) could not be encoded for the engine."""
    paper = make_paper(title="Agents with tools")
    store.upsert_papers([paper])

    assert ids(store, query) == [paper.arxiv_id]
    assert parse_query("graph\x00nets").groups == (("graph",), ("nets",))


def test_a_script_in_a_title_is_text_in_the_highlight(store: Store, make_paper: MakePaper) -> None:
    store.upsert_papers([make_paper(title="<script>alert(1)</script> attacks")])

    [hit] = store.search("attacks").hits

    assert hit.title.text == "<script>alert(1)</script> attacks"
    assert hit.title.html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>attacks</mark>"


@pytest.mark.parametrize(
    ("query", "filters", "message"),
    [
        ("", {}, "nothing to search for"),
        ("  ?! ... ", {}, "nothing to search for"),
        ("-agents", {}, "not only words to exclude"),
        ("x" * 301, {}, "too long"),
        (" ".join(["w"] * 17), {}, "too many words"),
        ("agents", {"limit": 0}, "limit"),
        ("agents", {"limit": 101}, "limit"),
        ("agents", {"offset": -1}, "offset"),
        ("agents", {"category": "cs.LG%"}, "category"),
        ("agents", {"category": "' OR 1=1"}, "category"),
        ("agents", {"rated": "maybe"}, "rated"),
        ("agents", {"sort": "random"}, "sort"),
        ("agents", {"since": dt.date(2026, 5, 1), "until": dt.date(2026, 4, 1)}, "date range"),
    ],
)
def test_a_search_that_cannot_be_run_says_why(
    store: Store, query: str, filters: dict[str, object], message: str
) -> None:
    with pytest.raises(SearchError, match=message):
        store.search(query, **filters)  # type: ignore[arg-type]


def test_the_query_language_is_small_and_spelled_out() -> None:
    parsed = parse_query('graph "neural net" -survey OR trees -"a b"')
    assert parsed.groups == (("graph",), ("neural net",), ("trees",))
    assert parsed.excluded == ("survey", "a b")  # an OR after an exclusion joins nothing
    assert parse_query('x"y').fts5() == '("x""y")'
    assert parse_query("a OR b c").fts5() == '("a" OR "b") AND ("c")'


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        yield request.getfixturevalue("pg_url")


def paper_key(paper: Paper) -> dict[str, object]:
    return {"arxiv_id": paper.arxiv_id, "version": paper.version}


def test_upgrading_a_store_indexes_the_papers_it_already_has(
    empty_database: str, make_paper: MakePaper
) -> None:
    paper = make_paper(title="Quantum error correction", authors=("Peter Shor",))
    before_0012 = 11
    engine = create_engine(empty_database)
    with engine.begin() as conn:  # the store as arxiv-digest left it before search existed
        for _, step in migrations.MIGRATIONS[:before_0012]:
            step(conn)
        conn.execute(insert(schema.meta).values(key="schema_version", value=str(before_0012)))
        conn.execute(insert(schema.papers).values(paper_row(paper)))
        announced = {"announced": paper.announced, "announce_type": paper.announce_type}
        conn.execute(insert(schema.announcements).values(**paper_key(paper), **announced))
        summary = {"model": "m", "prompt_hash": "p", "input_mode": "abstract"}
        conn.execute(
            insert(schema.summaries).values(
                **paper_key(paper), **summary, text="Stabiliser codes.", created_at=NOW
            )
        )
    engine.dispose()

    with Store(empty_database) as upgraded:
        assert upgraded.schema_version() == migrations.SCHEMA_VERSION
        assert ids(upgraded, "quantum") == ids(upgraded, "shor") == [paper.arxiv_id]
        assert ids(upgraded, "stabiliser") == [paper.arxiv_id]
        upgraded.upsert_papers([make_paper(title="Quantum walks")])
        assert upgraded.search("quantum").total == 2


@pytest.mark.postgres
def test_on_postgresql_a_store_in_its_own_schema_ignores_accents_too(
    pg_url: str, make_paper: MakePaper
) -> None:
    """The unaccent extension lives in one schema of the database (public, here, where an
    earlier store put it); a store whose search_path leaves that schema out still finds
    González as "gonzalez"."""
    with Store(pg_url):
        pass  # the extension, in public
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS own_schema CASCADE"))
        conn.execute(text("CREATE SCHEMA own_schema"))
    try:
        paper = make_paper(title="Bridges", authors=("Raúl González",))
        with Store(f"{pg_url}?options=-csearch_path%3Down_schema") as store:
            store.upsert_papers([paper])
            assert ids(store, "gonzalez") == [paper.arxiv_id]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA own_schema CASCADE"))
        engine.dispose()


def test_a_word_in_every_paper_ranks_only_the_most_recently_stored_matches(
    store: Store, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RANKED", 3)  # 2,000 in use: bounded work per search
    best_but_old = make_paper(title="Lattice lattice lattice")
    store.upsert_papers([best_but_old])
    recent = [make_paper(abstract=f"On a lattice, part {n}.") for n in range(4)]
    store.upsert_papers(recent)

    page = store.search("lattice")

    assert (page.total, page.capped, page.has_next) == (3, True, False)
    assert {h.paper.arxiv_id for h in page.hits} == {p.arxiv_id for p in recent[1:]}
    assert store.search('lattice "part 0"').capped is False
