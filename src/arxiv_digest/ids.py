"""arXiv identifiers: the one pattern every part of arxiv-digest checks an id with.

New-style ids are ``YYMM.NNNN`` (2007 to 2014) or ``YYMM.NNNNN`` (since 2015): ``2411.17712``;
old-style ids are ``archive[.XX]/YYMMNNN``: ``hep-th/9901001``, ``math.GT/0309136``. Either
may carry a version, ``v1`` and up. Only ASCII digits and a month from 01 to 12 make an id:
``２４１１.１７７１２`` (fullwidth digits), ``0000.00000`` or ``2499.99999`` is no paper's, so
the feed parsers, the library, ``rate``, rating links and ``/papers/...`` all refuse it
(:func:`arxiv_digest.sources.text.split_arxiv_id` reads ids with this pattern).

Kept apart from :mod:`arxiv_digest.sources.text` so that the config can use it without
importing the text cleaners.
"""

from __future__ import annotations

import re

__all__ = ["ARXIV_ID", "ARXIV_ID_FORMS", "VERSION", "VERSIONED_ID"]

_MONTH = r"(?:0[1-9]|1[0-2])"
_NEW = rf"[0-9]{{2}}{_MONTH}\.[0-9]{{4,5}}"
_OLD = rf"[a-z-]+(?:\.[A-Z]{{2}})?/[0-9]{{2}}{_MONTH}[0-9]{{3}}"

ARXIV_ID = rf"(?:{_NEW}|{_OLD})"
"""An id without its version, as a regular expression to embed (compile with ``re.ASCII``)."""

_NUMBER = r"[1-9][0-9]*"
VERSION = rf"v{_NUMBER}"
"""A version suffix (arXiv counts from v1)."""

VERSIONED_ID = re.compile(rf"(?P<id>{ARXIV_ID})(?:v(?P<version>{_NUMBER}))?", re.ASCII)
"""An id and its optional version, to ``fullmatch``: groups ``id`` and ``version``."""

ARXIV_ID_FORMS = "YYMM.NNNNN like 2411.17712, or archive/YYMMNNN like hep-th/9901001"
"""How to write an id, for error messages."""
