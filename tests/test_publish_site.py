"""The static site and feeds: parsed back with feedparser, checked against schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import errno
import json
import os
import re
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import lxml.html
import pytest
from lxml import etree
from sqlalchemy import update

from arxiv_digest import pipeline
from arxiv_digest.config import Settings
from arxiv_digest.errors import PublishError
from arxiv_digest.match import Matcher
from arxiv_digest.models import (
    DigestEntry,
    Paper,
    PublishedDigest,
    RankedPaper,
    RunReport,
    Summary,
)
from arxiv_digest.publish import feeds, incremental, trends
from arxiv_digest.publish.content import SiteContent, _retained, load_content
from arxiv_digest.publish.files import write_tree
from arxiv_digest.publish.highlight import rich_text
from arxiv_digest.publish.html import markdown_to_html, math_html, sanitise
from arxiv_digest.publish.incremental import MANIFEST
from arxiv_digest.publish.site import render_days, render_site, write_site
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.store import Store, schema
from tests.conftest import MakeSettings, fixture_bytes, run_once

SCHEMAS = Path(__file__).parent / "schemas"


@pytest.fixture
def site(published_site: Settings) -> Settings:
    return published_site


def site_file(settings: Settings, path: str) -> bytes:
    return (Path(settings.output.site_dir) / path).read_bytes()


def readme_titles(settings: Settings) -> list[str]:
    text = settings.output.readme.read_text()
    return [m.group(1) for m in re.finditer(r"(?m)^### \d+\. \[(.*)\]\(", text)]


def test_every_file_of_the_site_is_written(site: Settings) -> None:
    root = Path(site.output.site_dir)
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert written == sorted(
        [".arxiv-digest.json", "index.html", "index-expanded.html", "style.css", "favicon.svg",
         "archive/index.html",
         "archive/2026-04-27.html", "archive/2026-04-27-expanded.html",
         "rss.xml", "atom.xml", "feed.json"]
        + [f"{kind}/{c}.{ext}" for c in ("cs.AI", "cs.CL", "cs.LG")
           for kind, ext in (("rss", "xml"), ("atom", "xml"), ("feed", "json"))]
        + [f"category/{c}{variant}.html" for c in ("cs.AI", "cs.CL", "cs.LG")
           for variant in ("", "-expanded")]
    )  # fmt: skip


@pytest.mark.parametrize("path", ["rss.xml", "atom.xml"])
def test_feeds_parse_back_with_the_digest_papers_and_summaries(site: Settings, path: str) -> None:
    parsed = feedparser.parse(site_file(site, path))
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = [e.title for e in parsed.entries]
    assert titles == readme_titles(site)
    first = parsed.entries[0]
    assert (
        first.link.startswith("https://arxiv.org/abs/") and "v" not in first.link.rsplit("/", 1)[1]
    )
    body = first.get("content", [{"value": first.get("summary", "")}])[0]["value"]
    assert "AI summary (by test-model)" in body
    assert "<strong>Faster</strong>" in body and "<b>" not in body
    assert "Score" in body and "Matched" in body
    assert [t.term for t in first.tags]
    assert first.get("author") or first.get("authors")
    summarized = [
        e for e in parsed.entries if "AI summary" in str(e.get("content", e.get("summary")))
    ]
    assert len(summarized) == 2


def test_rss_has_the_required_elements_and_rfc822_dates(site: Settings) -> None:
    root = etree.fromstring(site_file(site, "rss.xml"))
    channel = root.find("channel")
    assert root.get("version") == "2.0" and channel is not None
    for required in ("title", "link", "description"):
        assert channel.findtext(required)
    email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate") or "")
    for item in channel.iterfind("item"):
        assert item.findtext("title") and item.findtext("description")
        when = email.utils.parsedate_to_datetime(item.findtext("pubDate") or "")
        assert when.date() == dt.date(2026, 4, 27)
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "true"
        assert guid.text == item.findtext("link")


def test_atom_is_valid_against_rfc_4287(site: Settings) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    for path in ("atom.xml", "atom/cs.AI.xml"):
        document = etree.fromstring(site_file(site, path))
        assert schema.validate(document), schema.error_log


def test_json_feed_is_valid_against_the_1_1_schema(site: Settings) -> None:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text())
    for path in ("feed.json", "feed/cs.LG.json"):
        document = json.loads(site_file(site, path))
        jsonschema.validate(document, schema)
        for item in document["items"]:
            dt.datetime.fromisoformat(item["date_published"])
    document = json.loads(site_file(site, "feed.json"))
    assert document["feed_url"] == "https://me.example.org/digest/feed.json"
    assert [i["title"] for i in document["items"]] == readme_titles(site)


def test_json_feed_is_the_document_as_json_dumps_writes_it(site: Settings) -> None:
    """Items are written once and put in: the bytes are json.dumps(indent=2)'s, also for
    text that looks like the items' key, line breaks and characters beyond ASCII."""
    with Store(site.store.url) as store:
        content = load_content(store, site)
    first = content.feed[0]
    odd = dataclasses.replace(
        first.ranked.paper,
        arxiv_id="2604.99998",
        title='\n  "items": [] 🚀',
        abstract='Line\nbreak, "quotes", \\ and ünïcode',
        authors=(),
    )
    entry = DigestEntry(dataclasses.replace(first.ranked, paper=odd), first.summary)
    for entries in (content.feed, (), (entry, *content.feed)):
        made = feeds.json_feed(entries, site, "t", "feed.json", content.built_at)
        document = json.loads(made)
        assert made == json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        assert [i["title"] for i in document["items"]] == [e.ranked.paper.title for e in entries]


def test_category_feeds_hold_the_papers_listed_in_that_category(site: Settings) -> None:
    everything = {e.id for e in feedparser.parse(site_file(site, "rss.xml")).entries}
    union: set[str] = set()
    for category in ("cs.AI", "cs.CL", "cs.LG"):
        parsed = feedparser.parse(site_file(site, f"rss/{category}.xml"))
        assert parsed.feed.title.endswith(category)
        for entry in parsed.entries:
            assert category in [t.term for t in entry.tags]
        union |= {e.id for e in parsed.entries}
    assert everything <= union  # each category feed is retained on its own


def test_same_store_same_bytes(site: Settings) -> None:
    before = {p: site_file(site, p) for p in ("index.html", "rss.xml", "atom.xml", "feed.json")}
    run_once(site)  # a rerun: nothing new
    with Store(site.store.url) as store:
        again = render_site(load_content(store, site), site)
    for path, data in before.items():
        assert again[path] == data == site_file(site, path)


def test_page_shows_summaries_as_html_and_escapes_untrusted_text(site: Settings) -> None:
    page = site_file(site, "index.html").decode()
    assert page.count('<details class="summary">') == 2
    assert "<strong>Faster</strong>" in page and "<b>bold</b>" not in page
    assert "<msup><mi>n</mi><mn>2</mn></msup>" in page  # $O(n^2)$ as MathML
    assert "<script" not in page
    archive = site_file(site, "archive/2026-04-27.html").decode()
    assert 'href="../style.css"' in archive


def ranked(arxiv_id: str, day: dt.date, make_paper: Any) -> DigestEntry:
    paper = make_paper(arxiv_id=arxiv_id, announced=day)
    return DigestEntry(RankedPaper(paper, 1.0, ("LLM",), "cs.AI"))


def test_feeds_keep_keep_days_of_digests_and_at_most_max_items(
    make_paper: Any, make_settings: MakeSettings
) -> None:
    def day(n: int) -> PublishedDigest:
        date = dt.date(2026, 4, 30) - dt.timedelta(days=n)
        entries = tuple(ranked(f"2604.{n:03d}{k:02d}", date, make_paper) for k in range(3))
        return PublishedDigest(date, dt.datetime(2026, 4, 30, tzinfo=dt.UTC), entries)

    days = tuple(day(n) for n in range(10))
    settings = make_settings(feeds={"keep_days": 4, "max_items": 100})
    kept = _retained(days, settings)
    assert len(kept) == 12 and {e.ranked.paper.announced for e in kept} == {
        dt.date(2026, 4, 30) - dt.timedelta(days=n) for n in range(4)
    }
    capped = _retained(days, make_settings(feeds={"keep_days": 30, "max_items": 5}))
    assert [e.ranked.paper.arxiv_id for e in capped] == [
        e.ranked.paper.arxiv_id for e in days[0].entries
    ] + [e.ranked.paper.arxiv_id for e in days[1].entries[:2]]


def category_day(date: dt.date, counts: dict[str, int], make_paper: Any) -> PublishedDigest:
    """A digest listing ``counts[c]`` papers of each category ``c``, in that order."""
    entries = tuple(
        DigestEntry(
            RankedPaper(
                make_paper(primary_category=c, categories=(c,), announced=date), 1.0, ("LLM",), c
            )
        )
        for c, n in counts.items()
        for _ in range(n)
    )
    return PublishedDigest(date, dt.datetime(2026, 4, 30, tzinfo=dt.UTC), entries)


def test_each_category_feed_keeps_its_own_papers_not_a_cut_of_the_overall_feed(
    make_paper: Any, make_settings: MakeSettings
) -> None:
    days = (
        category_day(dt.date(2026, 4, 30), {"cs.AI": 10, "cs.CL": 15}, make_paper),
        category_day(dt.date(2026, 4, 29), {"cs.CL": 3}, make_paper),
        category_day(dt.date(2026, 4, 25), {"cs.CL": 2}, make_paper),  # older than keep_days
    )
    settings = make_settings(feeds={"keep_days": 3, "max_items": 20})
    content = SiteContent(days=days, feed=_retained(days, settings), built_at=days[0].updated_at)
    files = render_site(content, settings)

    def items(path: str) -> list[Any]:
        parsed = feedparser.parse(files[path])
        assert not parsed.bozo
        return list(parsed.entries)

    assert len(items("rss.xml")) == 20  # 10 cs.AI and the first 10 cs.CL
    cl = items("rss/cs.CL.xml")
    assert len(cl) == 18 and all(e.tags[0].term == "cs.CL" for e in cl)
    assert len(items("atom/cs.CL.xml")) == 18
    assert len(json.loads(files["feed/cs.CL.json"])["items"]) == 18
    assert len(items("rss/cs.AI.xml")) == 10

    capped = make_settings(feeds={"keep_days": 3, "max_items": 5})
    first_five = [e.ranked.paper.arxiv_id for e in days[0].entries[10:15]]
    assert [e.ranked.paper.arxiv_id for e in content.feed_for("cs.CL", capped)] == first_five


def test_a_hostile_title_is_text_on_the_page(make_paper: Any, make_settings: MakeSettings) -> None:
    evil = make_paper(title="<img src=x onerror=alert(1)>", abstract="<script>alert(2)</script>")
    entry = DigestEntry(RankedPaper(evil, 1.0, ("LLM",), "cs.AI"))
    day = PublishedDigest(dt.date(2026, 4, 27), dt.datetime(2026, 4, 27, tzinfo=dt.UTC), (entry,))
    content = SiteContent(days=(day,), feed=(entry,), built_at=day.updated_at)
    files = render_site(content, make_settings())
    page = files["index.html"].decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(2)" not in page
    parsed = feedparser.parse(files["rss.xml"])
    assert parsed.entries[0].title == "<img src=x onerror=alert(1)>"


def test_a_block_rendered_once_for_every_list_keeps_each_heading_level(
    make_paper: Any, make_settings: MakeSettings
) -> None:
    """A paper's block is rendered once for its front page (h2) and category page (h3),
    its heading's level left open by a comment: no text of a paper can make that comment."""
    comment = "<!--level-->"
    paper = make_paper(
        title=f"{comment} LLM", abstract=f"An {comment} abstract", authors=(comment, "B", "C")
    )
    summary = Summary(paper.arxiv_id, 1, f"model {comment}", f"A {comment} summary", note=comment)
    entry = DigestEntry(RankedPaper(paper, 1.0, ("LLM",), "cs.AI", why=comment), summary)
    day = PublishedDigest(dt.date(2026, 4, 27), dt.datetime(2026, 4, 27, tzinfo=dt.UTC), (entry,))
    content = SiteContent(days=(day,), feed=(entry,), built_at=day.updated_at)
    settings = make_settings()
    files = render_site(content, settings)
    for path, level in (("index.html", 2), ("category/cs.AI-expanded.html", 3)):
        page = files[path].decode()
        assert "<!--" not in page
        assert page.count("&lt;!--level--&gt;") >= 7
        assert f'<h{level}><span class="rank">1.</span>' in page and f"</h{level}>" in page


def test_empty_store_gives_an_empty_but_valid_site(make_settings: MakeSettings) -> None:
    content = SiteContent(days=(), feed=(), built_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    files = render_site(content, make_settings())
    assert "No digest has been published yet" in files["index.html"].decode()
    assert feedparser.parse(files["rss.xml"]).entries == []
    assert dataclasses.is_dataclass(content)


def rewrite(settings: Settings, site_dir: Path | None = None) -> list[str]:
    with Store(settings.store.url) as store:
        files = render_site(load_content(store, settings), settings)
    return write_site(files, site_dir or Path(settings.output.site_dir))


def test_sites_published_together_are_each_what_publishing_it_alone_writes(
    site: Settings, tmp_path: Path
) -> None:
    """A team's sites: one written while the next is rendered, a tree inside another
    (``p/NAME/``) included; one that cannot be written fails alone."""

    def at(folder: Path) -> Settings:
        return site.model_copy(
            update={"output": site.output.model_copy(update={"site_dir": folder})}
        )

    base = tmp_path / "team"
    outer, inner, blocked = base / "all", base / "all" / "p" / "m", base / "file"
    base.mkdir()
    blocked.write_bytes(b"not a folder")
    with Store(site.store.url) as store:
        outcomes = incremental.publish_sites(
            (store, at(folder)) for folder in (inner, blocked, outer)
        )
        pipeline.publish_site(at(base / "alone"), store)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], PublishError) and "not a folder" in str(outcomes[1])
    alone = tree_of(base / "alone")
    assert tree_of(inner) == alone
    assert {k: v for k, v in tree_of(outer).items() if not k.startswith("p")} == alone
    assert sorted(p.name for p in base.iterdir()) == ["all", "alone", "file"]  # no staging left
    assert [p.name for p in (outer / "p").iterdir()] == ["m"]


def test_temporaries_left_by_a_killed_write_are_removed_by_the_next(site: Settings) -> None:
    root = Path(site.output.site_dir)
    staging = root.parent / f".{root.name}.tmp"
    staging.mkdir()
    leftovers = [
        root / ".index.html.k3j_x9a2.tmp",
        root / "rss" / ".cs.AI.xml.abcd1234.tmp",
        staging / ".feed.json.zz9_yy8x.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a file")
        path.chmod(0o600)
    ours_not = [root / "notes.tmp", root / ".nojekyll", root / "CNAME"]
    for path in ours_not:
        path.write_text("the user's\n")
    assert rewrite(site) == []  # nothing changed, yet the leftovers are gone
    assert not any(path.exists() for path in leftovers)
    assert all(path.exists() for path in ours_not)
    assert not staging.exists()


def test_a_site_leaves_the_staged_files_of_a_site_inside_it_alone(site: Settings) -> None:
    """A team member's site (``p/NAME/``) stages its files in ``p/.NAME.tmp/``, inside the
    lab's site, perhaps while the lab's site is written (by another process)."""
    root = Path(site.output.site_dir)
    staged = root / "p" / ".alice.tmp" / ".index.html.abcd1234.tmp"
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"being written")
    rewrite(site)
    assert staged.read_bytes() == b"being written"


def test_no_temporary_file_is_ever_inside_the_site(
    site: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "public" / "site"
    real_replace = Path.replace
    renamed: list[Path] = []

    def watched(self: Path, target: Any) -> Path:
        assert fresh.resolve() not in self.resolve().parents
        assert [p for p in fresh.rglob("*") if p.name.endswith(".tmp")] == []
        renamed.append(Path(target))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", watched)
    written = rewrite(site, fresh)
    assert len(renamed) == len(written) > 10
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["site"]  # no staging left
    assert (fresh / "index.html").stat().st_mode & 0o777 == 0o644


def test_without_a_staging_folder_the_site_is_still_written_whole(
    site: Settings, tmp_path: Path
) -> None:
    fresh = tmp_path / "public" / "site"
    fresh.parent.mkdir()
    (fresh.parent / ".site.tmp").write_text("in the way")  # no staging folder possible
    assert "index.html" in rewrite(site, fresh)
    assert [p for p in fresh.rglob("*") if p.name.endswith(".tmp")] == []


def test_a_site_folder_that_cannot_be_written_is_one_clear_error(
    site: Settings, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the site should be")
    with pytest.raises(PublishError) as error:
        rewrite(site, blocked)
    assert str(error.value) == f"cannot write to {blocked}: it is a file, not a folder"
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "archive").write_text("a file where a folder should be")
    with pytest.raises(PublishError, match=r"archive") as error:
        rewrite(site, nested)
    assert "\n" not in str(error.value) and str(nested) in str(error.value)


def tree_of(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def test_a_new_file_that_cannot_be_put_in_place_takes_back_the_ones_placed_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New files go in first (only a new folder entry may still need space): one that
    fails takes back those already placed, and nothing else has been touched yet."""
    tree = tmp_path / "site"
    tree.mkdir()
    (tree / "index.html").write_bytes(b"yesterday")
    before = tree_of(tmp_path)
    real_replace = Path.replace
    calls = [0]

    def second_fails(self: Path, target: Any) -> Path:
        calls[0] += 1
        if calls[0] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", second_fails)
    files = {"index.html": b"today", "archive/a.html": b"new", "rss/b.xml": b"new"}
    with pytest.raises(PublishError, match=r"rss/b.xml: No space left on device"):
        write_tree(files, tree)
    assert tree_of(tmp_path) == before
    monkeypatch.undo()
    assert write_tree(files, tree) == sorted(files)
    assert tree_of(tree) == {**files, "archive": None, "rss": None}


def test_a_sync_that_fails_replaces_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temporaries are synced beside the writing, and every sync is waited for before the
    first rename: one that fails (where delayed allocation shows a full disk) leaves the
    tree as it was, without a temporary."""
    tree = tmp_path / "site"
    tree.mkdir()
    (tree / "index.html").write_bytes(b"yesterday")
    before = tree_of(tmp_path)
    real_fsync = os.fsync
    synced = [0]

    def full_from_the_fifth(fd: int) -> None:
        synced[0] += 1
        if synced[0] >= 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_from_the_fifth)
    for count in (6, 200):  # failing at the commit, and while files are still written
        synced[0] = 0
        files = {"index.html": b"today", **{f"archive/{n}.html": b"new" for n in range(count)}}
        with pytest.raises(PublishError, match="No space left on device") as error:
            write_tree(files, tree)
        assert "\n" not in str(error.value)
        assert tree_of(tmp_path) == before
    monkeypatch.undo()
    assert write_tree(files, tree) == sorted(files)
    assert (tree / "index.html").read_bytes() == b"today"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_site_folder_is_one_clear_error(site: Settings, tmp_path: Path) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        with pytest.raises(PublishError, match="Permission denied") as error:
            rewrite(site, read_only / "site")
        assert "\n" not in str(error.value)
    finally:
        read_only.chmod(0o755)


# -- reading: highlights, math, navigation, trends ----------------------------------------------


def test_highlights_mark_what_the_ranking_matched_and_nothing_else() -> None:
    page = rich_text("LLMs and an LLM-based agent; dLLM is not one", ["LLM"])
    assert page == "<mark>LLMs</mark> and an <mark>LLM</mark>-based agent; dLLM is not one"
    assert rich_text(
        "Multi-agent speculative-decoding", ["multiagent", "Speculative Decoding"]
    ) == ("<mark>Multi-agent</mark> <mark>speculative-decoding</mark>")
    assert "<mark>" not in rich_text("the world is early", ["RL"])
    assert rich_text("<b>LLM</b>", ["LLM"]) == "&lt;b&gt;<mark>LLM</mark>&lt;/b&gt;"


def test_highlighted_text_is_what_sanitising_gives_and_no_tag_comes_from_the_text() -> None:
    """Text without a formula is escaped prose and <mark>s, not sanitised again: for
    hostile text and every character sanitising changes, it is what sanitising gives."""
    hostile = [
        "<script>alert(1)</script> LLM",
        "LLM</mark><img src=x onerror=alert(1)>",
        '<mark title="x" onclick="y">LLM</mark>',
        "&lt;script&gt; &amp; LLM &#60;b&#62; &nbsp;",
        "<!-- LLM --> <![CDATA[ LLM ]]> <?xml LLM?>",
        "LLM\0 and LLM",
        "LLM\r\nand\rLLM",
        "LLM\xa0agents",
        '"LLM" \'LLM\' `LLM` <a href="javascript:alert(1)">LLM</a>',
    ]
    characters = [chr(c) for c in range(1, 0x3000)]
    for text in [*hostile, *("".join(characters[n : n + 64]) for n in range(0, 0x3000, 64))]:
        page = str(rich_text(text, ["LLM"]))
        assert page == sanitise(page), text
        assert set(re.findall(r"<[^>]*>", page)) <= {"<mark>", "</mark>"}, text
    assert str(rich_text("a\xa0LLM", ["LLM"])) == "a&nbsp;<mark>LLM</mark>"


def _fixture_papers() -> list[Paper]:
    """Every real paper of the RSS fixtures: a statistics day and three cs days."""
    return [*parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers] + [
        p for c in ("cs.AI", "cs.CL", "cs.LG")
        for p in parse_rss(fixture_bytes(f"rss/{c}_2026-04-27_trimmed.xml")).papers
    ]  # fmt: skip


def test_highlighted_text_with_formulas_is_what_sanitising_the_whole_gives() -> None:
    """A formula is sanitised on its own, not the whole text again: over every real
    abstract and title with a formula (and hostile ones), with marks, the same."""
    papers = _fixture_papers()
    texts = [t for p in papers for t in (p.title, p.abstract) if "$" in t or "\\(" in t]
    texts += [
        r"LLM $\text{<script>alert(1)</script>}$ and $x</math><img src=x>$ LLM",
        r"$a$LLM$b$ <b>LLM</b> $$\frac{1}{2}$$ \(x_i\) & LLM",
    ]
    assert len(texts) > 20
    for text in texts:
        for terms in (["LLM", "model", "learning"], ["the"]):
            page = str(rich_text(text, terms))
            assert page == sanitise(page), text
            assert "<script" not in page and "<img" not in page


def test_every_highlight_is_a_term_the_matcher_finds_and_every_found_term_is_highlighted() -> None:
    """Over every real paper of the fixtures: highlights never disagree with "Matched"."""
    terms = ["LLM", "RL", "reasoning", "benchmark", "agents", "Speculative Decoding", "graph",
             "large language models", "fine-tuning", "multiagent", "policy", "Schrödinger",
             "neural network", "diffusion", "GAN", "MoE"]  # fmt: skip
    matcher = Matcher(terms)
    papers = _fixture_papers()
    assert len(papers) > 100
    for paper in papers:
        found = set(matcher.found(matcher.prepare(f"{paper.title} {paper.abstract}")))
        marked: set[int] = set()
        for text in (paper.title, paper.abstract):
            for span in matcher.spans(text):
                assert span.index in matcher.found(matcher.prepare(text[span.start : span.end]))
                marked.add(span.index)
        assert marked <= found
        alone = {
            i
            for i in found
            if any(Matcher([terms[i]]).spans(t) for t in (paper.title, paper.abstract))
        }
        assert alone == found, paper.arxiv_id  # each term found has a place to mark


def test_math_is_mathml_and_what_cannot_convert_stays_readable_tex() -> None:
    page = rich_text(
        r"Cost $\mathcal{O}(n^3)$ and \(x_i\); LLM in $\RR^d$ and $\text{<script>}$", ["LLM"]
    )
    assert "<math" in page and "<msup><mi>n</mi><mn>3</mn></msup>" in page
    assert "<msub><mi>x</mi><mi>i</mi></msub>" in page
    assert '<span class="tex">$\\RR^d$</span>' in page  # an author's own macro: TeX as text
    assert '<span class="tex">$\\text{&lt;script&gt;}$</span>' in page
    assert "<mark>LLM</mark>" in page and "<script" not in page
    assert math_html(r"$\href{javascript:alert(1)}{x}$").startswith('<span class="tex">')
    assert math_html(r"$\color{red}{x}$").startswith('<span class="tex">')  # no colours
    assert math_html("$$x$$").startswith('<math display="block">')
    assert "<mark>" not in rich_text("$LLM$", ["LLM"])  # a formula is one piece, never marked
    assert rich_text(r"46.62\% of R\&D") == "46.62% of R&amp;D"


def test_summaries_render_math_but_dollar_amounts_stay_text() -> None:
    html = markdown_to_html("Costs $5 and $10; speed-up $O(n^2)$ and \\(k\\)")
    assert "Costs $5 and $10;" in html and html.count("<math") == 2


def day_of(date: dt.date, entries: list[DigestEntry]) -> PublishedDigest:
    return PublishedDigest(date, dt.datetime.combine(date, dt.time(12), dt.UTC), tuple(entries))


def entry(make_paper: Any, matched: tuple[str, ...], **paper: Any) -> DigestEntry:
    return DigestEntry(RankedPaper(make_paper(**paper), 1.0, matched, "cs.AI"))


def test_day_pages_link_the_older_and_newer_day_in_the_same_state(
    make_paper: Any, make_settings: MakeSettings
) -> None:
    days = tuple(day_of(dt.date(2026, 4, d), [entry(make_paper, ("LLM",))]) for d in (29, 28, 27))
    files = render_site(SiteContent(days, (), days[0].updated_at), make_settings())

    def links(path: str) -> dict[str, str]:
        document = lxml.html.fromstring(files[path])
        return {str(a.get("rel")): str(a.get("href")) for a in document.iter("a") if a.get("rel")}

    assert links("index.html") == {"prev": "archive/2026-04-28.html"}
    assert links("archive/2026-04-28.html") == {
        "prev": "../archive/2026-04-27.html", "next": "../archive/2026-04-29.html"}  # fmt: skip
    assert (
        links("archive/2026-04-28-expanded.html")["next"] == "../archive/2026-04-29-expanded.html"
    )
    assert links("archive/2026-04-27.html") == {"next": "../archive/2026-04-28.html"}
    folded = files["archive/2026-04-28.html"].decode()
    expanded = files["archive/2026-04-28-expanded.html"].decode()
    assert "<details" in folded and '<details class="abstract">' in folded
    assert "open>" not in folded and '<details class="abstract" open>' in expanded
    assert 'href="../archive/2026-04-28-expanded.html">Expand all' in folded
    assert 'href="../archive/2026-04-28.html">Fold all' in expanded


def test_the_archive_groups_days_by_month_and_a_category_page_holds_its_feed(
    make_paper: Any, make_settings: MakeSettings
) -> None:
    days = (
        day_of(dt.date(2026, 5, 1), [entry(make_paper, ("LLM",), categories=("cs.CL",))]),
        day_of(dt.date(2026, 4, 30), [entry(make_paper, ("LLM",)), entry(make_paper, ())]),
    )
    settings = make_settings(feeds={"keep_days": 30, "max_items": 50})
    content = SiteContent(days, _retained(days, settings), days[0].updated_at)
    files = render_site(content, settings)
    archive: Any = lxml.html.fromstring(files["archive/index.html"])
    assert [h.text_content() for h in archive.iter("h2")][-2:] == ["May 2026", "April 2026"]
    category = lxml.html.fromstring(files["category/cs.CL.html"])
    ids = [a.get("id") for a in category.iter("article")]
    assert ids == [e.ranked.paper.arxiv_id for e in content.feed_for("cs.CL", settings)]
    assert len(ids) == 1


def test_trends_count_papers_per_term_per_day_over_the_90_days_before_the_newest_digest(
    make_paper: Any,
) -> None:
    newest = dt.date(2026, 4, 30)
    days = (
        day_of(newest, [entry(make_paper, ("LLM", "RL")), entry(make_paper, ("LLM",))]),
        day_of(newest - dt.timedelta(days=89), [entry(make_paper, ("RL",))]),
        day_of(newest - dt.timedelta(days=90), [entry(make_paper, ("LLM",))]),  # too old
    )
    chart = trends.trends(days)
    assert chart is not None and (chart.first, chart.last) == (
        newest - dt.timedelta(days=89),
        newest,
    )
    counts = {t.term: (t.total, t.counts[0], t.counts[-1], t.last_week) for t in chart.terms}
    assert counts == {"LLM": (2, 0, 2, 2), "RL": (2, 1, 1, 1)}
    svg = str(trends.svg(chart))
    assert svg.startswith("<svg") and '<title id="trends-title">' in svg and "<desc" in svg
    assert svg.count('class="trend-bar"') == 3 and "style=" not in svg and "<script" not in svg
    assert trends.trends(()) is None


def test_tex_accents_are_letters_on_every_page(make_settings: MakeSettings) -> None:
    """A real day with TeX accents in names and abstracts: every page shows letters."""
    papers = parse_rss(fixture_bytes("rss/stat_2024-03-26.xml")).papers
    entries = [DigestEntry(RankedPaper(p, 1.0, (), p.primary_category)) for p in papers]
    day = day_of(dt.date(2024, 3, 26), entries)
    settings = make_settings(categories=["stat"])
    files = render_site(SiteContent((day,), tuple(entries), day.updated_at), settings)
    accent = re.compile(r"\\[`'^\"~=.]\{?[A-Za-z]|\\[uvHckr]\{[A-Za-z]\}")  # \'e, \v{s}

    def prose(body: bytes) -> str:  # the text, without math left as TeX
        document: Any = lxml.html.fromstring(body)
        for tex in document.find_class("tex"):
            tex.drop_tree()
        return str(document.text_content())

    pages = {path: prose(body) for path, body in files.items() if path.endswith(".html")}
    assert len(pages) == 7
    for path, text in pages.items():
        assert not accent.search(text), (path, accent.findall(text)[:3])
    assert "García-Portugués" in pages["index.html"]


# -- incremental writes: only what changed, byte for byte what a full render makes ---------------

FIRST_DAY = dt.date(2026, 4, 20)


def publish_day(store: Store, n: int, make_paper: Any, *, version: str = "") -> list[Any]:
    """Day ``n`` (from FIRST_DAY) published with three papers of its own."""
    date = FIRST_DAY + dt.timedelta(days=n)
    papers = [
        make_paper(
            arxiv_id=f"2604.{n:03d}{k:02d}", announced=date, title=f"LLM paper {n}.{k}",
            primary_category=category, categories=(category,),
        )
        for k, category in enumerate(("cs.AI", "cs.CL", "cs.LG"))
    ]  # fmt: skip
    store.upsert_papers(papers)
    started = dt.datetime.combine(date, dt.time(12), dt.UTC)
    run_id = store.start_run(started)
    store.save_ranking(run_id, [RankedPaper(p, 3.0 - k, ("LLM",), p.primary_category)
                                for k, p in enumerate(papers)])  # fmt: skip
    report = RunReport(status="ok", ranked=3, digest_date=date)
    store.finish_run(run_id, report, started, f"day-{n}{version}")
    return papers


def site_tree(settings: Settings) -> dict[str, bytes]:
    root = Path(settings.output.site_dir)
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, "CNAME")
    }


def publish_and_compare(settings: Settings, store: Store, rendered: list[dt.date]) -> list[str]:
    """Write the site the daily way; it must hold exactly what a full render makes."""
    rendered.clear()
    changed = pipeline.publish_site(settings, store)
    assert site_tree(settings) == render_site(load_content(store, settings), settings)
    return changed


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[dt.date]:
    """The days whose archive pages the next write renders."""
    days: list[dt.date] = []
    real = render_days

    def spy(chosen: Any, history: Any, settings: Settings) -> dict[str, bytes]:
        chosen = list(chosen)
        days.extend(day.date for day in chosen)
        return real(chosen, history, settings)

    monkeypatch.setattr(incremental, "render_days", spy)
    return days


def day(n: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=n)


def test_a_new_day_renders_its_pages_and_the_previous_day_s_only(
    make_settings: MakeSettings, make_paper: Any, rendered: list[dt.date]
) -> None:
    settings = make_settings(feeds={"keep_days": 2, "max_items": 100})
    with Store(settings.store.url) as store:
        publish_and_compare(settings, store, rendered)  # nothing published yet
        for n in range(5):
            publish_day(store, n, make_paper)
            changed = publish_and_compare(settings, store, rendered)
            assert rendered == [day(n), day(n - 1)][: n + 1]
        assert "archive/2026-04-24.html" in changed and "archive/2026-04-23.html" in changed
        assert not any(path.startswith("archive/2026-04-2") and path[19] < "3" for path in changed)
        assert publish_and_compare(settings, store, rendered) == [] and rendered == []


def summarize(store: Store, paper: Any, text: str, when: dt.datetime) -> None:
    store.save_summary(Summary(paper.arxiv_id, paper.version, "test-model", text), "p", when)


def test_an_old_day_s_later_summary_announcement_or_republication_renders_that_day(
    make_settings: MakeSettings, make_paper: Any, rendered: list[dt.date]
) -> None:
    settings = make_settings(feeds={"keep_days": 2, "max_items": 100})
    may = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    with Store(settings.store.url) as store:
        days = [publish_day(store, n, make_paper) for n in range(6)]
        summarize(store, days[0][0], "A *first* summary", may - dt.timedelta(days=2))
        publish_and_compare(settings, store, rendered)
        summarize(store, days[1][0], "**Later** summary", may)  # outside the feeds' two days
        changed = publish_and_compare(settings, store, rendered)
        assert rendered == [day(1)] and "archive/2026-04-21.html" in changed
        assert b"Later</strong> summary" in site_tree(settings)["archive/2026-04-21.html"]

        summarize(store, days[0][0], "A *better* summary", may + dt.timedelta(hours=1))
        publish_and_compare(settings, store, rendered)  # the same summary, made again
        assert rendered == [day(0)]
        assert b"<em>better</em>" in site_tree(settings)["archive/2026-04-20-expanded.html"]

        cross = dataclasses.replace(days[2][1], announced=day(7), announce_type="cross")
        store.upsert_papers([cross])  # listed again: day 2's page shows the new date
        changed = publish_and_compare(settings, store, rendered)
        assert rendered == [day(2)] and "archive/2026-04-22-expanded.html" in changed

        publish_day(store, 3, make_paper, version="-again")  # day 3 published again
        publish_and_compare(settings, store, rendered)
        assert rendered == [day(3)]


def test_missing_pages_are_rendered_again_and_dropped_days_removed(
    make_settings: MakeSettings, make_paper: Any, rendered: list[dt.date]
) -> None:
    settings = make_settings(feeds={"keep_days": 2, "max_items": 100})
    root = Path(settings.output.site_dir)
    with Store(settings.store.url) as store:
        for n in range(4):
            publish_day(store, n, make_paper)
        publish_and_compare(settings, store, rendered)
        (root / "archive/2026-04-21-expanded.html").unlink()
        (root / "CNAME").write_text("digest.example.org\n")  # the user's own file
        publish_and_compare(settings, store, rendered)
        assert rendered == [day(1)]
        with store.engine.begin() as conn:  # day 2 is no longer published
            conn.execute(update(schema.runs).where(schema.runs.c.digest_date == day(2))
                         .values(status="failed"))  # fmt: skip
        changed = publish_and_compare(settings, store, rendered)
        assert sorted(rendered) == [day(1), day(3)]
        assert (
            "archive/2026-04-22.html" in changed and not (root / "archive/2026-04-22.html").exists()
        )
        assert (root / "CNAME").exists()


def test_a_new_renderer_or_a_lost_manifest_renders_every_page(
    make_settings: MakeSettings, make_paper: Any, rendered: list[dt.date]
) -> None:
    settings = make_settings()
    with Store(settings.store.url) as store:
        for n in range(3):
            publish_day(store, n, make_paper)
        publish_and_compare(settings, store, rendered)
        retitled = make_settings(feeds={"title": "My digest"})
        publish_and_compare(retitled, store, rendered)
        assert sorted(rendered) == [day(0), day(1), day(2)]
        (Path(settings.output.site_dir) / MANIFEST).write_text("{not json")
        publish_and_compare(retitled, store, rendered)
        assert len(rendered) == 3


def test_a_store_rebuilt_from_its_history_renders_no_old_page_again(
    make_settings: MakeSettings, make_paper: Any, rendered: list[dt.date], tmp_path: Path
) -> None:
    """A fork's fresh runner: the same published days in a new database (other run ids, no
    candidate that no digest showed) find the committed site up to date."""
    settings = make_settings()
    with Store(settings.store.url) as store:
        for n in range(4):
            publish_day(store, n, make_paper)
        store.upsert_papers([make_paper(announced=day(3))])  # a candidate no digest showed
        publish_and_compare(settings, store, rendered)
    rebuilt = make_settings(store={"url": f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"})
    with Store(rebuilt.store.url) as store:
        failed = store.start_run(dt.datetime(2026, 4, 1, tzinfo=dt.UTC))  # run ids move on
        store.finish_run(failed, RunReport(status="failed"), dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
        for n in range(4):
            publish_day(store, n, make_paper)  # the same papers: publish_day names them
        assert publish_and_compare(rebuilt, store, rendered) == [] and rendered == []


def test_a_store_that_went_back_renders_every_page(
    make_settings: MakeSettings, make_paper: Any, rendered: list[dt.date]
) -> None:
    """A database restored from an older copy than the site: nothing on disk is trusted."""
    settings = make_settings()
    with Store(settings.store.url) as store:
        days = [publish_day(store, n, make_paper) for n in range(3)]
        publish_and_compare(settings, store, rendered)
        summarize(store, days[0][0], "A summary", dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        publish_and_compare(settings, store, rendered)
        with store.engine.begin() as conn:
            conn.execute(schema.summaries.delete())
        publish_and_compare(settings, store, rendered)
        assert sorted(rendered) == [day(0), day(1), day(2)]


def test_rss_and_atom_from_one_generator_are_the_feeds_made_one_by_one(site: Settings) -> None:
    """Each entry's XML is made once and put into the feeds made without entries: byte for
    byte what feedgen makes of the whole feed, also for text that looks like a feed's end."""
    with Store(site.store.url) as store:
        content = load_content(store, site)
    first = content.feed[0]
    ending = dataclasses.replace(
        first.ranked.paper,
        arxiv_id="2604.99999",
        title="</feed>\n",
        abstract="  </channel>\n</rss>\n",
    )
    odd = DigestEntry(dataclasses.replace(first.ranked, paper=ending), first.summary)
    for entries in (content.feed, (), (odd, *content.feed[1:]), content.feed[:1]):
        made = feeds.rss_and_atom(
            entries, site, "t", ("rss/cs.AI.xml", "atom/cs.AI.xml"), content.built_at
        )
        assert made == (
            feeds.rss(entries, site, "t", "rss/cs.AI.xml", content.built_at),
            feeds.atom(entries, site, "t", "atom/cs.AI.xml", content.built_at),
        )
        assert b'href="https://me.example.org/digest/atom/cs.AI.xml" rel="self"' in made[1]
    key = feeds._item_key(site)
    assert all(feeds._entry_xml(e, *key) is not None for e in (odd, *content.feed))  # not whole
