"""The store: papers, announcements, runs and rankings, in SQLite or PostgreSQL."""

from arxiv_digest.store.repo import Store

__all__ = ["Store"]
