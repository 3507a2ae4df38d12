"""The team page (``{site_dir}/team.html``, ``/team`` in serve): the public members' newest
picks together, each paper with who picked it and why, and links to every member's page.

Private members are not on it: not their picks, not their name, not their ratings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from arxiv_digest.config import Settings
from arxiv_digest.models import Paper
from arxiv_digest.publish.site import render_page
from arxiv_digest.store import Store
from arxiv_digest.team.members import members

__all__ = ["MemberLink", "Pick", "TeamPaper", "render_team_page", "team_papers"]


@dataclass(frozen=True, slots=True)
class MemberLink:
    name: str
    path: str  # "p/alice/"
    papers: int
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class Pick:
    name: str
    path: str
    rank: int
    score: float
    why: str
    matched: tuple[str, ...]


@dataclass(slots=True)
class TeamPaper:
    paper: Paper
    picks: list[Pick] = field(default_factory=list)
    liked: list[str] = field(default_factory=list)  # members who rated it 👍

    @property
    def best(self) -> float:
        return max(p.score for p in self.picks)


def team_papers(
    settings: Settings, store: Store
) -> tuple[list[MemberLink], list[TeamPaper], dt.date | None]:
    """The public members, and the papers of their newest digests (those of the newest
    digest day), the most picked first, then by best score."""
    links: list[MemberLink] = []
    latest: dict[str, tuple[dt.date, int]] = {}
    for member in members(settings):
        if member.private:
            continue
        published = member.store(store).published_runs()
        newest = published[0] if published else None
        if newest is not None:
            latest[member.name] = (newest[0], newest[1])
        links.append(MemberLink(member.name, member.path, 0, newest[0] if newest else None))
    day = max((date for date, _ in latest.values()), default=None)
    papers: dict[str, TeamPaper] = {}
    counts: dict[str, int] = {}
    for link in links:
        if link.name not in latest or latest[link.name][0] != day:
            continue
        ranking = store.for_profile(link.name).ranking(latest[link.name][1])
        counts[link.name] = len(ranking)
        for rank, ranked in enumerate(ranking, start=1):
            item = papers.setdefault(ranked.paper.arxiv_id, TeamPaper(ranked.paper))
            item.picks.append(
                Pick(link.name, link.path, rank, ranked.score, ranked.why, ranked.matched)
            )
    for link in links:  # once every pick is in: a member may like what another picked
        liked = {r.arxiv_id for r in store.for_profile(link.name).ratings() if r.value > 0}
        for arxiv_id in sorted(liked & set(papers)):
            papers[arxiv_id].liked.append(link.name)
    links = [
        MemberLink(link.name, link.path, counts.get(link.name, 0), link.date) for link in links
    ]
    ordered = sorted(papers.values(), key=lambda p: (-len(p.picks), -p.best, p.paper.arxiv_id))
    return links, ordered, day


def render_team_page(settings: Settings, store: Store) -> bytes:
    links, papers, day = team_papers(settings, store)
    return render_page(
        "team.html.j2",
        settings,
        "",
        page_title=f"Team · {settings.feeds.title}",
        members=links,
        papers=papers,
        date=day,
    )
