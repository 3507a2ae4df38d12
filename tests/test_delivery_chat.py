"""Chat delivery: each platform receives its own, well-formed, in-limit messages.

A local HTTP server plays every platform: it checks each body it receives against that
platform's documented schema (tests/schemas/chat) and limits, verifies Feishu's and
DingTalk's signatures as they do, and answers as they answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from arxiv_digest.config import HttpSettings
from arxiv_digest.config.delivery import (
    ChatChannel,
    DingTalkChannel,
    DiscordChannel,
    FeishuChannel,
    GenericChannel,
    SlackChannel,
    TelegramChannel,
    WeComChannel,
)
from arxiv_digest.delivery.chat import ChatError, MissingSecret, chat_messages, send_chat
from arxiv_digest.delivery.outline import Outline, OutlineItem
from arxiv_digest.sources.http import make_client

SCHEMAS = Path(__file__).parent / "schemas" / "chat"
SITE = "https://me.example.org/digest"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SECRET = "SEC-signing-secret-0123456789"
TOKEN = "123456789:telegram-bot-token-SECRET"
SPLIT_TYPES = ("slack", "discord", "feishu", "dingtalk", "wecom", "telegram")
ALL_TYPES = (*SPLIT_TYPES, "generic")
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "s", "a", "code", "pre", "blockquote"}
ID = re.compile(r"arxiv\.org/abs/(2604\.\d{5})")


# --- digests ---------------------------------------------------------------------------------


def item(rank: int, **overrides: Any) -> OutlineItem:
    arxiv_id = f"2604.{rank:05d}"
    values: dict[str, Any] = {
        "rank": rank,
        "arxiv_id": arxiv_id,
        "title": f"Paper {rank} on speculative decoding for large language models",
        "abs_url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}v1",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "category": "cs.CL",
        "score": "7.5",
        "matched": ("LLM", "reasoning"),
        "why": "",
        "abstract": "An abstract.",
        "summary": "## 1. Contributions\n\n- **Faster** decoding. More detail follows.",
        "summary_model": "test-model",
        "rate_up": f"{SITE}/rate/{arxiv_id}/up?sig=abc",
        "rate_down": f"{SITE}/rate/{arxiv_id}/down?sig=def",
    }
    values.update(overrides)
    return OutlineItem(**values)


def chinese(rank: int) -> OutlineItem:
    """A paper with a long Chinese summary whose first sentence runs on, and a long reason."""
    sentence = "本文提出了一种面向大规模语言模型推理加速的投机解码新方法，并在多个基准上验证" * 12
    return item(
        rank,
        why="命中关键词：大语言模型、推理、投机解码；与您的文库高度相关" * 4,
        summary=f"## 1. 贡献与创新\n\n- {sentence}。\n- 其次。\n\n## 2. 实验\n\n- 细节。",
    )


def outline(
    items: list[OutlineItem], *, total: int | None = None, site: str | None = SITE
) -> Outline:
    return Outline(
        date=dt.date(2026, 4, 27),
        title="arXiv digest 2026-04-27",
        items=tuple(items),
        total=len(items) if total is None else total,
        site_url=site,
        categories=("cs.AI", "cs.CL"),
    )


LONG = outline([chinese(n) for n in range(1, 41)])


# --- the platforms, played by a local server --------------------------------------------------


@dataclass
class Received:
    args: dict[str, str]
    body: dict[str, Any]
    size: int  # bytes of the request body


@dataclass
class Platform:
    kind: str
    channel: ChatChannel
    environ: dict[str, str]
    received: list[Received] = field(default_factory=list)


def channel_for(kind: str, signed: bool = False) -> ChatChannel:
    secret = {"secret_env": "CHAT_SECRET"} if signed else {}
    channels: dict[str, ChatChannel] = {
        "slack": SlackChannel(type="slack"),
        "discord": DiscordChannel(type="discord"),
        "feishu": FeishuChannel(type="feishu", **secret),
        "dingtalk": DingTalkChannel(type="dingtalk", **secret),
        "wecom": WeComChannel(type="wecom"),
        "telegram": TelegramChannel(type="telegram", chat_id="-100123"),
        "generic": GenericChannel(type="generic"),
    }
    return channels[kind]


SUCCESS: dict[str, tuple[int, str]] = {
    "slack": (200, "ok"),
    "discord": (204, ""),
    "feishu": (200, '{"code":0,"msg":"success","data":{}}'),
    "dingtalk": (200, '{"errcode":0,"errmsg":"ok"}'),
    "wecom": (200, '{"errcode":0,"errmsg":"ok"}'),
    "telegram": (200, '{"ok":true,"result":{"message_id":1}}'),
    "generic": (200, ""),
}


def path_for(kind: str) -> str:
    return f"/bot{TOKEN}/sendMessage" if kind == "telegram" else f"/hook/{kind}"


def platform(
    httpserver: HTTPServer, kind: str, *, signed: bool = False, channel: ChatChannel | None = None
) -> Platform:
    """``kind``'s endpoint on the local server, checking what it receives as the platform would."""
    channel = channel or channel_for(kind, signed)
    if isinstance(channel, TelegramChannel):
        channel = channel.model_copy(update={"api_url": httpserver.url_for("/").rstrip("/")})
    environ = {"CHAT_SECRET": SECRET} if signed else {}
    variable = channel.token_env if isinstance(channel, TelegramChannel) else channel.url_env
    environ[variable] = TOKEN if kind == "telegram" else httpserver.url_for(path_for(kind))
    if kind == "dingtalk":
        environ[variable] += "?access_token=robot-access-token"
    served = Platform(kind, channel, environ)

    def answer(request: Request) -> Response:
        body = json.loads(request.get_data())
        served.received.append(Received(dict(request.args), body, len(request.get_data())))
        assert_well_formed(kind, body, len(request.get_data()))
        if signed:
            assert_signed(kind, request, body)
        status, text = SUCCESS[kind]
        return Response(text, status=status, content_type="application/json")

    httpserver.expect_request(path_for(kind), method="POST").respond_with_handler(answer)
    return served


def send(served: Platform, digest: Outline, **kwargs: Any) -> int:
    settings = HttpSettings(retries=2, backoff=0, max_backoff=0)
    with make_client(settings) as client:
        return send_chat(
            served.channel,
            digest,
            environ=served.environ,
            client=client,
            http=settings,
            sleep=lambda seconds: None,
            now=lambda: NOW,
            **kwargs,
        )


# --- what each platform accepts ---------------------------------------------------------------


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TelegramHTML(HTMLParser):
    """Telegram's view of an HTML-mode text: its visible characters, and sound tags only."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in TELEGRAM_TAGS, tag
        if tag == "a":
            assert [name for name, _ in attrs] == ["href"]
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def telegram_visible(text: str) -> str:
    parser = TelegramHTML()
    parser.feed(text)
    parser.close()
    assert parser.open == []
    return "".join(parser.visible)


def assert_well_formed(kind: str, body: dict[str, Any], size: int | None = None) -> None:
    """Valid by the platform's documented schema, and within its limits."""
    schema = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
    jsonschema.validate(body, schema)
    size = size or len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    if kind == "slack":
        for block in body["blocks"]:
            if block["type"] == "section":
                text = block["text"]["text"]
                assert text.count("<") == text.count(">")  # every link closed
    elif kind == "discord":
        assert utf16(body["content"]) <= 2000
        embed_text = sum(
            utf16(e.get("title", "")) + utf16(e["description"]) for e in body["embeds"]
        )
        assert embed_text <= 6000
        assert all(utf16(e.get("title", "")) <= 256 for e in body["embeds"])
        assert body["allowed_mentions"] == {"parse": []}
    elif kind in ("feishu", "dingtalk"):
        assert size <= 20_000
    elif kind == "wecom":
        assert len(body["markdown"]["content"].encode("utf-8")) <= 4096
    elif kind == "telegram":
        assert body["parse_mode"] == "HTML"
        assert 1 <= utf16(telegram_visible(body["text"])) <= 4096


def assert_signed(kind: str, request: Request, body: dict[str, Any]) -> None:
    """The signature recomputed from the shared secret, as Feishu and DingTalk check it."""
    if kind == "feishu":
        assert body["timestamp"] == str(int(NOW))
        key = f"{body['timestamp']}\n{SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        assert body["sign"] == expected
    else:
        assert request.args["access_token"] == "robot-access-token"
        stamp = request.args["timestamp"]
        assert stamp == str(int(NOW * 1000))
        message = f"{stamp}\n{SECRET}".encode()
        digest = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
        assert request.args["sign"] == base64.b64encode(digest).decode()  # after URL-decoding


def paper_ids(body: dict[str, Any]) -> list[str]:
    found = ID.findall(json.dumps(body, ensure_ascii=False))
    return list(dict.fromkeys(found))  # Discord also has the URL as the embed's link


# --- the digest as each platform receives it --------------------------------------------------


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_each_platform_receives_its_documented_format(httpserver: HTTPServer, kind: str) -> None:
    served = platform(httpserver, kind)
    digest = outline([item(1, why="Matches your interest in speculative decoding"), item(2)])

    count = send(served, digest)

    assert count == len(served.received) == 1
    text = json.dumps(served.received[0].body, ensure_ascii=False)
    assert "arXiv digest 2026-04-27" in text
    assert "Paper 1 on speculative decoding" in text
    assert "https://arxiv.org/abs/2604.00001" in text
    assert SITE in text
    if kind != "generic":
        assert "2 papers" in text
        assert "cs.CL · score 7.5" in text
        assert "Matches your interest in speculative decoding" in text
        assert "matched: LLM, reasoning" in text  # paper 2 has no reason: its terms instead
        assert "Faster decoding." in text and "More detail" not in text  # the first sentence
        assert "👍" in text and f"{SITE}/rate/2604.00001/up?sig=abc" in text


@pytest.mark.parametrize("kind", SPLIT_TYPES)
def test_a_long_chinese_digest_is_split_in_order_and_no_paper_is_cut(
    httpserver: HTTPServer, kind: str
) -> None:
    served = platform(httpserver, kind)

    count = send(served, LONG)

    bodies = [r.body for r in served.received]
    assert count == len(bodies) > 1
    ids = [paper_id for body in bodies for paper_id in paper_ids(body)]
    assert ids == [i.arxiv_id for i in LONG.items]  # each once, in rank order
    for body in bodies:
        text = json.dumps(body, ensure_ascii=False)
        for paper_id in paper_ids(body):
            rank = int(paper_id.split(".")[1])
            assert f"Paper {rank} on speculative decoding for large language models" in text
            assert "本文提出了一种面向大规模语言模型" in text
        assert "其次" not in text  # only the summary's first sentence
    texts = [json.dumps(b, ensure_ascii=False).replace("\\", "") for b in bodies]
    labels = [re.search(r"\((\d+)/(\d+)\)", text) for text in texts]
    assert [(m.group(1), m.group(2)) if m else None for m in labels] == [
        (str(n), str(count)) for n in range(1, count + 1)
    ]


def test_the_generic_webhook_gets_the_whole_digest_in_one_request(httpserver: HTTPServer) -> None:
    served = platform(httpserver, "generic")

    assert send(served, replace(LONG, total=45)) == 1

    body = served.received[0].body
    assert [i["rank"] for i in body["items"]] == list(range(1, 41))
    assert body["items"][0]["summary"] == LONG.items[0].summary  # as written, not shortened
    assert (body["total"], body["count"], body["omitted"]) == (45, 40, 5)
    assert body["date"] == "2026-04-27" and body["site_url"] == SITE


@pytest.mark.parametrize("kind", SPLIT_TYPES)
def test_a_paper_too_long_for_any_message_is_shortened_but_whole(kind: str) -> None:
    huge = "一个非常长的标题" * 400
    digest = outline([item(1, title=huge, why=huge, summary=huge)])

    messages = chat_messages(channel_for(kind), digest)

    assert len(messages) == 1
    assert_well_formed(kind, messages[0])
    text = json.dumps(messages[0], ensure_ascii=False)
    assert "一个非常长的标题" in text and "…" in text
    assert "https://arxiv.org/abs/2604.00001" in text


def test_telegram_counts_utf16_code_units() -> None:
    """Mathematical letters outside the BMP are two UTF-16 units each: a text of 4,096
    characters can be twice too long."""
    wide = "𝐀𝐁𝐂𝐃𝐄𝐅𝐆𝐇𝐈𝐉" * 25
    digest = outline([item(n, title=wide, summary=f"{wide}.") for n in range(1, 21)])

    messages = chat_messages(channel_for("telegram"), digest)

    assert len(messages) > 1
    for message in messages:
        assert_well_formed("telegram", message)


@pytest.mark.parametrize("kind", SPLIT_TYPES)
def test_an_empty_digest_is_one_short_message(kind: str) -> None:
    messages = chat_messages(channel_for(kind), outline([]))

    assert len(messages) == 1
    assert_well_formed(kind, messages[0])
    assert "No new papers today" in json.dumps(messages[0], ensure_ascii=False)


@pytest.mark.parametrize("kind", SPLIT_TYPES)
def test_papers_left_out_are_counted_with_a_link_to_the_full_digest(kind: str) -> None:
    messages = chat_messages(channel_for(kind), outline([item(1), item(2)], total=12))

    last = json.dumps(messages[-1], ensure_ascii=False)
    assert "and 10 more" in last
    assert last.rindex(SITE) > last.index("and 10 more")


# --- signing, retries, resuming ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["feishu", "dingtalk"])
def test_signed_webhooks_carry_a_signature_the_platform_verifies(
    httpserver: HTTPServer, kind: str
) -> None:
    served = platform(httpserver, kind, signed=True)

    assert send(served, LONG) == len(served.received) > 1  # every message signed


def test_a_429_is_waited_out_as_asked_and_the_message_arrives_once(
    httpserver: HTTPServer,
) -> None:
    received: list[bytes] = []

    def ok(request: Request) -> Response:
        received.append(request.get_data())
        return Response("ok")

    httpserver.expect_ordered_request("/hook/slack", method="POST").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/hook/slack", method="POST").respond_with_handler(ok)
    waits: list[float] = []
    sent: list[int] = []
    settings = HttpSettings(retries=3, backoff=1, max_backoff=60)
    with make_client(settings) as client:
        count = send_chat(
            channel_for("slack"),
            outline([item(1)]),
            environ={"SLACK_WEBHOOK_URL": httpserver.url_for("/hook/slack")},
            client=client,
            http=settings,
            on_sent=sent.append,
            sleep=waits.append,
        )

    assert (count, sent, waits) == (1, [0], [7.0])
    assert len(received) == 1


def test_telegrams_429_says_its_wait_in_the_body_and_that_wait_is_kept(
    httpserver: HTTPServer,
) -> None:
    """Telegram's Bot API puts the wait in ``parameters.retry_after``, not a header."""
    token = "123:TOKEN"
    path = f"/bot{token}/sendMessage"
    too_many = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 11",
        "parameters": {"retry_after": 11},
    }
    httpserver.expect_ordered_request(path, method="POST").respond_with_json(too_many, status=429)
    httpserver.expect_ordered_request(path, method="POST").respond_with_json(
        {"ok": True, "result": {}}
    )
    waits: list[float] = []
    settings = HttpSettings(retries=3, backoff=1, max_backoff=60)
    channel = TelegramChannel(type="telegram", chat_id="-100", api_url=httpserver.url_for("/"))
    with make_client(settings) as client:
        count = send_chat(
            channel,
            outline([item(1)]),
            environ={"TELEGRAM_BOT_TOKEN": token},
            client=client,
            http=settings,
            sleep=waits.append,
        )
    assert (count, waits) == (1, [11.0])


THROTTLED_ANSWERS = {
    "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
    "dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    "feishu": {"code": 11232, "msg": "frequency limited"},
}


@pytest.mark.parametrize("kind", sorted(THROTTLED_ANSWERS))
def test_a_platform_that_answers_too_fast_gets_the_message_a_minute_later_once(
    httpserver: HTTPServer, kind: str
) -> None:
    """WeCom, DingTalk and Feishu say "too many messages" in an HTTP 200 answer: the
    message is sent again after a minute (their limits are per minute), and arrives once."""
    channel = channel_for(kind)
    assert not isinstance(channel, TelegramChannel)
    path = path_for(kind)
    httpserver.expect_ordered_request(path, method="POST").respond_with_json(
        THROTTLED_ANSWERS[kind]
    )
    arrived: list[bytes] = []

    def ok(request: Request) -> Response:
        arrived.append(request.get_data())
        return Response(SUCCESS[kind][1], content_type="application/json")

    httpserver.expect_ordered_request(path, method="POST").respond_with_handler(ok)
    waits: list[float] = []
    settings = HttpSettings(retries=3, backoff=1, max_backoff=120)
    with make_client(settings) as client:
        count = send_chat(
            channel,
            outline([item(1)]),
            environ={channel.url_env: httpserver.url_for(path)},
            client=client,
            http=settings,
            sleep=waits.append,
        )
    assert (count, waits, len(arrived)) == (1, [60.0], 1)


def test_a_platform_that_keeps_answering_too_fast_is_that_channels_failure_with_its_reason(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook/wecom", method="POST").respond_with_json(
        THROTTLED_ANSWERS["wecom"]
    )
    settings = HttpSettings(retries=2, backoff=1, max_backoff=120)
    waits: list[float] = []
    with make_client(settings) as client, pytest.raises(ChatError) as refused:
        send_chat(
            channel_for("wecom"),
            outline([item(1)]),
            environ={"WECOM_WEBHOOK_URL": httpserver.url_for("/hook/wecom")},
            client=client,
            http=settings,
            sleep=waits.append,
        )
    assert "refused 3 time(s): code 45009: api freq out of limit" in str(refused.value)
    assert waits == [60.0, 60.0]
    assert "/hook/wecom" not in str(refused.value)


def test_start_resends_only_from_that_message(httpserver: HTTPServer) -> None:
    served = platform(httpserver, "telegram")
    messages = chat_messages(served.channel, LONG)
    sent: list[int] = []

    count = send(served, LONG, start=2, on_sent=sent.append)

    assert count == len(messages) > 3
    assert [r.body["text"] for r in served.received] == [m["text"] for m in messages[2:]]
    assert sent == list(range(2, count))


def test_a_failure_midway_reports_which_message_and_keeps_what_was_sent(
    httpserver: HTTPServer,
) -> None:
    calls: list[int] = []

    def third_fails(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 3:
            return Response('{"errcode":40008,"errmsg":"invalid message type"}')
        return Response('{"errcode":0,"errmsg":"ok"}')

    httpserver.expect_request("/hook/wecom").respond_with_handler(third_fails)
    served = Platform(
        "wecom", channel_for("wecom"), {"WECOM_WEBHOOK_URL": httpserver.url_for("/hook/wecom")}
    )
    sent: list[int] = []

    with pytest.raises(
        ChatError, match=r"message 3 of \d+ was refused: code 40008: invalid message type"
    ):
        send(served, LONG, on_sent=sent.append)
    assert sent == [0, 1]


# --- refusals and secrets ---------------------------------------------------------------------

REFUSALS = {
    "slack": (400, "invalid_blocks", "invalid_blocks"),
    "discord": (400, '{"message": "Invalid Form Body", "code": 50035}', "Invalid Form Body"),
    "feishu": (200, '{"code": 19021, "msg": "sign match fail"}', "code 19021: sign match fail"),
    "dingtalk": (200, '{"errcode": 310000, "errmsg": "sign not match"}', "code 310000"),
    "wecom": (200, '{"errcode": 93000, "errmsg": "invalid webhook url"}', "code 93000"),
    "telegram": (
        400,
        '{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}',
        "code 400: Bad Request: chat not found",
    ),
    "generic": (404, "no such hook", "no such hook"),
}


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_a_platform_refusal_is_a_chat_error_saying_why(httpserver: HTTPServer, kind: str) -> None:
    status, answer, reason = REFUSALS[kind]
    httpserver.expect_request(path_for(kind)).respond_with_data(answer, status=status)
    served = platform_without_server(httpserver, kind)
    sent: list[int] = []

    with pytest.raises(ChatError) as caught:
        send(served, outline([item(1)]), on_sent=sent.append)

    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"{kind}: message 1 of 1")
    assert sent == []


LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>...</body></html>"


@pytest.mark.parametrize(
    ("kind", "content_type", "answer"),
    [
        ("discord", "text/html; charset=utf-8", LOGIN_PAGE),
        ("generic", "text/html; charset=utf-8", LOGIN_PAGE),
        ("generic", "text/plain", "\n  <html><body>Welcome to the guest Wi-Fi</body></html>"),
        ("discord", "application/xhtml+xml", "<?xml version='1.0'?><html/>"),
        ("discord", "text/plain", "ok"),  # not Discord: it answers 204, or JSON
    ],
)
def test_a_page_answered_with_200_is_not_a_delivery(
    httpserver: HTTPServer, kind: str, content_type: str, answer: str
) -> None:
    """A login page, a captive portal or a website where the webhook should be says 200 too."""
    httpserver.expect_request(path_for(kind)).respond_with_data(
        answer, status=200, content_type=content_type
    )
    sent: list[int] = []

    with pytest.raises(ChatError, match=r"message 1 of 1 was refused: HTTP 200"):
        send(platform_without_server(httpserver, kind), outline([item(1)]), on_sent=sent.append)

    assert sent == []


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "answer"),
    [
        ("discord", 204, "text/plain", ""),
        ("discord", 200, "application/json", '{"id": "1234", "type": 0, "content": "x"}'),
        ("generic", 200, "text/plain", "ok"),
        ("generic", 202, "application/json", '{"queued": true}'),
        ("generic", 204, "text/html", ""),  # no page at all: nothing to doubt
    ],
)
def test_what_discord_and_webhooks_answer_on_success_is_a_delivery(
    httpserver: HTTPServer, kind: str, status: int, content_type: str, answer: str
) -> None:
    httpserver.expect_request(path_for(kind)).respond_with_data(
        answer, status=status, content_type=content_type
    )
    assert send(platform_without_server(httpserver, kind), outline([item(1)])) == 1


def platform_without_server(httpserver: HTTPServer, kind: str) -> Platform:
    channel = channel_for(kind)
    if isinstance(channel, TelegramChannel):
        channel = channel.model_copy(update={"api_url": httpserver.url_for("/").rstrip("/")})
        return Platform(kind, channel, {channel.token_env: TOKEN})
    assert not isinstance(channel, TelegramChannel)
    return Platform(kind, channel, {channel.url_env: httpserver.url_for(path_for(kind))})


@pytest.mark.parametrize(
    ("channel", "environ", "variable"),
    [
        (channel_for("slack"), {}, "SLACK_WEBHOOK_URL"),
        (channel_for("discord"), {"DISCORD_WEBHOOK_URL": "  "}, "DISCORD_WEBHOOK_URL"),
        (channel_for("feishu", signed=True), {"FEISHU_WEBHOOK_URL": "http://x/h"}, "CHAT_SECRET"),
        (channel_for("dingtalk", signed=True), {"CHAT_SECRET": SECRET}, "DINGTALK_WEBHOOK_URL"),
        (channel_for("telegram"), {"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN"),
    ],
)
def test_a_missing_secret_is_named_before_anything_is_sent(
    httpserver: HTTPServer, channel: ChatChannel, environ: dict[str, str], variable: str
) -> None:
    served = Platform(channel.type, channel, environ)

    with pytest.raises(MissingSecret) as caught:
        send(served, outline([item(1)]))

    assert str(caught.value) == f"{channel.label}: {variable} is not set"
    assert httpserver.log == []


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def shown_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record of ours, and every warning or error of anyone's (the CLI keeps httpx's
    own request log, which names URLs, at WARNING)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("arxiv_digest") or r.levelno >= logging.WARNING
    ]


def test_no_error_or_log_shows_a_webhook_url_token_or_secret(
    httpserver: HTTPServer, all_logs: pytest.LogCaptureFixture
) -> None:
    secret_path = "/services/T0000/B0000/XXXXwebhookKEYXXXX"
    httpserver.expect_request(secret_path).respond_with_data("boom", status=500)
    httpserver.expect_request("/robot").respond_with_data(
        json.dumps({"errcode": 300001, "errmsg": f"robot-access-token or {SECRET} is wrong"})
    )
    cases: list[tuple[ChatChannel, dict[str, str]]] = [
        (channel_for("slack"), {"SLACK_WEBHOOK_URL": httpserver.url_for(secret_path)}),
        (
            channel_for("telegram").model_copy(update={"api_url": "http://127.0.0.1:9"}),
            {"TELEGRAM_BOT_TOKEN": TOKEN},
        ),
        (
            channel_for("dingtalk", signed=True),
            {
                "DINGTALK_WEBHOOK_URL": httpserver.url_for(
                    "/robot?access_token=robot-access-token"
                ),
                "CHAT_SECRET": SECRET,
            },
        ),
        (channel_for("wecom"), {"WECOM_WEBHOOK_URL": "qyapi key=XXXXwebhookKEYXXXX"}),
    ]
    errors = []
    for channel, environ in cases:
        with pytest.raises(ChatError) as caught:
            send(Platform(channel.type, channel, environ), outline([item(1)]))
        errors.append(str(caught.value))

    assert "failed after 3 attempt(s): HTTP 500" in errors[0]
    assert "code 300001: [hidden] or [hidden] is wrong" in errors[2]
    assert "WECOM_WEBHOOK_URL is not an http(s) URL" in errors[3]
    shown = "\n".join(errors + shown_records(all_logs))
    for secret in ("XXXXwebhookKEYXXXX", "telegram-bot-token-SECRET", "robot-access-token", SECRET):
        assert secret not in shown
    assert all("\n" not in error for error in errors)


HOSTILE = "<script>alert(1)</script> @everyone *bold* _it_ [x](https://evil.example) & co"


@pytest.mark.parametrize("kind", SPLIT_TYPES)
def test_titles_and_summaries_cannot_inject_markup_or_mentions(kind: str) -> None:
    digest = outline(
        [item(1, title=HOSTILE, why=HOSTILE, summary=f"**Ignore** <b>this</b> {HOSTILE}")]
    )

    (message,) = chat_messages(channel_for(kind), digest)

    assert_well_formed(kind, message)
    text = json.dumps(message, ensure_ascii=False)
    markup = {"slack": ("*bold*", "_it_", "<https://evil"), "telegram": ()}
    for raw in ("<script>", "<b>this", *markup.get(kind, ("*bold*", "_it_", "[x](", "**Ignore**"))):
        assert raw not in text, raw
    if kind == "slack":
        assert "&lt;script&gt;" in text and "&amp; co" in text
    elif kind == "telegram":
        visible = telegram_visible(str(message["text"]))
        assert "<script>alert(1)</script> @everyone *bold*" in visible  # shown, as text
        assert "& co" in visible
    elif kind == "feishu":
        assert "&#60;script&#62;" in text and "&#38; co" in text
    else:
        assert r"\\<script\\>" in text and r"\\*bold\\*" in text
    if kind == "discord":
        assert "@everyone" not in text
