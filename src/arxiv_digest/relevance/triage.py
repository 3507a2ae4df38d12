"""LLM triage (``relevance.triage``, off by default): the best-ranked papers judged by a
model against the reader's plain-language interests.

After the blend has ranked the day, the top ``top_k`` papers each get a score 0–10 and a
one-line reason. A paper's points change by ``weight × (score − 5)``, the digest is sorted
again (same tie order), and the why line says ``LLM: 8/10, <reason>``.

* A judgement is stored under (paper version, model, interests hash) the moment it arrives:
  a rerun asks nothing, a changed interests statement asks again.
* At most ``max_calls`` calls per run; papers left over are judged by a later run.
* An answer that is not the JSON asked for (or a failed call) is a warning for that paper,
  nothing is cached, and the next run asks again; it never fails the run.

Nothing here is called by ``rank.Ranker``, which stays pure: the pipeline applies it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from arxiv_digest.config import Settings
from arxiv_digest.errors import DigestError
from arxiv_digest.models import Paper, RankedPaper, RunReport, digest_order
from arxiv_digest.retry import Sleep
from arxiv_digest.store.triage import Judgement, TriageQueries
from arxiv_digest.summarize.llm import CredentialsRejected, LlmClient
from arxiv_digest.summarize.runner import api_key_for

log = logging.getLogger(__name__)

Key = tuple[str, int]
NEUTRAL = 5  # a triage score that neither lifts nor sinks
REASON_SHOWN = 100  # characters of the reason in the why line
REASON_KEPT = 300  # characters of the reason stored
PROMPT_VERSION = "triage-1"  # part of the interests hash: a new prompt asks again

INSTRUCTIONS = (
    "You screen new research papers for one reader. Given the reader's interests and a "
    "paper's title and abstract, rate how much the reader would want to read the paper, "
    "from 0 (unrelated) to 10 (exactly what they look for). Answer with JSON only, no other "
    'text: {"score": <integer 0-10>, "reason": "<one short line saying why>"}.'
)
_OBJECT = re.compile(r"\{.*\}", re.S)


class TriageError(DigestError):
    """The model's answer is not a usable judgement."""


def interests_hash(interests: str) -> str:
    """Names the question asked: the interests (whitespace folded) and the prompt."""
    text = f"{PROMPT_VERSION}\n{INSTRUCTIONS}\n{' '.join(interests.split())}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def messages(interests: str, paper: Paper) -> list[dict[str, str]]:
    user = (
        f"Reader's interests: {' '.join(interests.split())}\n\n"
        f"Title: {' '.join(paper.title.split())}\n"
        f"Abstract: {' '.join(paper.abstract.split())}"
    )
    return [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": user}]


def _score(value: Any) -> int:
    if isinstance(value, bool):
        raise TriageError(f"the score is {value!r}, not a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise TriageError(f"the score is {value!r}, not a number") from None
    if not isinstance(value, int | float):
        raise TriageError(f"the score is {value!r}, not a number")
    if not 0 <= value <= 10:  # NaN too
        raise TriageError(f"the score {value} is outside 0–10")
    return round(value)


def parse_judgement(text: str, paper: Paper, tokens_in: int = 0, tokens_out: int = 0) -> Judgement:
    """The judgement in a model's answer: JSON, possibly in a code fence or with words
    around it. Raises TriageError when there is no score 0–10 and reason."""
    found = _OBJECT.search(text)
    if found is None:
        raise TriageError(f"the answer is not JSON: {' '.join(text.split())[:80]!r}")
    try:
        data = json.loads(found.group(0))
    except json.JSONDecodeError:
        raise TriageError(f"the answer is not JSON: {' '.join(text.split())[:80]!r}") from None
    if not isinstance(data, dict):
        raise TriageError("the answer is not a JSON object")
    if "score" not in data:
        raise TriageError("the answer has no score")
    score = _score(data["score"])
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise TriageError("the answer has no reason")
    reason = " ".join(reason.split())
    if len(reason) > REASON_KEPT:
        reason = reason[: REASON_KEPT - 1].rstrip() + "…"
    return Judgement(paper.arxiv_id, paper.version, score, reason, tokens_in, tokens_out)


def shown_reason(reason: str) -> str:
    """The reason in the why line: cut, and its dollars escaped, so that "$5 to $10" is
    never taken for math (a why line holds library titles, whose math is shown as math)."""
    cut = reason if len(reason) <= REASON_SHOWN else reason[: REASON_SHOWN - 1].rstrip() + "…"
    return cut.replace("$", "\\$")


def apply_judgements(
    ranked: Sequence[RankedPaper], judgements: Mapping[Key, Judgement], weight: float
) -> list[RankedPaper]:
    """The digest with the judged papers' points and why lines changed, sorted again.
    Pure: no store, no network."""
    changed: list[RankedPaper] = []
    for entry in ranked:
        judgement = judgements.get((entry.paper.arxiv_id, entry.paper.version))
        if judgement is None:
            changed.append(entry)
            continue
        said = f"LLM: {judgement.score}/10, {shown_reason(judgement.reason)}"
        why = f"{entry.why}; {said}" if entry.why else said
        score = round(entry.score + weight * (judgement.score - NEUTRAL), 6)
        changed.append(replace(entry, score=score, why=why))
    return sorted(changed, key=digest_order)


def _client(settings: Settings, model: str, sleep: Sleep | None) -> LlmClient | None:
    key = api_key_for(settings)
    if key is None:
        log.warning(
            "relevance.triage is enabled but %s is not set: only cached judgements are used",
            settings.ai_summary.api_key_env,
        )
        return None
    # The judge answers a score and a line: its own token cap, and temperature 0 so the
    # same paper and interests get the same judgement (it is cached as such).
    triage = settings.relevance.triage if settings.relevance else None
    limit = triage.max_output_tokens if triage else settings.ai_summary.max_output_tokens
    config = settings.ai_summary.model_copy(
        update={"model": model, "max_output_tokens": limit, "temperature": 0.0}
    )
    return LlmClient(config, key, settings.http, sleep=sleep)


def triage_pool(settings: Settings) -> int:
    """How many papers the ranker keeps: ``max_papers``, or ``top_k`` when triage may
    still bring papers in from below the cut."""
    relevance = settings.relevance
    if relevance is None or not relevance.triage.enabled:
        return settings.max_papers
    return max(settings.max_papers, relevance.triage.top_k)


def triage(
    settings: Settings,
    store: TriageQueries,
    ranked: Sequence[RankedPaper],
    report: RunReport,
    *,
    sleep: Sleep | None = None,
) -> list[RankedPaper]:
    """The digest after triage of its ``top_k`` best papers (cached or asked now); the
    digest unchanged when triage is off. Counts calls, tokens and cost into ``report``."""
    relevance = settings.relevance
    if relevance is None or not relevance.triage.enabled or not ranked:
        return list(ranked)
    config = relevance.triage
    interests = relevance.interests or ""  # the config requires it when enabled
    model = config.model or settings.ai_summary.model
    asked = interests_hash(interests)
    top = [r.paper for r in ranked[: config.top_k]]
    found = store.cached_triage([(p.arxiv_id, p.version) for p in top], model, asked)
    report.triage_cached = len(found)
    missing = [p for p in top if (p.arxiv_id, p.version) not in found]
    llm = _client(settings, model, sleep) if missing and config.max_calls > 0 else None
    if llm is not None:
        try:
            judged = _ask(llm, settings, store, missing, model=model, asked=asked, report=report)
            found.update(judged)
        finally:
            llm.close()
        if len(missing) > config.max_calls:
            log.info(
                "relevance.triage: %d papers wait for the next run (max_calls %d)",
                len(missing) - config.max_calls,
                config.max_calls,
            )
    prices = settings.ai_summary
    report.triage_cost = (
        report.triage_tokens_in / 1000 * prices.price_input_per_1k
        + report.triage_tokens_out / 1000 * prices.price_output_per_1k
    )
    return apply_judgements(ranked, found, config.weight)


def _ask(
    llm: LlmClient,
    settings: Settings,
    store: TriageQueries,
    papers: Sequence[Paper],
    *,
    model: str,
    asked: str,
    report: RunReport,
) -> dict[Key, Judgement]:
    assert settings.relevance is not None
    config = settings.relevance.triage
    interests = settings.relevance.interests or ""
    judged: dict[Key, Judgement] = {}
    for paper in papers[: config.max_calls]:
        report.triage_calls += 1
        try:
            answer = llm.complete(messages(interests, paper))
            report.triage_tokens_in += answer.tokens_in
            report.triage_tokens_out += answer.tokens_out
            judgement = parse_judgement(answer.text, paper, answer.tokens_in, answer.tokens_out)
        except CredentialsRejected as exc:
            report.triage_failed += 1
            log.warning("relevance.triage stopped: %s", exc)
            break
        except DigestError as exc:
            report.triage_failed += 1
            log.warning("relevance.triage of %s failed: %s", paper.versioned_id, exc)
            continue
        store.save_triage(judgement, model, asked)
        judged[(paper.arxiv_id, paper.version)] = judgement
    return judged
