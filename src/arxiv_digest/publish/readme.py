"""The README digest, in the original bot's layout (see ``shared/reference``).

A user template is honoured: the original's ``README.template.md`` with its
``{{PAPERS_SECTION}}``-style placeholders works as is, because those placeholders are
also Jinja2 variables; any other Jinja2 file gets the same variables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import jinja2

from arxiv_digest.config import Settings
from arxiv_digest.errors import PublishError
from arxiv_digest.models import Digest, DigestEntry
from arxiv_digest.publish.files import write_atomic
from arxiv_digest.ratings import rating_links
from arxiv_digest.sources.text import tex_as_text

ABSTRACT_CHARS = 300
_MARKDOWN_ESCAPES = str.maketrans({"[": "\\[", "]": "\\]", "<": "&lt;", ">": "&gt;"})
_HTML_ESCAPES = str.maketrans({"<": "&lt;", ">": "&gt;"})


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    # Markdown, not HTML: no autoescape; untrusted text is escaped field by field below.
    return jinja2.Environment(
        loader=loader,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=False,
    )


_BUILTIN = _environment(jinja2.PackageLoader("arxiv_digest", "templates"))


def neutralize_html(markdown: str) -> str:
    """Model output is untrusted: no raw HTML tag may survive (``<`` becomes ``&lt;``)."""
    return markdown.replace("<", "&lt;")


def format_score(score: float) -> str:
    """Every score one way, to one decimal ("12.0", "8.5"): the order is the digest's, the
    hundredths of a similarity say nothing to a reader."""
    return f"{score:.1f}"


def cut_abstract(abstract: str) -> str:
    return abstract[:ABSTRACT_CHARS] + ("..." if len(abstract) > ABSTRACT_CHARS else "")


def _paper_block(number: int, entry: DigestEntry, settings: Settings) -> str:
    ranked = entry.ranked
    paper = ranked.paper
    summary = entry.summary
    return _BUILTIN.get_template("paper.md.j2").render(
        number=number,
        title=paper.title.translate(_MARKDOWN_ESCAPES),
        abs_url=f"{settings.arxiv.abs_url}/{paper.arxiv_id}",
        authors=", ".join(paper.authors).translate(_HTML_ESCAPES) or "Unknown",
        category=ranked.category,
        published=paper.announced.isoformat(),
        score=format_score(ranked.score),
        type=paper.announce_type,
        versioned_id=paper.versioned_id,
        matched=", ".join(ranked.matched),
        why=tex_as_text(ranked.why).translate(_MARKDOWN_ESCAPES),
        rate=rating_links(settings.site_url, paper.arxiv_id),
        followed=", ".join(ranked.followed_authors),
        abstract=cut_abstract(paper.abstract).translate(_HTML_ESCAPES),
        summary=neutralize_html(summary.text) if summary else None,
        summary_note=summary.note if summary else "",
        summary_model=summary.model if summary else None,
    )


def _papers_section(digest: Digest, settings: Settings) -> str:
    if not digest.entries:
        days = "day" if settings.days_back == 1 else f"{settings.days_back} announcement days"
        return f"No papers matching the criteria were found in the last {days}.\n"
    blocks = [_paper_block(n, e, settings) for n, e in enumerate(digest.entries, start=1)]
    return "\n".join(blocks)


def _config_details(settings: Settings) -> str:
    match = "whole words and phrases" if settings.match == "word" else "substrings"
    scope = settings.exclude_scope or ("all" if settings.match == "substring" else "title")
    lines = [f"- **Matching**: {match} (`match: {settings.match}`)"]
    if settings.exclude_keywords:
        where = "in the title" if scope == "title" else "in the title or abstract"
        lines.append(f"- **Excluded** ({where}): {', '.join(settings.exclude_keywords)}")
    if settings.authors:
        lines.append(f"- **Followed authors** (always listed): {', '.join(settings.authors)}")
    if settings.relevance is not None and settings.relevance.library:
        count = len(settings.relevance.library)
        sources = "1 source" if count == 1 else f"{count} sources"
        lines.append(
            f"- **Library** ({sources} in `relevance.library`): papers like the ones you "
            "read rank first; each says why"
        )
    when = (
        "on the latest announcement day"
        if settings.days_back == 1
        else f"in the {settings.days_back} days up to the latest announcement"
    )
    lines.append(
        f"- **Selection**: up to {settings.max_papers} papers scoring at least "
        f"{format_score(settings.min_score)}, announced as {', '.join(settings.announce_types)} "
        f"{when}"
    )
    return "\n".join(lines)


def readme_context(digest: Digest, settings: Settings) -> dict[str, Any]:
    updated = digest.updated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return {
        "LAST_UPDATED": updated,
        "PAPER_COUNT": len(digest.entries),
        "CATEGORIES": ", ".join(settings.categories),
        "KEYWORDS": ", ".join(settings.keyword_terms),
        "PAPERS_SECTION": _papers_section(digest, settings).rstrip("\n"),
        "CONFIG_DETAILS": _config_details(settings),
        "digest": digest,
        "settings": settings,
        "schedule": settings.schedule,
        "site_url": settings.site_url,
        "repo_url": settings.repo_url,
    }


def _template(settings: Settings) -> jinja2.Template:
    path = settings.output.readme_template
    if path is None:
        return _BUILTIN.get_template("readme.md.j2")
    try:
        source = Path(path).read_text(encoding="utf-8")
        return _environment(jinja2.BaseLoader()).from_string(source)
    except OSError as exc:
        raise PublishError(f"cannot read README template {path}: {exc}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise PublishError(f"README template {path}, line {exc.lineno}: {exc.message}") from None


def render_readme(digest: Digest, settings: Settings) -> str:
    try:
        return _template(settings).render(readme_context(digest, settings))
    except jinja2.UndefinedError as exc:
        where = settings.output.readme_template or "built-in template"
        raise PublishError(f"README template {where}: {exc.message}") from None


def content_fingerprint(digest: Digest, settings: Settings) -> str:
    """A hash of the README as it would be, whatever the time of the run."""
    frozen = Digest(
        updated_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        entries=digest.entries,
        window=digest.window,
    )
    return hashlib.sha256(render_readme(frozen, settings).encode("utf-8")).hexdigest()


def write_readme(digest: Digest, settings: Settings) -> bool:
    """Render, then replace the README in one step; False when nothing changed."""
    return write_atomic(Path(settings.output.readme), render_readme(digest, settings))
