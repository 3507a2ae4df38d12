"""The offline all-MiniLM-L6-v2 loads without a download and embeds by meaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.minilm import DIM, load_minilm, offline_minilm_dir

FEDERATED_A = (
    "Federated learning trains a shared model across many clients without collecting their "
    "data. We propose an aggregation rule that is robust to heterogeneous, non-IID client "
    "data and reduces the communication rounds needed to converge."
)
FEDERATED_B = (
    "We study privacy-preserving distributed training in which hospitals keep patient records "
    "local and only exchange model updates with a central server; client drift under skewed "
    "label distributions is corrected with a momentum term."
)
QUANTUM_OPTICS = (
    "We demonstrate a deterministic single-photon source based on a quantum dot in a "
    "micropillar cavity, with high indistinguishability measured by Hong-Ou-Mandel "
    "interference, for photonic quantum networks."
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("minilm")


def test_folder_has_what_fastembed_needs(model_dir: Path) -> None:
    folder = offline_minilm_dir(model_dir)
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "model.onnx",
        "tokenizer.json",
        "config.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    }
    assert offline_minilm_dir(model_dir) == folder  # a second call reuses the checked copy


def test_same_topic_abstracts_are_closer(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = load_minilm(model_dir)
    vectors = np.array(list(model.embed([FEDERATED_A, FEDERATED_B, QUANTUM_OPTICS])))
    assert vectors.shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar = float(vectors[0] @ vectors[1])
    assert similar > float(vectors[0] @ vectors[2]) + 0.2
    assert similar > float(vectors[1] @ vectors[2]) + 0.2
