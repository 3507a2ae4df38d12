"""The library's theme, not one paper's echo: a new paper is compared with the library's
topics (groups of alike library papers), and the why line says which it was close to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from arxiv_digest.models import Paper
from arxiv_digest.relevance.library import complete, read_library_files
from arxiv_digest.relevance.similarity import document, similarity
from arxiv_digest.relevance.topics import TopicWords, centroid_lengths, closeness
from tests.test_relevance import (
    about_federated_learning,
    bibtex_of,
    federated_bibtex,
    library_settings,
    ranked_with_library,
    real_day,
)


def documents(papers: list[Paper]) -> list[str]:
    return [document(p.title, p.abstract) for p in papers]


def test_a_themed_library_forms_topics_and_a_library_of_unrelated_papers_does_not(
    tmp_path: Path,
) -> None:
    federated_bibtex(tmp_path)
    settings = library_settings(tmp_path, ["federated.bib"])
    themed = list(complete(read_library_files(settings), {}).papers)
    day = real_day()
    unrelated = [p for p in day if not about_federated_learning(p)][:8]
    found = similarity(documents(day), [document(p.title, p.abstract) for p in themed])
    assert max(len(t) for t in found.topics) >= 6  # of 8 federated-learning papers
    apart = similarity(documents(day), documents(unrelated))
    assert [len(t) for t in apart.topics] == [1] * 8


def test_the_nearest_paper_is_one_voice_among_the_papers_of_its_topic() -> None:
    """closeness = cosine to the nearest paper / m + cosine to its topic's centroid ×
    (1 − 1/m): a paper alone in its topic counts alone."""
    library = np.array([[1.0, 0.0, 0.0], [0.5, np.sqrt(0.75), 0.0], [0.0, 0.0, 1.0]])
    topics = [(0, 1), (2,)]  # papers 0 and 1 are alike (cosine 0.5), paper 2 stands alone
    cosines = np.array([[0.6, 0.0, 0.1], [0.3, 0.3, 0.0], [0.1, 0.0, 0.5]])
    lengths = centroid_lengths(library, topics)
    centroid = np.sqrt((1 + 0.5 + 0.5 + 1) / 4)  # the length of the topic's mean vector
    assert lengths == pytest.approx([centroid, 1.0])
    found = closeness(cosines, topics, lengths)
    assert found.value == pytest.approx(
        [0.6 / 2 + 0.3 / centroid / 2, 0.3 / 2 + 0.3 / centroid / 2, 0.5]
    )
    assert found.nearest.tolist() == [0, 0, 2]
    assert found.by_topic.tolist() == [False, True, False]  # the echo of one paper, the theme


def test_a_paper_on_the_librarys_theme_ranks_above_one_like_a_single_library_paper(
    tmp_path: Path,
) -> None:
    """ "Comparative Analysis of Lightweight Deep Learning Models ..." resembles the library's
    paper on quantized federated learning for IoT devices; FedTeddi is about federated
    learning, what the whole library is about."""
    federated_bibtex(tmp_path)
    settings = library_settings(tmp_path, ["federated.bib"], max_papers=20)
    order = [r.paper.title for r in ranked_with_library(settings, real_day())]
    theme = next(i for i, t in enumerate(order) if t.startswith("FedTeddi"))
    echo = next(i for i, t in enumerate(order) if t.startswith("Comparative Analysis"))
    assert theme < echo


def test_the_why_line_says_whether_the_theme_or_one_paper_drew_the_paper(
    tmp_path: Path,
) -> None:
    federated_bibtex(tmp_path)
    themed = library_settings(tmp_path, ["federated.bib"])
    assert ranked_with_library(themed, real_day())[0].why == (
        "close to your library on federated learning"
    )
    day = real_day()
    first_of_each: dict[str, Paper] = {}  # one paper of each category: nothing alike
    for paper in day:
        if not about_federated_learning(paper):
            first_of_each.setdefault(paper.primary_category, paper)
    unrelated = list(first_of_each.values())
    (tmp_path / "mixed.bib").write_text(bibtex_of(unrelated, filed=False), encoding="utf-8")
    mixed = library_settings(tmp_path, ["mixed.bib"])
    whys = [r.why for r in ranked_with_library(mixed, [p for p in day if p not in unrelated])]
    assert whys and all(w.startswith("similar to “") for w in whys)


FEDERATED = [
    "Federated Learning with Sparse Updates",
    "Personalized Federated Learning for Edge Devices",
    "Communication-Efficient Federated Learning: A Secure, Scalable Approach",
    "Federated Fine-Tuning of Language Models on Devices",
]
KV_CACHE = ["KV Cache Compression for Long Contexts", "Adaptive KV Cache Eviction"]


@pytest.mark.parametrize(
    ("titles", "text", "phrase"),
    [
        (FEDERATED, "FedX: scheduling clients in federated edge learning", "federated learning"),
        (FEDERATED, "Federated fine-tuning, personalized", "federated"),  # no "learning"
        (FEDERATED, "Fine-tuning language models for translation", ""),  # not defining
        (FEDERATED, "A secure scalable approach to protein folding", ""),
        (KV_CACHE, "Quantized KV cache for serving", "KV cache"),
        (KV_CACHE, "Protein folding", ""),
    ],
)
def test_a_topic_is_named_by_the_words_that_define_it_and_the_paper_uses(
    titles: list[str], text: str, phrase: str
) -> None:
    """Words half of the topic's titles share (two at least), never one the day's titles
    use all the time ("learning")."""
    assert TopicWords(titles, common={"learning"}).phrase(text) == phrase
