"""Keyword matching: whole words by default, the original's substrings on request."""

from __future__ import annotations

import re

import pytest

from arxiv_digest.match import Matcher, TextWords
from arxiv_digest.sources.rss import parse_rss
from arxiv_digest.wordforms import fold
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


# Word mode, case by case: what a reader means by the term, not more. Every row is a real
# case counted on a day of 1,504 arXiv items (misses, then false hits of the old matcher).
READER_MEANS = [
    # singular and plural, both ways
    ("policy", "learning Markov decision policies", True),
    ("policies", "an optimal policy", True),
    ("strategy", "decoding strategies for LLMs", True),
    ("strategies", "a greedy strategy", True),
    ("query", "answering multi-hop queries", True),
    ("queries", "each query is embedded", True),
    ("matrix", "low-rank sparse matrices", True),
    ("matrices", "a sparse matrix", True),
    ("analysis", "ablation analyses", True),
    ("analyses", "a careful analysis", True),
    ("index", "citation indices", True),
    ("index", "inverted indexes", True),
    ("hypothesis", "competing hypotheses", True),
    ("hypotheses", "the null hypothesis", True),
    ("criterion", "stopping criteria", True),
    ("criteria", "one stopping criterion", True),
    ("phenomenon", "emergent phenomena", True),
    ("phenomena", "an emergent phenomenon", True),
    ("vertex", "graph vertices", True),
    ("radius", "spectral radii", True),
    ("class", "imbalanced classes", True),
    ("movie", "movies and series", True),
    ("Rat", "rats in a maze", True),
    ("Rat", "learning rates", False),
    ("rates", "a rat", False),
    ("data", "a single datum", False),  # data is a mass noun here
    ("gas", "Ga-doped layers", False),
    ("new", "fake news detection", False),  # words in s that are not plurals
    ("news", "a new method", False),
    ("dynamics", "dynamic programming", False),
    ("topic", "latent topics", True),
    # compounds: solid, hyphenated, spaced
    ("multi-agent", "multiagent systems", True),
    ("multi-agent", "Multi Agent debate", True),
    ("multi agent", "Multi-Agent Debate", True),
    ("multiagent", "Multi-Agent Debate", True),
    ("multiagent", "(multi-agent) debate", True),
    ("fine-tuning", "Finetuning LLMs", True),
    ("fine-tuning", "fine tuning", True),
    ("fine-tuning", "fine-tuned models", True),
    ("fine-tuning", "we fine-tune a model", True),
    ("fine-tuning", "Fine‑tunes (non-breaking hyphen)", True),
    ("Finetuning", "parameter-efficient fine-tuning", True),
    ("pretraining", "large-scale pre-training", True),
    ("nonlinear", "a non-linear operator", True),
    ("pre-trained", "large-scale pre-training", True),
    ("training", "trained models", False),  # -ing/-ed only for hyphenated terms
    ("LLMs", "an LLM agent", True),
    ("LLM", "open LLMs", True),
    ("Large Language Models", "a large language model", True),
    ("large language model", "Large Language Models (LLMs)", True),
    # accents and apostrophes
    ("Schrödinger", "the Schrodinger equation", True),
    ("Schrödinger", "the Schroedinger equation", True),
    ("Schrödinger", "the Schrödinger equation", True),
    ("Schrodinger", "the Schrödinger equation", True),
    ("Shor's", "Shor’s algorithm", True),
    ("Shor’s", "Shor's algorithm", True),
    ("Shor's algorithm", "Shor’s algorithms", True),
    # all-caps terms are acronyms: not ordinary words, not other mixed-case words
    ("US", "let us show", False),
    ("US", "it uses", False),
    ("US", "Us and them", False),
    ("US", "US census data", True),
    ("GO", "it goes", False),
    ("GO", "go on", False),
    ("GO", "GO terms", True),
    ("AD", "AdS/CFT correspondence", False),
    ("AD", "ads and clicks", False),
    ("AD", "AD patients", True),
    ("GAN", "GaN transistors", False),  # gallium nitride
    ("GAN", "conditional GANs", True),
    ("SIC", "SiC wafers", False),
    ("RL", "offline RL", True),
    ("RL", "the real world", False),
    ("MOE", "MoE layers", True),
    ("MOE", "sparse MoEs", True),
    ("MOE", "Moe Szyslak", False),
    ("LORA", "LoRA adapters", True),
    ("LLM", "LLM-based agents", True),
    ("LLM", "diffusion dLLM", False),
    ("FP8", "FP8 training", True),
]


@pytest.mark.parametrize(("term", "text", "expected"), READER_MEANS)
def test_word_mode_matches_what_a_reader_means(term: str, text: str, expected: bool) -> None:
    assert Matcher([term]).search(text) == ([term] if expected else [])


def test_substring_mode_keeps_every_false_hit_of_the_original() -> None:
    for term, text, _ in READER_MEANS:
        expected = [term] if term.lower() in text.lower() else []
        assert Matcher([term], mode="substring").search(text) == expected


def _real_day() -> list[str]:
    texts = []
    for path in sorted((FIXTURES / "rss").glob("*.xml")):
        texts += [f"{p.title} {p.abstract}" for p in parse_rss(path.read_bytes()).papers]
    return texts


@pytest.mark.parametrize(
    ("term", "reference"),
    [
        ("US", r"(?<!\w)USs?(?!\w)"),  # case-sensitive: never "us"
        ("policy", r"(?i)(?<!\w)polic(?:y|ies)(?!\w)"),
        ("model", r"(?i)(?<!\w)models?(?!\w)"),
        ("Rat", r"(?i)(?<!\w)rats?(?!\w)"),
    ],
)
def test_on_real_abstracts_a_term_matches_exactly_its_forms(term: str, reference: str) -> None:
    matcher = Matcher([term])
    texts = _real_day()
    assert any(re.search(r"(?<!\w)(us|rates)(?!\w)", t) for t in texts)  # the traps are there
    for text in texts:
        assert bool(matcher.search(text)) == bool(re.search(reference, text)), text[:80]


def _folded_words(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold(text).lower()))


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
    assert TextWords(text).words == _folded_words(text)


def test_fast_word_split_agrees_on_every_fixture_abstract() -> None:
    for text in _real_day():
        assert TextWords(text).words == _folded_words(text)


def test_hyphenated_words_are_also_read_solid() -> None:
    assert TextWords("a multi-agent, (fine-tuned) end-to-end -- system").compounds == {
        "multiagent",
        "finetuned",
        "endtoend",
    }
