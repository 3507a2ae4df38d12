"""Keyword matching: whole words by default, the original's substrings on request."""

from __future__ import annotations

import re

import pytest

from arxiv_digest.match import Matcher, TextWords
from arxiv_digest.sources.rss import parse_rss
from tests.conftest import FIXTURES

WORD = Matcher(["LLM", "RL", "Efficient", "review", "Speculative Decoding", "C++", "FP8", "MOE"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LLMs are few-shot learners", ["LLM"]),
        ("An LLM-based agent", ["LLM"]),
        ("Diffusion LLMs (dLLM) decode in parallel", ["LLM"]),
        ("dLLM only", []),
        ("the world is early", []),
        ("offline RL with RLHF", ["RL"]),
        ("a coefficient of friction", []),
        ("Efficient inference", ["Efficient"]),
        ("we review prior work", ["review"]),
        ("previewing the results", []),
        ("speculative-decoding at scale", ["Speculative Decoding"]),
        ("SPECULATIVE\n decodings", ["Speculative Decoding"]),
        ("speculative and decoding apart", []),
        ("kernels in C++ and CUDA", ["C++"]),
        ("training in FP8", ["FP8"]),
        ("training in FP8s", []),
        ("sparse MoEs", ["MOE"]),
    ],
)
def test_word_mode(text: str, expected: list[str]) -> None:
    assert WORD.search(text) == expected


def test_terms_come_back_in_config_order() -> None:
    matcher = Matcher(["zeta", "alpha", "mid"])
    assert matcher.search("alpha mid zeta") == ["zeta", "alpha", "mid"]


def test_substring_mode_is_the_original_behaviour() -> None:
    matcher = Matcher(["RL", "Efficient", "review"], mode="substring")
    assert matcher.search("the world") == ["RL"]
    assert matcher.search("coefficient") == ["Efficient"]
    assert matcher.search("previewing") == ["review"]


@pytest.mark.parametrize(
    "text",
    [
        "LLM’s edge–cases: naïve Bayes, Schrödinger, 2-stage RL_agents (v2.0)!",
        "plain ascii, with punctuation; and_underscores + digits 123abc",
        "Ünïcödé only",
        "",
    ],
)
def test_fast_word_split_agrees_with_the_regex(text: str) -> None:
    assert TextWords(text).words == set(re.findall(r"\w+", text.lower()))


def test_fast_word_split_agrees_on_every_fixture_abstract() -> None:
    for path in (FIXTURES / "rss").glob("*.xml"):
        for paper in parse_rss(path.read_bytes()).papers:
            text = f"{paper.title} {paper.abstract}"
            assert TextWords(text).words == set(re.findall(r"\w+", text.lower()))
