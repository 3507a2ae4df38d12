"""Benchmark corpora built from the real arXiv records in tests/fixtures (the same files
the tests use: the bench numbers stay comparable with earlier runs)."""

from __future__ import annotations

import os
import platform
import re
from importlib import resources
from pathlib import Path

from lxml import etree

FIXTURE_RSS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "arxiv" / "rss"


def source_feeds() -> list[bytes]:
    feeds = sorted(FIXTURE_RSS.glob("*.xml")) if FIXTURE_RSS.is_dir() else []
    if feeds:
        return [f.read_bytes() for f in feeds]
    sample = resources.files("arxiv_digest").joinpath("data/sample-rss-stat-2024-03-26.xml")
    return [sample.read_bytes()]


def build_rss(n: int, categories: list[str] | None = None) -> bytes:
    """One RSS channel of ``n`` real items, each copy renumbered to a distinct arXiv id
    (``9001.00000`` on: a real month, so the feed parser takes it; no real paper's yet).

    With ``categories``, every item is re-filed as a ``new`` announcement whose primary
    category cycles through them (a one-day feed of exactly those categories).
    """
    items: list[etree._Element] = []
    channel: etree._Element | None = None
    for body in source_feeds():
        root = etree.fromstring(body)
        found = root.find("channel")
        if found is not None and channel is None:
            channel = found
        items.extend(root.iterfind("channel/item"))
    assert channel is not None and items
    for old in channel.findall("item"):
        channel.remove(old)
    head, tail = etree.tostring(channel.getroottree().getroot(), encoding="unicode").rsplit(
        "</channel>", 1
    )
    texts = [etree.tostring(i, encoding="unicode") for i in items]
    parts = [head]
    for k in range(n):
        text = re.sub(
            r"(\d{4})\.(\d{5})", f"90{1 + k // 100000:02d}.{k % 100000:05d}", texts[k % len(texts)]
        )
        if categories:
            primary = categories[k % len(categories)]
            text = re.sub(r"<category>[^<]*</category>", "", text)
            text = text.replace("</title>", f"</title><category>{primary}</category>", 1)
            text = re.sub(r"Announce Type: [\w-]+", "Announce Type: new", text)
            text = re.sub(r"(<arxiv:announce_type>)[\w-]+", r"\1new", text)
        parts.append(text)
    parts.append("</channel>" + tail)
    return "".join(parts).encode("utf-8")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
