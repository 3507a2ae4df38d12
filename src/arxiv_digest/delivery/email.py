"""The digest as one e-mail, and that e-mail sent over SMTP.

:func:`build_message` renders an :class:`Outline` as multipart/alternative: a plain-text part
and an HTML part built for mail clients (inline styles only, one column, no script, no
external CSS or images). :func:`send_email` hands it to the configured server, retrying what
a server calls temporary (4xx, a dropped or refused connection) and nothing else.

Every failure is an :class:`EmailError`: one line naming ``host:port`` and the server's
reply, never the password. A server that takes the message for some recipients and refuses
others has delivered it: :func:`send_email` returns those refusals (:class:`Refused`), the
temporary ones (4xx) apart, so that the caller can try those recipients again later.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

import jinja2
import nh3

from arxiv_digest.config.delivery import EmailSettings
from arxiv_digest.delivery.outline import Outline
from arxiv_digest.publish.html import markdown_to_html
from arxiv_digest.retry import RetryPolicy, Sleep, retrying

__all__ = [
    "EmailError",
    "Refused",
    "build_message",
    "envelope_recipients",
    "render_html",
    "render_text",
    "send_email",
]

log = logging.getLogger(__name__)

AUTHORS_SHOWN = 5
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("arxiv_digest", "templates/email"),
    # titles, authors, abstracts and summaries are untrusted: escaped in the HTML part
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
# Mail clients drop <style> blocks, so the summary's tags get their look inline. The summary
# is already sanitised; this second pass keeps the same tags and only adds these styles.
_SUMMARY_STYLES = {
    "p": "margin:0 0 8px 0;",
    "h1": "margin:8px 0 4px 0;font-size:15px;",
    "h2": "margin:8px 0 4px 0;font-size:15px;",
    "h3": "margin:8px 0 4px 0;font-size:14px;",
    "h4": "margin:8px 0 4px 0;font-size:14px;",
    "ul": "margin:0 0 8px 0;padding-left:20px;",
    "ol": "margin:0 0 8px 0;padding-left:20px;",
    "a": "color:#0b57d0;",
    "pre": "margin:0 0 8px 0;padding:8px;background:#f6f8fa;white-space:pre-wrap;"
    "word-break:break-all;font-size:12px;",
    "code": "font-family:Menlo,Consolas,monospace;font-size:12px;",
    "blockquote": "margin:0 0 8px 0;padding-left:10px;border-left:3px solid #d0d7de;color:#57606a;",
    "table": "border-collapse:collapse;margin:0 0 8px 0;font-size:13px;",
    "th": "border:1px solid #d0d7de;padding:3px 6px;",
    "td": "border:1px solid #d0d7de;padding:3px 6px;",
}
_SUMMARY_TAGS = {"br", "hr", "h5", "h6", "strong", "em", "li", "thead", "tbody", "tr", "span"}
_SUMMARY_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "th": {"align"}, "td": {"align"}}


class EmailError(Exception):
    """The digest could not be e-mailed; the message is one line, without the password."""


class _Temporary(EmailError):
    """A failure the server calls temporary: worth another attempt."""


@dataclass(frozen=True, slots=True)
class Refused:
    """Recipients the server refused while it took the message for the others.

    Each maps a bare address to the server's reply, on one line.
    """

    for_now: dict[str, str] = field(default_factory=dict)  # 4xx: worth another try, later
    for_good: dict[str, str] = field(default_factory=dict)  # 5xx: this address will not do

    def __bool__(self) -> bool:
        return bool(self.for_now or self.for_good)


# -- the message -------------------------------------------------------------------------------


def short_authors(authors: tuple[str, ...]) -> str:
    """``A, B, C`` or, past five names, the first five and "et al."."""
    if len(authors) > AUTHORS_SHOWN:
        return ", ".join(authors[:AUTHORS_SHOWN]) + " et al."
    return ", ".join(authors) or "Unknown authors"


def summary_html(markdown: str) -> str:
    """The model's Markdown as sanitised HTML with inline styles for mail clients."""
    return nh3.clean(
        markdown_to_html(markdown),
        tags=set(_SUMMARY_STYLES) | _SUMMARY_TAGS,
        attributes=_SUMMARY_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={tag: {"style": style} for tag, style in _SUMMARY_STYLES.items()},
    )


def _count_line(outline: Outline) -> str:
    if not outline.items:
        return "No new papers matched today."
    papers = "paper" if outline.total == 1 else "papers"
    if outline.omitted > 0:
        return f"The top {outline.count} of {outline.total} {papers}"
    return f"{outline.count} {papers}"


def _render(template: str, outline: Outline) -> str:
    return _TEMPLATES.get_template(template).render(
        outline=outline,
        count_line=_count_line(outline),
        authors=short_authors,
        summary_html=summary_html,
    )


def render_text(outline: Outline) -> str:
    return _render("digest.txt.j2", outline)


def render_html(outline: Outline) -> str:
    return _render("digest.html.j2", outline)


def _message_domain(sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2].strip("[]")
    try:
        return domain.encode("idna").decode("ascii") or "arxiv-digest.invalid"
    except UnicodeError:
        return "arxiv-digest.invalid"


def build_message(settings: EmailSettings, outline: Outline, *, now: dt.datetime) -> EmailMessage:
    """One message for the whole digest, to every recipient."""
    # 7bit: non-ASCII bodies go quoted-printable or base64, for servers without 8BITMIME
    message = EmailMessage(policy=SMTP.clone(cte_type="7bit"))
    message["Subject"] = settings.subject.format(date=outline.date.isoformat(), count=outline.count)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = format_datetime(now)
    # the digest's day in the id, kept short: a longer header would be folded onto two lines
    domain = _message_domain(settings.sender)
    message["Message-ID"] = make_msgid(idstring=f"{outline.date:%Y%m%d}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message.set_content(render_text(outline), charset="utf-8")
    message.add_alternative(render_html(outline), subtype="html", charset="utf-8")
    return message


# -- sending -----------------------------------------------------------------------------------


def _temporary(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPAuthenticationError | ssl.SSLError):
        return False  # wrong credentials, an untrusted certificate, TLS on a plain port
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException):  # e.g. no usable AUTH mechanism
        return False
    return isinstance(error, OSError)  # refused, reset, timed out


def _reply_text(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = (
            f"{addr} ({code} {_decode(text)})" for addr, (code, text) in error.recipients.items()
        )
        return "every recipient was refused: " + "; ".join(refused)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_decode(error.smtp_error)}"
    return str(error) or type(error).__name__


def _refused(refusals: dict[str, tuple[int, bytes]], password: str | None) -> Refused:
    replies = {
        address: (code, _one_line(f"{code} {_decode(text)}", password))
        for address, (code, text) in refusals.items()
    }
    return Refused(
        for_now={a: reply for a, (code, reply) in replies.items() if 400 <= code < 500},
        for_good={a: reply for a, (code, reply) in replies.items() if not 400 <= code < 500},
    )


def envelope_recipients(settings: EmailSettings) -> list[str]:
    """The bare addresses of ``settings.to``, as the server is given them."""
    # a display name ("Bé <b@x>") must not ask the server for SMTPUTF8
    return [address for _, address in getaddresses(settings.to)]


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _one_line(text: str, password: str | None) -> str:
    if password:
        text = text.replace(password, "***")
    return " ".join(text.split())


def _deliver_once(
    settings: EmailSettings,
    message: EmailMessage,
    password: str | None,
    context: ssl.SSLContext,
    recipients: list[str],
) -> dict[str, tuple[int, bytes]]:
    """Send once; the recipients refused while others were accepted."""
    where = f"{settings.smtp_host}:{settings.port}"
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise EmailError(
                    f"{where} does not offer STARTTLS, so nothing was sent over the plain "
                    'connection (set security to "ssl", or "none" for a trusted local relay)'
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username is not None:
            smtp.login(settings.username, password or "")
        return smtp.send_message(message, to_addrs=recipients)


def send_email(
    settings: EmailSettings,
    message: EmailMessage,
    *,
    password: str | None,
    policy: RetryPolicy,
    sleep: Sleep | None = None,
    context: ssl.SSLContext | None = None,
    recipients: Sequence[str] | None = None,
) -> Refused:
    """Send ``message`` to ``recipients`` (default: every address in ``settings.to``);
    ``context`` verifies the server (default: the system's trusted certificates).

    Returns the recipients refused while the others were accepted (empty: all had it).
    """
    where = f"{settings.smtp_host}:{settings.port}"
    to = list(recipients) if recipients is not None else envelope_recipients(settings)
    if settings.password_in_clear:  # refused at config load too; never sent regardless
        raise EmailError(
            f'{where}: security is "none", so the SMTP password would cross the network '
            'unencrypted; use "starttls" or "ssl"'
        )
    tls = context if context is not None else ssl.create_default_context()

    def attempt() -> Refused:
        try:
            return _refused(_deliver_once(settings, message, password, tls, to), password)
        except EmailError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            reply = _one_line(_reply_text(exc), password)
            if isinstance(exc, ssl.SSLError) and exc.reason == "WRONG_VERSION_NUMBER":
                reply += ' (the server does not start with TLS here: try security "starttls")'
            if _temporary(exc):
                raise _Temporary(reply) from exc
            raise EmailError(f"{where}: {reply}") from exc

    attempts = retrying(policy, (_Temporary,), sleep=sleep, what=f"e-mail via {where}")
    try:
        refused = attempts(attempt)
    except _Temporary as exc:
        tries = policy.retries + 1
        raise EmailError(f"{where}: failed after {tries} attempt(s): {exc}") from exc
    for address, reply in {**refused.for_now, **refused.for_good}.items():
        log.warning("e-mail via %s: %s was refused (%s); the others have it", where, address, reply)
    return refused
