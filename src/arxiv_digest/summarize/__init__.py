"""AI summaries of the top papers through any OpenAI-compatible API, cached in the store."""

from arxiv_digest.summarize.runner import Summarizer, build_summarizer

__all__ = ["Summarizer", "build_summarizer"]
