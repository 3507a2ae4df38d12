"""What the model is asked. The prompt's hash is part of the cache key: a new prompt means
new summaries, the same prompt means none are ever paid for twice."""

from __future__ import annotations

import hashlib
from pathlib import Path

from arxiv_digest.config import AISummarySettings
from arxiv_digest.errors import ConfigError
from arxiv_digest.models import Paper

LANGUAGES = {
    "zh": "Simplified Chinese (简体中文)",
    "zh-tw": "Traditional Chinese (繁體中文)",
    "en": "English",
    "ja": "Japanese",
    "ko": "Korean",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "ru": "Russian",
    "it": "Italian",
}

DEFAULT_INSTRUCTIONS = """\
You summarize research papers for researchers who decide what to read next.
Write the summary in {language}. Keep technical terms, method, model, dataset and metric
names in English, as the paper writes them.

Use Markdown with exactly these four numbered sections, headings written in {language}:

1. Contributions and novelty: the problem tackled, the new method or idea, and what it
   does better than earlier approaches.
2. Experimental setup: datasets, models, evaluation metrics, and the baselines compared.
3. Results: the key numbers, how they compare with the baselines, and what the ablations
   show.
4. Conclusions: the main findings, the limitations, and the future work the authors name.

State only what the paper says; when it does not give something, say so instead of
guessing. Be precise and brief: bullet points over long paragraphs.
"""


def language_name(code: str) -> str:
    return LANGUAGES.get(code.lower(), code)


def instructions(settings: AISummarySettings) -> str:
    """The system prompt: ours, or the user's prompt_file ({language} is filled in)."""
    template = DEFAULT_INSTRUCTIONS
    if settings.prompt_file is not None:
        try:
            template = Path(settings.prompt_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"ai_summary.prompt_file: cannot read {settings.prompt_file}: {exc}"
            ) from None
        if not template.strip():
            raise ConfigError(f"ai_summary.prompt_file: {settings.prompt_file} is empty")
    return template.replace("{language}", language_name(settings.language))


def prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def paper_message(paper: Paper, body_label: str, body: str) -> str:
    """The user message: the title always, then whatever the model should read."""
    lines = [
        f"Title: {paper.title}",
        f"Authors: {', '.join(paper.authors)}",
        f"arXiv: {paper.versioned_id}",
    ]
    if body:
        lines += ["", f"{body_label}:", body]
    return "\n".join(lines)
