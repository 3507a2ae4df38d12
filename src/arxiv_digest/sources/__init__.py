"""Where papers come from: arXiv RSS (daily), the arXiv API (backfill), OAI-PMH (bulk)."""
