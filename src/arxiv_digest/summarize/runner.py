"""Summarizing a list of papers: cache first, then PDFs fetched ahead of the LLM calls.

* A summary is stored under (arXiv id, version, model, prompt hash, input mode) the moment
  it arrives, so a run killed half-way pays only for the missing papers next time.
* PDFs are fetched in rank order by their own threads, while the LLM works: the first few
  (one per LLM worker, see ``FIRST_DOWNLOADS``) at once, then one every ``pdf_delay``
  seconds (polite to arXiv), overlapping when arXiv is slow; the full text is extracted
  there too, so an LLM worker that finishes a call finds its next paper's text ready.
  ``max_workers`` threads call the LLM, each taking the next paper in rank order.
* The ``openai`` SDK is imported only once an LLM call is due (see ``llm.py``): by the LLM
  workers, while the first PDFs download; so is PDFium, for the text of those PDFs.
* One paper failing never blocks the others; it is counted, reported and retried next run.
* A summary made from the abstract because the PDF was unavailable (it carries a note) is
  shown, and for ``FULLTEXT_RETRY_DAYS`` after it was made, at most once every
  ``FULLTEXT_RETRY_INTERVAL``, a run downloads the PDF again; only if that works is the LLM
  asked again, and the full-text summary replaces it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
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
# Why a PDF is missing (arXiv still building it after the announcement, a mirror lagging,
# arXiv answering 403/503 to a burst of downloads) clears in hours, not minutes: a rerun
# minutes later would download the same PDFs for the same answer. Six hours lets a manual
# rerun or a re-tried workflow the same day download nothing again, while a daily run
# still tries every day of the window (and a twice-daily schedule at every run).
FULLTEXT_RETRY_INTERVAL = dt.timedelta(hours=6)
# Every LLM worker waits for a PDF before its first call: with downloads pdf_delay apart,
# the third of three workers would start two delays after the first (a second lost on
# every run, as the last calls then end later). The first downloads start together, one
# for each worker, but no more than 3 (the default max_workers): a browser opens as many,
# and a larger burst is what arXiv's robot detection looks for. Then one per pdf_delay.
FIRST_DOWNLOADS = 3
FALLBACK_NOTES = {
    "fulltext": "Summary from the abstract: the full text could not be downloaded.",
    "file": "Summary from the abstract: the PDF could not be downloaded or uploaded.",
}


class _StillNoFullText(SummarizeError):
    """A full-text retry whose PDF failed again: nothing to ask the LLM."""


def _key(paper: Paper) -> Key:
    return (paper.arxiv_id, paper.version)


class _Pacer:
    """Lets callers from any thread start ``delay`` seconds apart, but for the first
    ``burst``, which start at once."""

    def __init__(self, delay: float, burst: int, sleep: Sleep, clock: Callable[[], float]) -> None:
        self.delay = delay
        self.burst = burst
        self.sleep = sleep
        self.clock = clock
        self._next: float | None = None
        self._booked = 0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:  # each caller books the next free slot, then waits for it
            now = self.clock()
            start = now if self._next is None else max(now, self._next)
            self._booked += 1
            self._next = start + self.delay if self._booked >= self.burst else start
        if start > now:
            self.sleep(start - now)


class _PdfFetcher:
    """Downloads PDFs: the first few at once, then one every ``ai_summary.pdf_delay``."""

    def __init__(self, client: httpx2.Client, settings: Settings, sleep: Sleep) -> None:
        self.client = client
        self.settings = settings
        self.sleep = sleep
        config = settings.ai_summary
        burst = min(config.max_workers, FIRST_DOWNLOADS)
        self.pacer = _Pacer(config.pdf_delay, burst, sleep, time.monotonic)

    def fetch(self, paper: Paper) -> bytes:
        self.pacer.wait()
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

    def _fetch_input(self, paper: Paper) -> bytes | str:
        """In a download thread, ahead of the LLM: the PDF (``file`` mode) or its text."""
        pdf = self.pdfs.fetch(paper)
        if self.config.input == "file":
            return pdf
        return fulltext.paper_text(pdf, self.config.max_input_tokens)

    def _messages(
        self, paper: Paper, source: Future[bytes | str] | None, fulltext_only: bool
    ) -> tuple[list[dict[str, str]], str, str | None]:
        """The request, the note to show with the summary, and an uploaded file's id.

        Without the full text it falls back to the abstract, unless ``fulltext_only`` (the
        paper already has a summary from its abstract): then it raises _StillNoFullText.
        """
        system = {"role": "system", "content": self.instructions}
        mode = self.config.input
        if mode == "abstract" or source is None:
            return [system, self._user(paper, "Abstract", paper.abstract)], "", None
        try:
            body = source.result()
            assert self.llm is not None
            self.llm.prepare()  # a retry's first sign that the LLM is needed after all
            if isinstance(body, bytes):
                file_id = self.llm.upload_pdf(f"{paper.versioned_id}.pdf", body)
                file_message = {"role": "system", "content": f"fileid://{file_id}"}
                return [system, file_message, self._user(paper, "", "")], "", file_id
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
        self, paper: Paper, source: Future[bytes | str] | None, fulltext_only: bool = False
    ) -> Summary:
        if self._rejected:
            raise SummarizeError(self._rejected)
        assert self.llm is not None
        # Both imports overlap the PDF's download: PDFium's, which reads its text, and the
        # SDK's (unless the paper has a summary already and its PDF may fail again).
        if source is not None and self.config.input == "fulltext":
            fulltext.load_pdfium()
        if not fulltext_only:
            self.llm.prepare()
        file_id = None
        try:
            messages, note, file_id = self._messages(paper, source, fulltext_only)
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

    def _fulltext_retries(self, found: dict[Key, Summary], now: dt.datetime) -> set[Key]:
        """Cached summaries from the abstract whose full text is due another try: made in
        the last ``FULLTEXT_RETRY_DAYS``, last tried ``FULLTEXT_RETRY_INTERVAL`` ago."""
        if self.llm is None or self.config.input == "abstract" or not found:
            return set()
        made_since = now - dt.timedelta(days=FULLTEXT_RETRY_DAYS)
        tried_before = now - FULLTEXT_RETRY_INTERVAL
        saved = self.store.fallback_times(
            list(found), self.config.model, self.prompt_hash, self.config.input
        )
        return {
            key
            for key, (made, tried) in saved.items()
            if made >= made_since and tried <= tried_before
        }

    def summarize(
        self, papers: Sequence[Paper], on_progress: Progress | None = None
    ) -> tuple[dict[Key, Summary], SummaryStats]:
        """Summaries for ``papers``: from the cache, else from the LLM when one is set."""
        found = self.cached(papers)
        now = self.clock()
        retry = self._fulltext_retries(found, now)
        stats = SummaryStats(cached=len(found) - len(retry))
        todo = [p for p in dict.fromkeys(papers) if _key(p) not in found or _key(p) in retry]
        if not todo or self.llm is None:
            return found, stats
        if retry:
            log.info("trying the full text again for %d paper(s)", len(retry))
            # Recorded first: a run killed during the retry does not retry again at once.
            self.store.mark_fulltext_tried(
                sorted(retry), self.config.model, self.prompt_hash, self.config.input, now
            )
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
        workers = self.config.max_workers
        with (
            ThreadPoolExecutor(min(workers, len(todo)), thread_name_prefix="pdf") as downloads,
            ThreadPoolExecutor(workers, thread_name_prefix="llm") as calls,
        ):
            sources = {_key(p): downloads.submit(self._fetch_input, p) for p in todo if needs_pdf}
            jobs = {
                calls.submit(self._summarize_one, p, sources.get(_key(p)), _key(p) in retry): p
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
