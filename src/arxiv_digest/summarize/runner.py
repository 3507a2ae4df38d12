"""Summarizing a list of papers: cache first, then PDFs downloaded ahead of the LLM calls.

* A summary is stored under (arXiv id, version, model, prompt hash, input mode) the moment
  it arrives, so a run killed half-way pays only for the missing papers next time.
* One thread downloads PDFs in rank order, ``pdf_delay`` seconds apart (polite to arXiv);
  ``max_workers`` threads call the LLM, each taking the next paper whose PDF is ready.
* One paper failing never blocks the others; it is counted, reported and retried next run.
* A summary made from the abstract because the PDF was unavailable (it carries a note) is
  shown, and for ``FULLTEXT_RETRY_DAYS`` after it was made each run downloads the PDF again;
  only if that works is the LLM asked again, and the full-text summary replaces it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.errors import DigestError, SummarizeError
from arxiv_digest.models import Paper, Summary, SummaryStats
from arxiv_digest.retry import Sleep
from arxiv_digest.sources import http
from arxiv_digest.store import Store
from arxiv_digest.summarize import fulltext, prompt
from arxiv_digest.summarize.llm import CredentialsRejected, LlmClient

log = logging.getLogger(__name__)
Progress = Callable[[SummaryStats, int], None]  # stats so far, papers to summarize
Key = tuple[str, int]
MAX_REASON = 300  # characters of a failure's reason kept in the report and the log
# Long enough to outlast an arXiv hiccup, short enough that a PDF that never comes (withdrawn,
# too big) stops costing a download per run; the LLM is only paid when the full text came.
FULLTEXT_RETRY_DAYS = 3
FALLBACK_NOTES = {
    "fulltext": "Summary from the abstract: the full text could not be downloaded.",
    "file": "Summary from the abstract: the PDF could not be downloaded or uploaded.",
}


class _StillNoFullText(SummarizeError):
    """A full-text retry whose PDF failed again: nothing to ask the LLM."""


def _key(paper: Paper) -> Key:
    return (paper.arxiv_id, paper.version)


class _PdfFetcher:
    """Downloads PDFs one at a time, at least ``delay`` seconds apart."""

    def __init__(self, client: httpx2.Client, settings: Settings, sleep: Sleep) -> None:
        self.client = client
        self.settings = settings
        self.sleep = sleep
        self.delay = settings.ai_summary.pdf_delay
        self._last: float | None = None

    def fetch(self, paper: Paper) -> bytes:
        if self._last is not None:
            wait = self._last + self.delay - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last = time.monotonic()
        url = f"{self.settings.arxiv.pdf_url}/{paper.versioned_id}"
        response = http.get(self.client, url, self.settings.http, sleep=self.sleep)
        return response.content


class Summarizer:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        llm: LlmClient | None,
        pdf_client: httpx2.Client,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.config = settings.ai_summary
        self.store = store
        self.llm = llm
        self.pdfs = _PdfFetcher(pdf_client, settings, sleep)
        self.clock = clock
        self.instructions = prompt.instructions(self.config)
        self.prompt_hash = prompt.prompt_hash(self.instructions)
        self._rejected: str | None = None

    @property
    def can_call(self) -> bool:
        return self.llm is not None

    def cached(self, papers: Sequence[Paper]) -> dict[Key, Summary]:
        return self.store.cached_summaries(
            [_key(p) for p in papers], self.config.model, self.prompt_hash, self.config.input
        )

    # -- one paper ---------------------------------------------------------------------------

    def _messages(
        self, paper: Paper, pdf: Future[bytes] | None, fulltext_only: bool
    ) -> tuple[list[dict[str, str]], str, str | None]:
        """The request, the note to show with the summary, and an uploaded file's id.

        Without the full text it falls back to the abstract, unless ``fulltext_only`` (the
        paper already has a summary from its abstract): then it raises _StillNoFullText.
        """
        system = {"role": "system", "content": self.instructions}
        mode = self.config.input
        if mode == "abstract" or pdf is None:
            return [system, self._user(paper, "Abstract", paper.abstract)], "", None
        try:
            data = pdf.result()
            if mode == "file":
                assert self.llm is not None
                file_id = self.llm.upload_pdf(f"{paper.versioned_id}.pdf", data)
                file_message = {"role": "system", "content": f"fileid://{file_id}"}
                return [system, file_message, self._user(paper, "", "")], "", file_id
            body = fulltext.paper_text(data, self.config.max_input_tokens)
            return [system, self._user(paper, "Full text", body)], "", None
        except (DigestError, OSError) as exc:
            if isinstance(exc, CredentialsRejected):
                raise
            if fulltext_only:
                raise _StillNoFullText(str(exc)) from None
            log.warning(
                "%s: full text unavailable (%s); summarizing the abstract", paper.versioned_id, exc
            )
            note = FALLBACK_NOTES[mode]
            return [system, self._user(paper, "Abstract", paper.abstract)], note, None

    @staticmethod
    def _user(paper: Paper, label: str, body: str) -> dict[str, str]:
        return {"role": "user", "content": prompt.paper_message(paper, label, body)}

    def _summarize_one(
        self, paper: Paper, pdf: Future[bytes] | None, fulltext_only: bool = False
    ) -> Summary:
        if self._rejected:
            raise SummarizeError(self._rejected)
        assert self.llm is not None
        file_id = None
        try:
            messages, note, file_id = self._messages(paper, pdf, fulltext_only)
            completion = self.llm.complete(messages)
        except CredentialsRejected as exc:
            self._rejected = str(exc)
            raise
        finally:
            if file_id is not None:
                self.llm.delete_file(file_id)
        summary = Summary(
            arxiv_id=paper.arxiv_id,
            version=paper.version,
            model=self.config.model,
            text=completion.text,
            input_mode=self.config.input,
            note=note,
            tokens_in=completion.tokens_in,
            tokens_out=completion.tokens_out,
        )
        # Saved here, before this worker takes another paper: a kill loses nothing paid for.
        self.store.save_summary(summary, self.prompt_hash, self.clock())
        return summary

    # -- many papers ----------------------------------------------------------------------------

    def _cost(self, tokens_in: int, tokens_out: int) -> float:
        return (
            tokens_in / 1000 * self.config.price_input_per_1k
            + tokens_out / 1000 * self.config.price_output_per_1k
        )

    def _fulltext_retries(self, found: dict[Key, Summary]) -> set[Key]:
        """Cached summaries from the abstract, recent enough to try their full text again."""
        if self.llm is None or self.config.input == "abstract" or not found:
            return set()
        since = self.clock() - dt.timedelta(days=FULLTEXT_RETRY_DAYS)
        saved = self.store.fallback_times(
            list(found), self.config.model, self.prompt_hash, self.config.input
        )
        return {key for key, when in saved.items() if when >= since}

    def summarize(
        self, papers: Sequence[Paper], on_progress: Progress | None = None
    ) -> tuple[dict[Key, Summary], SummaryStats]:
        """Summaries for ``papers``: from the cache, else from the LLM when one is set."""
        found = self.cached(papers)
        retry = self._fulltext_retries(found)
        stats = SummaryStats(cached=len(found) - len(retry))
        todo = [p for p in dict.fromkeys(papers) if _key(p) not in found or _key(p) in retry]
        if not todo or self.llm is None:
            return found, stats
        if retry:
            log.info("trying the full text again for %d paper(s)", len(retry))
        self._run(todo, retry, found, stats, on_progress)
        stats.cost = self._cost(stats.tokens_in, stats.tokens_out)
        return found, stats

    def _run(
        self,
        todo: list[Paper],
        retry: set[Key],
        found: dict[Key, Summary],
        stats: SummaryStats,
        on_progress: Progress | None,
    ) -> None:
        """Summarizes ``todo`` (adding to ``found`` and ``stats``): PDFs ahead, LLM in a pool."""
        needs_pdf = self.config.input != "abstract"
        with (
            ThreadPoolExecutor(1, thread_name_prefix="pdf") as downloads,
            ThreadPoolExecutor(self.config.max_workers, thread_name_prefix="llm") as calls,
        ):
            pdfs = {_key(p): downloads.submit(self.pdfs.fetch, p) for p in todo if needs_pdf}
            jobs = {
                calls.submit(self._summarize_one, p, pdfs.get(_key(p)), _key(p) in retry): p
                for p in todo
            }
            for job in as_completed(jobs):
                paper = jobs[job]
                try:
                    summary = job.result()
                except Exception as exc:  # one paper's failure, never the run's
                    if _key(paper) in retry:
                        _keep_fallback(stats, paper, exc)
                    else:
                        _record_failure(stats, paper, exc)
                else:
                    found[_key(paper)] = summary
                    stats.made += 1
                    stats.tokens_in += summary.tokens_in
                    stats.tokens_out += summary.tokens_out
                if on_progress:
                    on_progress(stats, len(todo))

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()


def _reason(paper: Paper, error: Exception) -> str:
    """Why one paper's summary failed, on one short line (the traceback goes to debug).

    Whatever went wrong (our errors, or a bug or library surprise on one odd paper), the
    other papers and the digest must still come out.
    """
    if isinstance(error, DigestError):
        reason = str(error)
    else:
        reason = f"unexpected {type(error).__name__}: {error}"
        log.debug("summary of %s failed", paper.versioned_id, exc_info=error)
    reason = " ".join(reason.split())
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


def _record_failure(stats: SummaryStats, paper: Paper, error: Exception) -> None:
    """Counts one paper's failure and logs it; nothing is cached, so the next run retries."""
    reason = _reason(paper, error)
    stats.failed += 1
    stats.failures.append(f"{paper.versioned_id}: {reason}")
    log.warning("summary of %s failed: %s", paper.versioned_id, reason)


def _keep_fallback(stats: SummaryStats, paper: Paper, error: Exception) -> None:
    """A full-text retry that did not work out: the cached summary from the abstract stays."""
    stats.cached += 1
    log.warning(
        "%s: no full-text summary this time (%s); keeping the summary from the abstract",
        paper.versioned_id,
        _reason(paper, error),
    )


def api_key_for(settings: Settings) -> str | None:
    """The key from the environment; local servers (Ollama, vLLM) need none."""
    key = os.environ.get(settings.ai_summary.api_key_env, "").strip()
    if key:
        return key
    return "not-needed" if settings.ai_summary.is_local else None


def build_summarizer(
    settings: Settings,
    store: Store,
    pdf_client: httpx2.Client,
    *,
    sleep: Sleep = time.sleep,
) -> Summarizer | None:
    """The configured summarizer; without a key it still serves cached summaries."""
    if not settings.ai_summary.enabled:
        return None
    key = api_key_for(settings)
    llm = None
    if key is None:
        log.warning(
            "AI summaries are enabled but %s is not set: the digest is built without new summaries",
            settings.ai_summary.api_key_env,
        )
    else:
        llm = LlmClient(settings.ai_summary, key, settings.http, sleep=sleep)
    return Summarizer(settings, store, llm, pdf_client, sleep=sleep)
