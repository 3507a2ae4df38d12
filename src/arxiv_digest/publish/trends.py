"""The archive's trends: papers matched per keyword per day, as an SVG made at build time.

One row per term (small multiples: a reader compares a term with itself over time, and
90 thin bars of each term stay legible on a phone), the most matched first. The window
ends at the newest digest, not today: same store, same bytes. Days without a digest
(weekends, holidays) have no bar. The chart is an image with a title and a description;
the table beside it says the same in text.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from arxiv_digest.models import PublishedDigest

WINDOW_DAYS = 90
MAX_ROWS = 8  # in the chart; the table lists every term
FOLLOWED = "followed authors"  # the row for papers by an author the config follows

_BAR_W, _GAP, _LABEL_H, _BARS_H, _ROW_GAP = 3, 1, 16, 22, 10


@dataclass(frozen=True, slots=True)
class TermTrend:
    term: str
    counts: tuple[int, ...]  # one per calendar day of the window, oldest first
    total: int
    busiest: dt.date | None
    last_week: int


@dataclass(frozen=True, slots=True)
class Trends:
    first: dt.date
    last: dt.date
    digest_days: int
    terms: tuple[TermTrend, ...]  # most matched first, then by name

    @property
    def charted(self) -> tuple[TermTrend, ...]:
        return self.terms[:MAX_ROWS]


# One digest as the chart counts it: its day, and each of its papers' terms.
DayTerms = tuple[dt.date, tuple[tuple[str, ...], ...]]


def day_terms(day: PublishedDigest) -> DayTerms:
    """The terms each paper of ``day`` counts for: its matched keywords, and
    :data:`FOLLOWED` when it is by a followed author."""
    return day.date, tuple(
        (*e.ranked.matched, *((FOLLOWED,) if e.ranked.followed_authors else ()))
        for e in day.entries
    )


def trends(days: Sequence[PublishedDigest], window: int = WINDOW_DAYS) -> Trends | None:
    """Per term, how many papers of each digest in the last ``window`` days matched it."""
    return term_trends([day_terms(d) for d in days], window)


def term_trends(days: Sequence[DayTerms], window: int = WINDOW_DAYS) -> Trends | None:
    """:func:`trends` of digests given by their terms: only the last ``window`` days count."""
    if not days:
        return None
    last = max(date for date, _ in days)
    first = last - dt.timedelta(days=window - 1)
    recent = [(date, papers) for date, papers in days if date >= first]
    per_day: dict[str, Counter[dt.date]] = {}
    for date, papers in recent:
        for terms in papers:
            for term in dict.fromkeys(terms):
                per_day.setdefault(term, Counter())[date] += 1
    calendar = [first + dt.timedelta(days=i) for i in range(window)]
    rows = [_row(term, counts, calendar, last) for term, counts in per_day.items()]
    rows.sort(key=lambda r: (-r.total, r.term.lower(), r.term))
    return Trends(first, last, len(recent), tuple(rows))


def _row(term: str, counts: Counter[dt.date], calendar: list[dt.date], last: dt.date) -> TermTrend:
    """``calendar``: every day of the window, oldest first."""
    series = tuple(counts.get(day, 0) for day in calendar)
    busiest = max(sorted(counts), key=lambda d: counts[d]) if counts else None
    week = sum(n for d, n in counts.items() if d > last - dt.timedelta(days=7))
    return TermTrend(term, series, sum(series), busiest, week)


def svg(chart: Trends) -> Markup:
    """The chart as inline SVG: no script, no style attribute (classes, for the CSP and
    for dark mode), drawn at its own size and shrunk to fit a phone's width. Each row is a
    label and its total above 90 thin bars: labels beside the bars would leave the bars
    (or the text) too small on a phone."""
    rows = chart.charted
    window = len(rows[0].counts) if rows else WINDOW_DAYS
    step = _BAR_W + _GAP
    width = window * step
    row_h = _LABEL_H + _BARS_H + _ROW_GAP
    height = row_h * len(rows) + _LABEL_H
    peak = max((max(r.counts) for r in rows), default=1) or 1
    span = f"{chart.first.isoformat()} to {chart.last.isoformat()}"
    described = "; ".join(f"{r.term}: {r.total}" for r in rows)
    parts = [
        f'<svg class="trends-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="trends-title trends-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="trends-title">Papers matched per keyword per day, {span}</title>',
        '<desc id="trends-desc">One row per keyword, one bar per day, bar height '
        f"proportional to the number of papers (tallest bar: {peak}). "
        f"Papers in the window: {escape(described)}.</desc>",
    ]
    for n, row in enumerate(rows):
        top = n * row_h
        base = top + _LABEL_H + _BARS_H
        parts.append(
            f'<g class="trend-row"><text class="trend-label" x="0" y="{top + _LABEL_H - 4}">'
            f'{escape(_short(row.term))}</text><text class="trend-total" x="{width}" '
            f'y="{top + _LABEL_H - 4}" text-anchor="end">{row.total}</text>'
            f'<line class="trend-axis" x1="0" y1="{base}" x2="{width}" y2="{base}"/>'
        )
        for i, count in enumerate(row.counts):
            if count:
                day = chart.first + dt.timedelta(days=i)
                h = max(2.0, _BARS_H * count / peak)
                parts.append(
                    f'<rect class="trend-bar" x="{i * step}" y="{base - h:.1f}" '
                    f'width="{_BAR_W}" height="{h:.1f}"><title>'
                    f"{escape(row.term)}: {count} on {day.isoformat()}</title></rect>"
                )
        parts.append("</g>")
    axis_y = row_h * len(rows) + _LABEL_H - 6
    parts.append(
        f'<text class="trend-date" x="0" y="{axis_y}">{chart.first.isoformat()}</text>'
        f'<text class="trend-date" x="{width}" y="{axis_y}" text-anchor="end">'
        f"{chart.last.isoformat()}</text></svg>"
    )
    return Markup("".join(parts))  # every text in it is escaped above


def _short(term: str, limit: int = 40) -> str:
    return term if len(term) <= limit else term[: limit - 1] + "…"
