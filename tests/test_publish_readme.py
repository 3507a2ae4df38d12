"""The README: the original bot's layout, section by section, and a golden file of our own.

The layout constants below are what the original bot's daily READMEs show (its section
headings and per-paper field labels); ``tests/golden/readme-2026-04-27.md`` is our own
rendering of a real arXiv day, checked byte for byte. Regenerate it after an intended
change with ``ARXIV_DIGEST_UPDATE_GOLDEN=1 make test`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from arxiv_digest.config import Settings, parse_settings, with_paths_resolved
from arxiv_digest.errors import PublishError
from arxiv_digest.models import Digest, DigestEntry, Paper, RankedPaper, Summary
from arxiv_digest.publish.readme import format_score, render_readme, write_readme
from arxiv_digest.rank import Ranker, select_candidates
from arxiv_digest.relevance.library import complete, read_library_files
from arxiv_digest.sources.rss import parse_rss
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "readme-2026-04-27.md"
# The original's top-level sections, in order (its Vercel banner is deliberately not kept).
ORIGINAL_SECTIONS = [
    "## 📊 Statistics",
    "## 📚 Recent Papers",
    "## 🔧 Configuration",
    "## 📅 Schedule",
    "## 🚀 How to Use",
    "## 📝 Customization",
    "## 🔍 Manual Trigger",
]
ORIGINAL_FIELDS = ["Authors", "Category", "Published", "Score", "Type", "ArXiv ID"]
ORIGINAL_SUMMARY_HEADER = (
    "<summary><strong>🤖 AI Summary (by qwen-long)</strong> - Click to expand</summary>\n\n"
)
UPDATED = dt.datetime(2026, 4, 27, 13, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def make_settings(tmp_path: Path, **values: object) -> Settings:
    config = {
        "categories": ["cs.AI", "cs.CL", "cs.LG"],
        "keywords": ["LLM", "reasoning", "benchmark", "agents", "language models"],
        "exclude_keywords": ["survey"],
        **values,
    }
    return with_paths_resolved(parse_settings(config), tmp_path)


def make_digest(settings: Settings, combined_feed: bytes, summarize_first: bool = True) -> Digest:
    papers = parse_rss(combined_feed).papers
    ranked = Ranker(settings).rank(select_candidates(papers, settings))
    entries = [DigestEntry(r) for r in ranked]
    if summarize_first:
        first = entries[0].ranked.paper
        summary = Summary(
            first.arxiv_id, first.version, "qwen-long", "## 1. 贡献\n\n- **MoE** routing"
        )
        entries[0] = DigestEntry(entries[0].ranked, summary)
    return Digest(updated_at=UPDATED, entries=tuple(entries), window=None)


def without_details(markdown: str) -> str:
    return re.sub(r"<details>.*?</details>\n", "", markdown, flags=re.S)


def top_sections(markdown: str) -> list[str]:
    return [line for line in without_details(markdown).splitlines() if line.startswith("## ")]


def paper_blocks(markdown: str) -> list[str]:
    body = without_details(markdown).split("## 📚 Recent Papers\n\n", 1)[1]
    body = body.split("\n## 🔧 Configuration", 1)[0]
    return [b for b in re.split(r"(?m)^(?=### \d+\. )", body) if b.startswith("### ")]


def field_labels(block: str) -> list[str]:
    return re.findall(r"(?m)^\*\*([^*]+)\*\*: .*  $", block)


@pytest.fixture
def rendered(tmp_path: Path, combined_feed: bytes) -> str:
    settings = make_settings(tmp_path)
    return render_readme(make_digest(settings, combined_feed), settings)


def test_a_real_day_renders_exactly_as_the_golden_file(rendered: str) -> None:
    if os.environ.get("ARXIV_DIGEST_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert rendered == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize("markdown", ["rendered", "golden"])
def test_same_sections_in_the_same_order_as_the_original(markdown: str, rendered: str) -> None:
    text = rendered if markdown == "rendered" else GOLDEN.read_text(encoding="utf-8")
    assert top_sections(text) == ORIGINAL_SECTIONS


def test_paper_fields_are_the_originals_plus_matched(rendered: str) -> None:
    blocks = paper_blocks(rendered)
    assert blocks
    for block in blocks:
        assert field_labels(block) == [*ORIGINAL_FIELDS, "Matched"]


def test_statistics_section(rendered: str) -> None:
    stats = rendered.split("## 📊 Statistics\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert stats[0] == "- **Last Updated**: 2026-04-27 05:05:09 UTC"  # converted to real UTC
    assert re.fullmatch(r"- \*\*Total Papers Found\*\*: \d+", stats[1])
    assert stats[2] == "- **Categories Monitored**: cs.AI, cs.CL, cs.LG"


def test_paper_block_layout(rendered: str) -> None:
    blocks = paper_blocks(rendered)
    numbers = [int(re.match(r"### (\d+)\. ", b).group(1)) for b in blocks]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(blocks) + 1))
    first = blocks[0]
    assert re.match(
        r"### 1\. \[.+\]\(https://arxiv\.org/abs/\d{4}\.\d{5}\)\n\n\*\*Authors\*\*: ", first
    )
    assert re.search(r"\*\*Score\*\*: \d+\.\d  \n", first)
    assert re.search(
        r"\*\*ArXiv ID\*\*: \d{4}\.\d{5}v\d  \n\*\*Matched\*\*: [^\n]+  \n\n#### Abstract\n", first
    )
    assert first.rstrip().endswith("---")


def test_abstract_is_cut_at_300_characters(tmp_path: Path, combined_feed: bytes) -> None:
    settings = make_settings(tmp_path)
    digest = make_digest(settings, combined_feed, summarize_first=False)
    text = render_readme(digest, settings)
    for block, entry in zip(paper_blocks(text), digest.entries, strict=True):
        shown = block.split("#### Abstract\n", 1)[1].split("\n", 1)[0]
        assert shown == entry.ranked.paper.abstract[:300] + "..."


def test_summary_block_is_exactly_where_the_original_puts_it(rendered: str) -> None:
    expected = (
        "#### Abstract\n{abstract}\n\n<details>\n"
        "<summary><strong>🤖 AI Summary (by qwen-long)</strong> - Click to expand</summary>\n\n"
        "## 1. 贡献\n\n- **MoE** routing\n\n</details>\n\n---\n"
    )
    start = rendered.index("#### Abstract\n")
    abstract = rendered[start:].split("\n")[1]
    assert rendered[start:].startswith(expected.format(abstract=abstract))
    assert ORIGINAL_SUMMARY_HEADER in expected
    assert rendered.count("<details>") == 1


def test_matched_line_lists_config_terms_in_config_order(rendered: str) -> None:
    for line in re.findall(r"(?m)^\*\*Matched\*\*: (.*)  $", rendered):
        terms = line.split(", ")
        order = ["LLM", "reasoning", "benchmark", "agents", "language models"]
        assert terms == sorted(terms, key=order.index)


def test_configuration_and_schedule_state_the_actual_config(
    tmp_path: Path, combined_feed: bytes
) -> None:
    settings = make_settings(
        tmp_path, schedule={"time": "12:00", "timezone": "Asia/Shanghai"}, min_score=1.5
    )
    text = render_readme(make_digest(settings, combined_feed), settings)
    assert "- LLM, reasoning, benchmark, agents, language models\n" in text
    assert "The bot runs daily at 12:00 Asia/Shanghai" in text
    assert "scoring at least 1.5" in text
    assert "**Excluded** (in the title): survey" in text


def test_header_links_only_when_configured(tmp_path: Path, combined_feed: bytes) -> None:
    plain = make_settings(tmp_path)
    text = render_readme(make_digest(plain, combined_feed), plain)
    assert (
        "tachicoma" not in text
        and "maydomine" not in text.lower()
        and "](http" not in text.split("## 📊")[0]
    )
    linked = make_settings(
        tmp_path, site_url="https://me.github.io/digest", repo_url="https://github.com/me/digest"
    )
    text = render_readme(make_digest(linked, combined_feed), linked)
    head = text.split("## 📊")[0]
    assert "https://me.github.io/digest/rss.xml" in head and "https://github.com/me/digest" in head


def test_untrusted_text_cannot_inject_markup(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    paper = Paper(
        "2604.00001", 1, "<img src=x onerror=alert(1)> [link](javascript:x)", ("A <b>",),
        "LLM </details><script>alert(1)</script>", "cs.AI", ("cs.AI",), "new", dt.date(2026, 4, 27),
    )  # fmt: skip
    digest = Digest(UPDATED, (DigestEntry(RankedPaper(paper, 1.0, ("LLM",), "cs.AI")),), None)
    text = render_readme(digest, settings)
    assert "<img" not in text and "<script>" not in text and "</details>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; \\[link\\](javascript:x)" in text


def test_empty_digest_says_so(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    text = render_readme(Digest(UPDATED, (), None), settings)
    assert "- **Total Papers Found**: 0" in text
    assert "No papers matching the criteria were found" in text


def test_the_originals_template_placeholders_are_honoured(
    tmp_path: Path, combined_feed: bytes
) -> None:
    (tmp_path / "README.template.md").write_text(
        "# Mine\n\n{{LAST_UPDATED}} | {{PAPER_COUNT}} | {{CATEGORIES}}\n\n"
        "{{PAPERS_SECTION}}\n\n- {{KEYWORDS}}\n"
    )
    settings = make_settings(tmp_path)
    assert settings.output.readme_template == tmp_path / "README.template.md"
    text = render_readme(make_digest(settings, combined_feed), settings)
    assert text.startswith("# Mine\n\n2026-04-27 05:05:09 UTC | ")
    assert "| cs.AI, cs.CL, cs.LG\n\n### 1. [" in text
    assert text.endswith("- LLM, reasoning, benchmark, agents, language models\n")


def test_a_jinja_template_gets_the_digest(tmp_path: Path, combined_feed: bytes) -> None:
    template = tmp_path / "digest.md.j2"
    template.write_text("{% for e in digest.entries %}* {{ e.ranked.paper.title }}\n{% endfor %}")
    settings = make_settings(tmp_path, output={"readme_template": "digest.md.j2"})
    text = render_readme(make_digest(settings, combined_feed), settings)
    assert text.startswith("* ") and text.count("\n") == len(
        make_digest(settings, combined_feed).entries
    )


def test_a_broken_template_fails_before_touching_the_readme(
    tmp_path: Path, combined_feed: bytes
) -> None:
    (tmp_path / "README.template.md").write_text("{{ NO_SUCH_THING }}\n")
    (tmp_path / "README.md").write_text("previous\n")
    settings = make_settings(tmp_path)
    with pytest.raises(PublishError, match="NO_SUCH_THING"):
        write_readme(make_digest(settings, combined_feed), settings)
    assert (tmp_path / "README.md").read_text() == "previous\n"


def test_readme_is_written_atomically(
    tmp_path: Path, combined_feed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("previous\n")

    def refuse(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(PublishError, match="disk full"):
        write_readme(make_digest(settings, combined_feed), settings)
    assert readme.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def library_only_digest(tmp_path: Path, combined_feed: bytes) -> tuple[Settings, str]:
    """A new user's digest: keywords empty, a BibTeX library, a real day's papers."""
    (tmp_path / "mine.bib").write_text(
        "@article{a, title={FedP$^2$EFT: Federated Learning to Personalize Parameter "
        "Efficient Fine-Tuning for Multilingual {LLM}s}, author={Royson Lee and Rui Li},"
        " abstract={Federated learning of parameter-efficient fine-tuning for multilingual"
        " large language models across clients.}}\n"
        '@article{b, title={Schr{\\"o}dinger Agents: $\\alpha$-Reasoning with {LLM} Agents},'
        " abstract={Reasoning agents built on large language models, and a benchmark of"
        " agentic reasoning.}}\n",
        encoding="utf-8",
    )
    relevance = {"library": ["mine.bib"], "min_similarity": 0.0}  # every paper alike at all
    settings = make_settings(tmp_path, keywords=[], relevance=relevance)
    papers = parse_rss(combined_feed).papers
    library = complete(read_library_files(settings), {})
    ranked = Ranker(settings, library).rank(select_candidates(papers, settings))
    digest = Digest(updated_at=UPDATED, entries=tuple(DigestEntry(r) for r in ranked), window=None)
    return settings, render_readme(digest, settings)


def test_a_library_only_digest_has_no_empty_matched_lines_or_keyword_bullet(
    tmp_path: Path, combined_feed: bytes
) -> None:
    _, readme = library_only_digest(tmp_path, combined_feed)
    blocks = paper_blocks(readme)
    assert blocks and all("**Why**: " in b for b in blocks)
    assert "**Matched**" not in readme
    assert not re.search(r"(?m)^- *$", readme)  # no empty bullet
    assert "papers like the ones in your library (no keywords)" in readme
    assert "- **Library** (1 source in `relevance.library`)" in readme


def test_scores_print_one_way_to_one_decimal(tmp_path: Path, combined_feed: bytes) -> None:
    _, readme = library_only_digest(tmp_path, combined_feed)
    scores = re.findall(r"(?m)^\*\*Score\*\*: (\S+)  $", readme)
    assert scores and all(re.fullmatch(r"-?\d+\.\d", s) for s in scores)
    assert [format_score(s) for s in (12.0407, 10.001, 8.0, 4.5)] == ["12.0", "10.0", "8.0", "4.5"]


def test_library_titles_in_why_lines_read_as_text_in_the_readme(
    tmp_path: Path, combined_feed: bytes
) -> None:
    """TeX accents are letters already; math is plain text, as a README line shows it."""
    _, readme = library_only_digest(tmp_path, combined_feed)
    whys = re.findall(r"(?m)^\*\*Why\*\*: (.*)  $", readme)
    assert any("similar to “FedP²EFT: Federated Learning" in w for w in whys)
    assert any("similar to “Schrödinger Agents: α-Reasoning with LLM Agents”" in w for w in whys)
    assert not any("$" in w or "\\" in w for w in whys)
