"""arxiv-digest: a daily, ranked, AI-summarized digest of new arXiv papers."""

from arxiv_digest.models import Digest, Paper, RankedPaper, RunReport

__version__ = "0.1.0"
__all__ = ["Digest", "Paper", "RankedPaper", "RunReport", "__version__"]
