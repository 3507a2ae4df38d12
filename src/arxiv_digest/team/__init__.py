"""Team mode: one deployment, one ingestion and one bill, a digest for each member.

``members`` (profiles as views of the shared config and store), ``run`` (the daily run),
``summaries`` (the union of the members' picks summarized once), ``sites`` (the members'
sites, written by the run and worker processes beside it), ``page`` (the team page),
``access`` (private members' tokens).
"""

from arxiv_digest.team.members import Member, is_team, member, members

__all__ = ["Member", "is_team", "member", "members"]
