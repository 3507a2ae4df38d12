"""E-mail delivery: the digest as a real SMTP server (aiosmtpd) receives it, parsed back with
the ``email`` package, and its HTML part as headless Chromium shows it at phone width."""

from __future__ import annotations

import datetime as dt
import email
import logging
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import ValidationError

from arxiv_digest.config.delivery import EmailSettings
from arxiv_digest.delivery.email import EmailError, Refused, build_message, send_email
from arxiv_digest.delivery.outline import Outline, OutlineItem
from arxiv_digest.retry import RetryPolicy
from tests.conftest import REPO
from tests.servers import Inbox, free_port

ARTIFACTS = REPO / "test-artifacts"
NOW = dt.datetime(2026, 4, 27, 8, 30, tzinfo=dt.UTC)
ONCE = RetryPolicy(retries=0, backoff=0, max_backoff=0)
PATIENT = RetryPolicy(retries=2, backoff=1, max_backoff=1)
PASSWORD = "s3cret-Pa55word"


# -- digests -----------------------------------------------------------------------------------


def paper(rank: int, **overrides: Any) -> OutlineItem:
    arxiv_id = f"2604.{10000 + rank}"
    values: dict[str, Any] = {
        "rank": rank,
        "arxiv_id": arxiv_id,
        "title": f"Paper number {rank} on speculative decoding",
        "abs_url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}v1",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "category": "cs.CL",
        "score": "7.5",
        "matched": ("LLM", "speculative decoding"),
        "why": "title mentions speculative decoding",
        "abstract": f"Abstract of paper {rank}: we make decoding faster.",
        "summary": None,
        "summary_model": None,
        "rate_up": None,
        "rate_down": None,
    }
    values.update(overrides)
    return OutlineItem(**values)


def digest(*items: OutlineItem, total: int | None = None, site_url: str | None = None) -> Outline:
    return Outline(
        date=dt.date(2026, 4, 27),
        title="arXiv digest 2026-04-27",
        items=items,
        total=len(items) if total is None else total,
        site_url=site_url,
        categories=("cs.CL", "cs.LG"),
    )


def hostile_digest() -> Outline:
    """Non-ASCII titles, a script where a title and a summary should be, rating links on one."""
    return digest(
        paper(
            1,
            title="推测解码：更快的大模型推理",
            summary="## Results\n\n- **3x** faster\n- no quality loss\n\n<script>alert(1)</script>",
            summary_model="test-model",
            rate_up="https://digest.example.org/rate?paper=2604.10001&vote=up&sig=abc",
            rate_down="https://digest.example.org/rate?paper=2604.10001&vote=down&sig=abc",
            authors=tuple(f"Author {n}" for n in range(1, 9)),
        ),
        paper(2, title="Décodage spéculatif <script>alert(2)</script> & co."),
        paper(3, title="A third paper", why="", matched=()),
        total=12,
        site_url="https://digest.example.org/",
    )


def email_settings(port: int, **overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "security": "none",
        "from": "arXiv 文摘 <digest@example.org>",
        "to": ["reader@example.org", "Zoë Lab <lab@example.org>"],
        "subject": "arXiv 日报 {date}: {count} 篇论文",
        "timeout": 10,
    }
    values.update(overrides)
    return EmailSettings.model_validate(values)


# -- a real SMTP server --------------------------------------------------------------------------


@dataclass
class BusyAtFirst(Inbox):
    """Says 421 (busy, try later) to the first MAIL FROM, then accepts."""

    refused: int = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refused == 0:
            self.refused += 1
            return "421 4.3.2 Too busy, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"


@dataclass
class RefusesLab(Inbox):
    """Knows no lab@example.org: a permanent 550 for that recipient."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == "lab@example.org":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class LabBusy(Inbox):
    """Says 450 (mailbox busy, try later) for lab@example.org, and 550 for nobody@."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == "lab@example.org":
            return "450 4.2.1 Mailbox busy, try later"
        if address == "nobody@example.org":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def accept_password(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    assert isinstance(auth_data, LoginPassword)
    ok = auth_data.login == b"reader" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


StartServer = Callable[..., int]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Start an aiosmtpd server on 127.0.0.1 with a handler and options; returns its port."""
    running: list[Controller] = []

    def start(handler: Inbox, **options: Any) -> int:
        port = free_port()
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, server_hostname="mx.test", **options
        )
        controller.start()
        running.append(controller)
        return port

    yield start
    for controller in running:
        controller.stop()


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext  # trusts only the test CA


@pytest.fixture(scope="module")
def tls() -> Tls:
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return Tls(server, client)


def deliver(settings: EmailSettings, outline: Outline, **options: Any) -> Refused:
    options.setdefault("password", None)
    options.setdefault("policy", ONCE)
    return send_email(settings, build_message(settings, outline, now=NOW), **options)


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


# -- what arrives ------------------------------------------------------------------------------


def test_the_digest_arrives_as_one_message_with_a_text_and_an_html_part(
    smtp_server: StartServer,
) -> None:
    inbox = Inbox()
    settings = email_settings(smtp_server(inbox))
    outline = hostile_digest()
    deliver(settings, outline)

    assert len(inbox.messages) == 1
    assert inbox.envelopes == [("digest@example.org", ["reader@example.org", "lab@example.org"])]
    message = inbox.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert message["Subject"] == "arXiv 日报 2026-04-27: 3 篇论文"
    assert message["From"] == "arXiv 文摘 <digest@example.org>"
    assert [a.addr_spec for a in message["To"].addresses] == [
        "reader@example.org",
        "lab@example.org",
    ]
    assert message["To"].addresses[1].display_name == "Zoë Lab"
    assert message["Date"].datetime == NOW
    message_id = message["Message-ID"].strip()
    assert message_id.startswith("<") and message_id.endswith(".20260427@example.org>")
    assert message["MIME-Version"] == "1.0"

    text, html = parts(message)
    for item in outline.items:
        assert item.title in text and item.abs_url in text
        assert item.abs_url in html and item.pdf_url in html
    assert "推测解码：更快的大模型推理" in html
    assert "Read it online: https://digest.example.org/" in text
    assert "…and 9 more" in text and "…and 9 more" in html


def test_the_message_is_ascii_on_the_wire_and_the_subject_decodes_back() -> None:
    settings = email_settings(25, subject="Résumé {date} — 推测解码 ({count})")
    raw = build_message(settings, digest(paper(1, title="Kurz: 短")), now=NOW).as_bytes()
    assert raw.isascii()  # RFC 2047 words in the headers, quoted-printable or base64 bodies
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == "Résumé 2026-04-27 — 推测解码 (1)"


def test_summaries_are_rendered_and_scripts_in_titles_or_summaries_stay_text(
    smtp_server: StartServer,
) -> None:
    inbox = Inbox()
    deliver(email_settings(smtp_server(inbox)), hostile_digest())
    text, html = parts(inbox.messages[0])

    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(2)&lt;/script&gt; &amp; co." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>3x</strong>" in html and "<li" in html
    assert "AI summary by test-model" in html and "AI summary by test-model" in text
    assert "**3x** faster" in text  # the text part keeps the Markdown, readable as is
    assert "Abstract of paper 2: we make decoding faster." in html  # no summary: the abstract
    assert "Abstract of paper 2: we make decoding faster." in text


def test_each_paper_shows_authors_category_score_and_why(smtp_server: StartServer) -> None:
    inbox = Inbox()
    deliver(email_settings(smtp_server(inbox)), hostile_digest())
    text, html = parts(inbox.messages[0])

    five = "Author 1, Author 2, Author 3, Author 4, Author 5 et al."
    assert five in text and five in html and "Author 6" not in text + html
    assert "Ada Lovelace, Alan Turing" in text
    assert "cs.CL · score 7.5" in text
    assert "Why: title mentions speculative decoding" in text
    assert "Matched: LLM, speculative decoding" in text and "Matched: LLM, speculative" in html
    third = text.split("3. A third paper", 1)[1]
    assert "Why:" not in third and "Matched:" not in third


def test_thumbs_appear_only_beside_papers_with_rating_links(smtp_server: StartServer) -> None:
    inbox = Inbox()
    outline = hostile_digest()
    deliver(email_settings(smtp_server(inbox)), outline)
    text, html = parts(inbox.messages[0])

    rated = outline.items[0]
    assert rated.rate_up and rated.rate_down
    up, down = rated.rate_up.replace("&", "&amp;"), rated.rate_down.replace("&", "&amp;")
    assert f'<a href="{up}"' in html and f'<a href="{down}"' in html
    assert f"👍 {rated.rate_up}" in text and f"👎 {rated.rate_down}" in text
    assert html.count("👍") == text.count("👍") == 1
    assert html.count("👎") == text.count("👎") == 1


def test_an_empty_digest_says_so_briefly() -> None:
    message = build_message(email_settings(25), digest(), now=NOW)
    text, html = parts(message)
    assert "No new papers matched today." in text and "No new papers matched today." in html
    assert "1." not in text
    assert message["Subject"] == "arXiv 日报 2026-04-27: 0 篇论文"


def test_a_full_day_stays_under_the_size_gmail_clips_at() -> None:
    summary = "**Problem.** " + "A long sentence about the method and its results. " * 12
    items = [
        paper(n, summary=f"{summary}\n\n- point one\n- point two", summary_model="m",
              rate_up=f"https://d.example.org/rate?p={n}&v=up&sig={'f' * 64}",
              rate_down=f"https://d.example.org/rate?p={n}&v=down&sig={'f' * 64}",
              abstract="word " * 300, authors=tuple(f"Author {k}" for k in range(20)))
        for n in range(1, 31)
    ]  # fmt: skip
    _, html = parts(build_message(email_settings(25), digest(*items), now=NOW))
    assert len(html.encode()) < 102 * 1024  # Gmail hides the rest of a larger message


# -- how it is sent ----------------------------------------------------------------------------


def test_starttls_then_login_delivers_with_the_right_password(
    smtp_server: StartServer, tls: Tls
) -> None:
    inbox = Inbox()
    port = smtp_server(
        inbox,
        tls_context=tls.server,
        require_starttls=True,
        authenticator=accept_password,
        auth_required=True,
    )
    settings = email_settings(port, security="starttls", username="reader")
    deliver(settings, hostile_digest(), password=PASSWORD, context=tls.client)
    assert len(inbox.messages) == 1


def test_ssl_from_the_start_delivers(smtp_server: StartServer, tls: Tls) -> None:
    inbox = Inbox()
    # aiosmtpd cannot tell that an implicit-TLS connection is encrypted: AUTH is allowed by hand
    port = smtp_server(
        inbox, ssl_context=tls.server, authenticator=accept_password, auth_require_tls=False
    )
    settings = email_settings(port, security="ssl", username="reader")
    deliver(settings, hostile_digest(), password=PASSWORD, context=tls.client)
    assert len(inbox.messages) == 1


def test_a_certificate_the_client_does_not_trust_is_refused(
    smtp_server: StartServer, tls: Tls
) -> None:
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=tls.server, authenticator=accept_password)
    settings = email_settings(port, security="starttls", username="reader")
    waits: list[float] = []
    with pytest.raises(EmailError) as caught:  # the client trusts the system's CAs only
        deliver(settings, hostile_digest(), password=PASSWORD, policy=PATIENT, sleep=waits.append)
    assert f"127.0.0.1:{port}" in str(caught.value) and "certificate" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert waits == [] and inbox.messages == []


def test_ssl_on_a_starttls_port_fails_at_once_with_a_hint(
    smtp_server: StartServer, tls: Tls
) -> None:
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=tls.server)
    settings = email_settings(port, security="ssl")
    waits: list[float] = []
    with pytest.raises(EmailError, match='try security "starttls"'):
        deliver(settings, hostile_digest(), policy=PATIENT, sleep=waits.append, context=tls.client)
    assert waits == [] and inbox.messages == []


def test_a_server_without_starttls_gets_nothing_not_even_the_password(
    smtp_server: StartServer,
) -> None:
    inbox = Inbox()
    port = smtp_server(inbox, authenticator=accept_password, auth_require_tls=False)
    settings = email_settings(port, security="starttls", username="reader")
    with pytest.raises(EmailError, match="does not offer STARTTLS") as caught:
        deliver(settings, hostile_digest(), password=PASSWORD, policy=PATIENT)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert inbox.messages == []


def test_a_wrong_password_is_one_error_that_does_not_repeat_the_password(
    smtp_server: StartServer, tls: Tls
) -> None:
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=tls.server, authenticator=accept_password)
    settings = email_settings(port, security="starttls", username="reader")
    waits: list[float] = []
    wrong = "wrong-" + PASSWORD
    with pytest.raises(EmailError) as caught:
        deliver(settings, hostile_digest(), password=wrong, policy=PATIENT,
                sleep=waits.append, context=tls.client)  # fmt: skip
    reason = str(caught.value)
    assert f"127.0.0.1:{port}" in reason and "535" in reason
    assert wrong not in reason and PASSWORD not in reason and "\n" not in reason
    assert waits == []  # refused credentials are not tried again
    assert inbox.messages == []


def test_a_busy_server_is_tried_again_and_the_digest_arrives_once(
    smtp_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = BusyAtFirst()
    settings = email_settings(smtp_server(inbox))
    waits: list[float] = []
    with caplog.at_level(logging.WARNING):
        deliver(settings, hostile_digest(), policy=PATIENT, sleep=waits.append)
    assert inbox.refused == 1
    assert len(inbox.messages) == 1
    assert waits == [1]
    assert "421" in caplog.text


def test_a_server_that_is_down_is_tried_policy_times_then_named(
    smtp_server: StartServer,
) -> None:
    port = free_port()  # nothing listens here
    waits: list[float] = []
    with pytest.raises(EmailError) as caught:
        deliver(email_settings(port), hostile_digest(), policy=PATIENT, sleep=waits.append)
    assert str(caught.value).startswith(f"127.0.0.1:{port}: failed after 3 attempt(s)")
    assert len(waits) == 2


def test_a_permanent_refusal_is_not_retried(smtp_server: StartServer) -> None:
    inbox = RefusesLab()
    settings = email_settings(smtp_server(inbox), to=["lab@example.org"])
    waits: list[float] = []
    with pytest.raises(EmailError, match=r"550 5\.1\.1 No such user"):
        deliver(settings, hostile_digest(), policy=PATIENT, sleep=waits.append)
    assert waits == [] and inbox.messages == []


def test_one_refused_recipient_does_not_keep_the_digest_from_the_others(
    smtp_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = RefusesLab()
    settings = email_settings(smtp_server(inbox))
    with caplog.at_level(logging.WARNING):
        refused = deliver(settings, hostile_digest())
    assert inbox.envelopes == [("digest@example.org", ["reader@example.org"])]
    assert "lab@example.org" in caplog.text
    assert refused == Refused(for_good={"lab@example.org": "550 5.1.1 No such user"})


def test_recipients_refused_for_now_are_told_apart_and_can_be_sent_to_alone(
    smtp_server: StartServer,
) -> None:
    inbox = LabBusy()
    to = ["reader@example.org", "Zoë Lab <lab@example.org>", "nobody@example.org"]
    settings = email_settings(smtp_server(inbox), to=to)
    refused = deliver(settings, hostile_digest(), policy=PATIENT, sleep=lambda s: None)
    assert inbox.envelopes == [("digest@example.org", ["reader@example.org"])]
    assert refused == Refused(
        for_now={"lab@example.org": "450 4.2.1 Mailbox busy, try later"},
        for_good={"nobody@example.org": "550 5.1.1 No such user"},
    )
    assert deliver(settings, hostile_digest(), recipients=["reader@example.org"]) == Refused()
    assert inbox.envelopes[1] == ("digest@example.org", ["reader@example.org"])
    assert inbox.messages[1]["To"] == inbox.messages[0]["To"]  # the same e-mail, to one


def test_a_password_is_never_sent_over_a_plain_connection_to_another_host() -> None:
    """Refused by the config already (exit 2 at load), and by the sender regardless."""
    with pytest.raises(ValidationError, match="unencrypted"):
        email_settings(2525, smtp_host="smtp.example.org", username="reader")
    allowed = email_settings(2525, username="reader")
    sneaked = allowed.model_copy(update={"smtp_host": "smtp.example.org"})
    with pytest.raises(EmailError, match='security is "none"') as caught:
        deliver(sneaked, hostile_digest(), password=PASSWORD)
    assert PASSWORD not in str(caught.value)


# -- the HTML part in a real browser -----------------------------------------------------------


def test_the_html_part_reads_well_on_a_phone_and_a_desktop(browser: Any) -> None:
    long_word = "Supercalifragilistic" * 6
    outline = hostile_digest()
    outline = replace(
        outline,
        items=(
            *outline.items,
            paper(4, title=f"An unbreakable {long_word} title",
                  summary=f"```\n{'x = f(y) ' * 30}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                  summary_model="test-model"),
        ),
    )  # fmt: skip
    _, html = parts(build_message(email_settings(25), outline, now=NOW))
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on("request", lambda request: problems.append(f"request: {request.url}"))
    page.set_content(html)

    assert page.locator("script, img, link, style").count() == 0
    titles = page.locator("h2 a").all_inner_texts()
    assert titles[1] == "Décodage spéculatif <script>alert(2)</script> & co."
    assert page.locator("h2 a").first.get_attribute("href") == "https://arxiv.org/abs/2604.10001"
    assert page.locator("strong", has_text="3x").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    body = page.locator("body")
    assert body.evaluate("b => getComputedStyle(b).color") == "rgb(31, 35, 40)"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "email-mobile.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "email-desktop.png"), full_page=True)
    page.close()
    assert problems == []  # no console message, script, dialog or request for anything
