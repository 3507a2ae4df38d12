"""Text as arXiv sends it becomes text a reader can read: accents, not TeX; math kept as TeX."""

from __future__ import annotations

import logging
import re
import unicodedata

import pytest
from lxml import etree

from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.sources.text import clean_name, clean_prose, repair_mojibake
from tests.conftest import fixture_bytes

# Accent commands as they are stored in real arXiv titles, abstracts and names.
ACCENTS = [
    ('Schr\\"odinger operator, P\\"oschl--Teller', "Schrödinger operator, Pöschl--Teller"),
    ("L\\'evy flight foraging", "Lévy flight foraging"),
    ("P\\'{o}lya-Szeg\\\"{o} inequality", "Pólya-Szegö inequality"),
    ("Erd\\H{o}s--R\\'enyi graphs", "Erdős--Rényi graphs"),
    ("caf\\'{e} and {\\\"u}ber", "café and über"),
    ("Fran\\c{c}ois, \\v{S}imon, Du\\v{s}an", "François, Šimon, Dušan"),
    ("Gro\\ss e, Stra{\\ss}e, Stra\\ss{}e", "Große, Straße, Straße"),
    ("Bj{\\o}rn, \\O ystein, Przemys{\\l}aw, \\L{}\\'od\\'z", "Bjørn, Øystein, Przemysław, Łódź"),
    ("\\AA ngstr\\\"om, \\aa, \\ae, \\AE, \\oe, \\OE", "Ångström, å, æ, Æ, œ, Œ"),
    ("Garc\\'ia, Mart\\'{\\i}nez, Jim\\'enez, \\'\\i", "García, Martínez, Jiménez, í"),
    ('Schr\\" odinger, \\^{o}, \\`a, \\~n', "Schrödinger, ô, à, ñ"),
    ("\\=a, \\.z, \\k{a}, \\u{g}, \\r{u}, \\d{s}, \\b{k}, \\t{oo}", "ā, ż, ą, ğ, ů, ṣ, ḵ, o͡o"),
    ("Poincar\\'e inequality", "Poincaré inequality"),
    ("costs \\$5, says Schr\\\"odinger", "costs \\$5, says Schrödinger"),  # \\$ is no math
    ("$x$ and $y$ by L\\'evy, $z", "$x$ and $y$ by Lévy, $z"),  # an unclosed $ is no math
    ("\\[ \\hat{x} \\] and \\( \\'e \\) then \\'e", "\\[ \\hat{x} \\] and \\( \\'e \\) then é"),
]  # fmt: skip

# TeX that is not an accent: it must come out exactly as it went in.
NOT_ACCENTS = [
    "Dense Sampling Factor $\\alpha$",
    "in time $\\mathcal{O}(n^3)$ and \\(x \\in \\mathbb{R}^d\\)",
    "as shown in \\cite{smith} and \\emph{not} \\textbf{bold}",
    "$\\omega$, $\\lambda$, $\\int f$, $\\left( x \\right)$, $\\ldots$, $\\oplus$",
    "$\\bar x$, $\\dot x$, $\\ddot x$, $\\hat{x}$, $\\vec v$, $\\tilde{\\mu}$, \\cO, \\tX",
    '$\\"o$ inside math stays',
    "non-linear -- and --- dashes",
    "costs over $800 per sample",
]


@pytest.mark.parametrize(("tex", "expected"), ACCENTS)
def test_accent_commands_become_letters(tex: str, expected: str) -> None:
    converted = clean_prose(tex)
    assert converted == expected
    assert unicodedata.is_normalized("NFC", converted)


@pytest.mark.parametrize("tex", NOT_ACCENTS)
def test_math_and_other_commands_are_left_as_tex(tex: str) -> None:
    assert clean_prose(tex) == tex


def test_accents_next_to_math_are_converted_and_the_math_is_not() -> None:
    assert clean_prose("Schr\\\"odinger's $\\psi$ and L\\'evy $\\alpha$-stable laws") == (
        "Schrödinger's $\\psi$ and Lévy $\\alpha$-stable laws"
    )


def test_braces_of_a_command_argument_are_kept() -> None:
    assert clean_prose('\\emph{\\"o}') == "\\emph{ö}"
    assert clean_prose('Schr{\\"o}dinger') == "Schrödinger"


def _tex_math(text: str) -> list[str]:
    return re.findall(r"\$[^$]+\$", text)


def test_every_title_and_abstract_of_a_real_day_keeps_its_math() -> None:
    """stat, 2024-03-26: 123 items with TeX accents in names and titles, math in many."""
    body = fixture_bytes("rss/stat_2024-03-26.xml")
    raw = {
        item.findtext("guid", "").rsplit(":", 1)[-1].split("v")[0]: item
        for item in etree.fromstring(body).iterfind("channel/item")
    }
    papers = parse_rss(body).papers
    with_math = 0
    for paper in papers:
        item = raw[paper.arxiv_id]
        raw_title = " ".join(item.findtext("title", "").split())
        raw_text = " ".join(item.findtext("description", "").split())
        assert _tex_math(paper.title) == _tex_math(raw_title)
        assert _tex_math(paper.abstract) == _tex_math(raw_text)
        with_math += bool(_tex_math(paper.abstract))
        outside = re.sub(r"\$[^$]+\$", "", f"{paper.title} {paper.abstract}")
        assert not re.search(r"\\['\"`^~=.]\{?[A-Za-z]", outside), paper.arxiv_id
    assert with_math >= 10
    titles = {p.title for p in papers}
    assert (
        "A Poincaré Inequality and Consistency Results for Signal Sampling on Large Graphs"
        in titles
    )
    assert "Adaptive Frequency Bin Interval in FFT via Dense Sampling Factor $\\alpha$" in titles


@pytest.mark.parametrize(
    ("broken", "repaired"),
    [
        ("JosÃ© RaÃºl", "José Raúl"),  # seen in a real API response kept by a third party
        ("KnollmÃ¼ller", "Knollmüller"),
        ("Schrödinger’s naïve café", "Schrödinger’s naïve café"),  # correct text: untouched
        ("GaN, Ã  la carte?", "GaN, Ã  la carte?"),  # not mojibake: untouched
        ("plain ASCII", "plain ASCII"),
    ],
)
def test_double_encoded_utf8_is_repaired(broken: str, repaired: str) -> None:
    assert repair_mojibake(broken) == repaired


def test_a_repair_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="arxiv_digest.sources.text"):
        assert clean_name("JosÃ© RaÃºl") == "José Raúl"
    assert "double-encoded" in caplog.text and "JosÃ© RaÃºl" in caplog.text
