"""One bill for the team: the union of the members' top papers is summarized once per
(paper version, model, prompt).

Members whose prompt and language are the same share one :class:`Summarizer`; each group
gets its members' top papers (``max_papers_to_summarize`` each), interleaved by rank so
that a cap cuts every member's list alike, and asks the LLM once per paper it has no
cached summary for. ``ai_summary.max_calls_per_run`` caps the new summaries of all groups
together. A paper's tokens and cost are shared out among the members who wanted it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

import httpx2

from arxiv_digest.config import Settings
from arxiv_digest.models import Digest, DigestEntry, Paper, Summary, SummaryStats
from arxiv_digest.store import Store
from arxiv_digest.summarize.runner import Progress, Summarizer, build_summarizer

__all__ = ["Bill", "SummarizerFactory", "summarize_team"]

Key = tuple[str, int]
SummarizerFactory = Callable[[Settings, Store, httpx2.Client], Summarizer | None]


def _key(paper: Paper) -> Key:
    return (paper.arxiv_id, paper.version)


@dataclass(slots=True)
class Bill:
    """What the run's summaries cost: in total, and each member's share."""

    total: SummaryStats = field(default_factory=SummaryStats)
    shares: dict[str, SummaryStats] = field(default_factory=dict)
    shared: dict[str, int] = field(default_factory=dict)  # new summaries also another's


def _interleaved(lists: Sequence[Sequence[Paper]]) -> list[Paper]:
    """Every list's first paper, then every second one...; each paper once."""
    seen: dict[Key, Paper] = {}
    for row in zip_longest(*lists):
        for paper in row:
            if paper is not None:
                seen.setdefault(_key(paper), paper)
    return list(seen.values())


@dataclass(slots=True)
class _Group:
    summarizer: Summarizer
    names: list[str] = field(default_factory=list)


def _groups(
    views: dict[str, Settings], store: Store, client: httpx2.Client, factory: SummarizerFactory
) -> dict[tuple[str, str, str], _Group]:
    groups: dict[tuple[str, str, str], _Group] = {}
    for name, view in views.items():
        summarizer = factory(view, store, client)
        if summarizer is None:
            continue
        key = (summarizer.config.model, summarizer.prompt_hash, summarizer.config.input)
        if key in groups:
            summarizer.close()
        else:
            groups[key] = _Group(summarizer)
        groups[key].names.append(name)
    return groups


def summarize_team(
    digests: dict[str, Digest],
    views: dict[str, Settings],
    store: Store,
    client: httpx2.Client,
    *,
    max_calls: int | None,
    factory: SummarizerFactory = build_summarizer,
    on_progress: Progress | None = None,
) -> tuple[dict[str, Digest], Bill]:
    """Each member's digest with its summaries (new for the top papers, cached for all),
    and the bill. ``digests`` and ``views`` are by member name."""
    bill = Bill()
    groups = _groups(views, store, client, factory)
    found: dict[str, dict[Key, Summary]] = {name: {} for name in digests}
    try:
        for group in groups.values():
            left = None if max_calls is None else max(0, max_calls - bill.total.made)
            _summarize_group(
                group, digests, found=found, bill=bill, left=left, on_progress=on_progress
            )
    finally:
        for group in groups.values():
            group.summarizer.close()
    with_summaries = {
        name: Digest(
            updated_at=digest.updated_at,
            entries=tuple(
                DigestEntry(e.ranked, found[name].get(_key(e.ranked.paper))) for e in digest.entries
            ),
            window=digest.window,
        )
        for name, digest in digests.items()
    }
    return with_summaries, bill


def _summarize_group(
    group: _Group,
    digests: dict[str, Digest],
    *,
    found: dict[str, dict[Key, Summary]],
    bill: Bill,
    left: int | None,
    on_progress: Progress | None,
) -> None:
    summarizer = group.summarizer
    limit = summarizer.config.max_papers_to_summarize
    top = {name: [e.ranked.paper for e in digests[name].entries[:limit]] for name in group.names}
    wanted = _interleaved(list(top.values()))
    cached = summarizer.cached(wanted)
    waiting: set[Key] = set()  # over max_calls_per_run: summarized by a later run
    if left is not None and summarizer.can_call:
        new = [p for p in wanted if _key(p) not in cached]
        waiting = {_key(p) for p in new[left:]}
        wanted = [p for p in wanted if _key(p) not in waiting]
        bill.total.deferred += len(waiting)
    made, stats = summarizer.summarize(wanted, on_progress) if wanted else ({}, SummaryStats())
    _add(bill.total, stats)
    fresh = {k: s for k, s in made.items() if cached.get(k) is not s}
    pickers: dict[Key, list[str]] = {}
    for name, papers in top.items():
        for paper in papers:
            pickers.setdefault(_key(paper), []).append(name)
    for name in group.names:
        share = bill.shares.setdefault(name, SummaryStats())
        mine = {_key(p) for p in top[name]}
        share.deferred += len(mine & waiting)
        for key in mine:
            summary = fresh.get(key)
            if summary is None:
                share.cached += key in made
                continue
            n = len(pickers[key])
            share.made += 1
            share.tokens_in += round(summary.tokens_in / n)
            share.tokens_out += round(summary.tokens_out / n)
            share.cost += summarizer_cost(summarizer, summary) / n
            bill.shared[name] = bill.shared.get(name, 0) + (n > 1)
        ids = {key[0] for key in mine}
        share.failures += [f for f in stats.failures if _failed_id(f) in ids]
        share.failed = len(share.failures)
        rest = [e.ranked.paper for e in digests[name].entries if _key(e.ranked.paper) not in made]
        found[name].update({k: s for k, s in made.items() if k in mine})
        found[name].update(summarizer.cached(rest))


def _failed_id(failure: str) -> str:
    """The paper of a failure line ("2604.00001v2: why")."""
    return failure.split(": ", 1)[0].rsplit("v", 1)[0]


def summarizer_cost(summarizer: Summarizer, summary: Summary) -> float:
    config = summarizer.config
    return (
        summary.tokens_in / 1000 * config.price_input_per_1k
        + summary.tokens_out / 1000 * config.price_output_per_1k
    )


def _add(total: SummaryStats, stats: SummaryStats) -> None:
    total.made += stats.made
    total.cached += stats.cached
    total.failed += stats.failed
    total.tokens_in += stats.tokens_in
    total.tokens_out += stats.tokens_out
    total.cost += stats.cost
    total.failures += stats.failures
