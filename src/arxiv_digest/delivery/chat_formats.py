"""One digest as each chat platform's JSON bodies, cut to fit that platform's limits.

Every platform gets the same content: a header (the digest's title, its paper count, a link
to the full digest), then per paper its rank, title linked to the abstract, category, score,
why it was picked, the first sentence of its AI summary, and the 👍/👎 links. The papers are
packed into as few messages as the limits allow, in rank order; a paper is never split
between two messages, and a paper too long for any message is shortened (summary and reason
first, with "…") rather than cut. Text from outside (titles, summaries, reasons) is escaped
for each platform's markup, so it cannot format, link or mention anything.

Limits, from each platform's documentation:

- Slack: 50 blocks per message, 3,000 characters per section text, 150 per header block;
  total text kept under 12,000 (Slack rejects long block messages with
  ``msg_blocks_too_long`` well below its documented 40,000).
- Discord: content 2,000 characters, 10 embeds, embed title 256 and description 4,096, all
  embed text together 6,000 (counted in UTF-16 units, which is never fewer).
- Feishu/Lark custom bot: a request body of at most 20 KB.
- DingTalk custom robot: 20,000 bytes (the body as sent is measured).
- WeCom group robot: markdown content of at most 4,096 bytes of UTF-8.
- Telegram: 4,096 characters after entity parsing, counted in UTF-16 code units.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from arxiv_digest.delivery.chat_text import (
    BRIEF_LEVELS,
    Body,
    Format,
    Paper,
    Part,
    clip,
    dumped_size,
    header_line,
    md_escape,
    md_header,
    md_lines,
    md_note,
    md_url,
    utf16_units,
)
from arxiv_digest.delivery.outline import Outline

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
SLACK_MAX_HEADER = 150
SLACK_MAX_TEXT = 12_000
DISCORD_MAX_CONTENT = 2000
DISCORD_MAX_EMBEDS = 10
DISCORD_MAX_TITLE = 256
DISCORD_MAX_DESCRIPTION = 4096
DISCORD_MAX_EMBED_TEXT = 6000
FEISHU_MAX_BYTES = 20 * 1000 - 200  # 20 KB, less room for the timestamp and sign
DINGTALK_MAX_BYTES = 20_000 - 200
WECOM_MAX_BYTES = 4096
TELEGRAM_MAX_UNITS = 4096


class DingTalkFormat(Format[str]):
    def paper(self, paper: Paper) -> str:
        return "  \n".join(md_lines(paper))  # two spaces: DingTalk ignores a lone newline

    def note(self, text: str, url: str | None) -> str:
        return md_note(text, url)

    def body(self, outline: Outline, part: Part, entities: Sequence[str]) -> Body:
        title, count = header_line(outline, part)
        text = "\n\n".join([md_header(outline, part), *entities])
        return {"msgtype": "markdown", "markdown": {"title": f"{title}: {count}", "text": text}}

    def fits(self, body: Body) -> bool:
        return dumped_size(body) <= DINGTALK_MAX_BYTES


class WeComFormat(Format[str]):
    levels = BRIEF_LEVELS

    def paper(self, paper: Paper) -> str:
        lines = md_lines(paper)
        lines[1] = f'<font color="comment">{lines[1]}</font>'
        return "\n".join(lines)

    def note(self, text: str, url: str | None) -> str:
        return md_note(text, url)

    def body(self, outline: Outline, part: Part, entities: Sequence[str]) -> Body:
        content = "\n\n".join([md_header(outline, part), *entities])
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def fits(self, body: Body) -> bool:
        markdown = body["markdown"]
        assert isinstance(markdown, dict)
        return len(str(markdown["content"]).encode("utf-8")) <= WECOM_MAX_BYTES


class DiscordFormat(Format[dict[str, object]]):
    COLOR = 0x3B6EA5

    @staticmethod
    def escape(text: str) -> str:
        return md_escape(text).replace("@", "@\u200b")  # no @everyone, even as text

    def paper(self, paper: Paper) -> dict[str, object]:
        lines = [f"{self.escape(paper.category)} · score {self.escape(paper.score)}"]
        if paper.why:
            lines.append(f"*{self.escape(paper.why)}*")
        if paper.summary:
            lines.append(self.escape(paper.summary))
        if paper.rate_up and paper.rate_down:
            lines.append(f"[👍]({md_url(paper.rate_up)})  [👎]({md_url(paper.rate_down)})")
        return {
            "title": clip(f"{paper.rank}. {self.escape(paper.title)}", DISCORD_MAX_TITLE),
            "url": paper.url,
            "description": "\n".join(lines),
            "color": self.COLOR,
        }

    def note(self, text: str, url: str | None) -> dict[str, object]:
        link = f" · [full digest]({md_url(url)})" if url else ""
        return {"description": self.escape(text) + link, "color": self.COLOR}

    def body(self, outline: Outline, part: Part, entities: Sequence[dict[str, object]]) -> Body:
        title, count = header_line(outline, part)
        content = f"**{self.escape(title)}** · {count}"
        if outline.site_url:
            content += f" · <{outline.site_url}>"  # angle brackets: no preview embed
        return {"content": content, "embeds": list(entities), "allowed_mentions": {"parse": []}}

    def fits(self, body: Body) -> bool:
        embeds = body["embeds"]
        assert isinstance(embeds, list)
        titles = [utf16_units(str(e.get("title", ""))) for e in embeds]
        texts = [utf16_units(str(e.get("description", ""))) for e in embeds]
        return (
            utf16_units(str(body["content"])) <= DISCORD_MAX_CONTENT
            and len(embeds) <= DISCORD_MAX_EMBEDS
            and all(t <= DISCORD_MAX_TITLE for t in titles)
            and all(t <= DISCORD_MAX_DESCRIPTION for t in texts)
            and sum(titles) + sum(texts) <= DISCORD_MAX_EMBED_TEXT
        )


# --- Slack: Block Kit, mrkdwn -----------------------------------------------------------------

_SLACK_FORMATTING = re.compile(r"([*_~`])")


def slack_escape(text: str) -> str:
    """Slack's three entities, and a zero-width space before each formatting character so
    that it cannot open bold, italics, strike or code (Slack has no escape for those)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SLACK_FORMATTING.sub("\u200b\\1", text)


def slack_link(url: str, text: str) -> str:
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{text}>"


def _slack_section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


class SlackFormat(Format[dict[str, object]]):
    def paper(self, paper: Paper) -> dict[str, object]:
        lines = [
            f"*{paper.rank}. {slack_link(paper.url, slack_escape(paper.title))}*",
            f"{slack_escape(paper.category)} · score {slack_escape(paper.score)}",
        ]
        if paper.why:
            lines.append(f"_{slack_escape(paper.why)}_")
        if paper.summary:
            lines.append(slack_escape(paper.summary))
        if paper.rate_up and paper.rate_down:
            lines.append(f"{slack_link(paper.rate_up, '👍')}  {slack_link(paper.rate_down, '👎')}")
        return _slack_section("\n".join(lines))

    def note(self, text: str, url: str | None) -> dict[str, object]:
        link = f" · {slack_link(url, 'full digest')}" if url else ""
        return _slack_section(slack_escape(text) + link)

    def body(self, outline: Outline, part: Part, entities: Sequence[dict[str, object]]) -> Body:
        title, count = header_line(outline, part)
        context = count + (
            f" · {slack_link(outline.site_url, 'full digest')}" if outline.site_url else ""
        )
        blocks: list[dict[str, object]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": clip(title, SLACK_MAX_HEADER)},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": context, "verbatim": True}],
            },
            *entities,
        ]
        return {"text": f"{title}: {count}", "blocks": blocks, "unfurl_links": False}

    def fits(self, body: Body) -> bool:
        blocks = body["blocks"]
        assert isinstance(blocks, list)
        sections = [str(b["text"]["text"]) for b in blocks if b["type"] == "section"]
        return (
            len(blocks) <= SLACK_MAX_BLOCKS
            and all(len(s) <= SLACK_MAX_SECTION for s in sections)
            and sum(len(s) for s in sections) <= SLACK_MAX_TEXT
        )


# --- Feishu / Lark: an interactive card with lark_md text -------------------------------------

_LARK_SPECIAL = re.compile(r"[&<>*_~`\[\]()#\\|!$]")


def lark_escape(text: str) -> str:
    """Feishu card Markdown takes HTML character references for its special characters."""
    return _LARK_SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", text)


def _lark_div(content: str) -> dict[str, object]:
    return {"tag": "div", "text": {"tag": "lark_md", "content": content}}


class FeishuFormat(Format[list[dict[str, object]]]):
    def paper(self, paper: Paper) -> list[dict[str, object]]:
        return [{"tag": "hr"}, _lark_div("\n".join(md_lines(paper, lark_escape)))]

    def note(self, text: str, url: str | None) -> list[dict[str, object]]:
        link = f" · [full digest]({md_url(url)})" if url else ""
        return [{"tag": "hr"}, _lark_div(lark_escape(text) + link)]

    def body(
        self, outline: Outline, part: Part, entities: Sequence[list[dict[str, object]]]
    ) -> Body:
        title, count = header_line(outline, part)
        intro = count + (
            f" · [full digest]({md_url(outline.site_url)})" if outline.site_url else ""
        )
        card = {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
            "elements": [_lark_div(intro), *(e for entity in entities for e in entity)],
        }
        return {"msg_type": "interactive", "card": card}

    def fits(self, body: Body) -> bool:
        return dumped_size(body) <= FEISHU_MAX_BYTES


# --- Telegram: HTML parse mode ----------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")


def tg_escape(text: str) -> str:
    return html.escape(text, quote=False)


def tg_link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{text}</a>'


def telegram_visible(text: str) -> str:
    """What Telegram counts against its limit: the text once tags and entities are parsed."""
    return html.unescape(_TAG.sub("", text))


class TelegramFormat(Format[str]):
    def __init__(self, chat_id: str) -> None:
        self.chat_id = chat_id

    def paper(self, paper: Paper) -> str:
        lines = [
            f"<b>{paper.rank}.</b> {tg_link(paper.url, tg_escape(paper.title))}",
            f"<i>{tg_escape(paper.category)} · score {tg_escape(paper.score)}</i>",
        ]
        if paper.why:
            lines.append(tg_escape(paper.why))
        if paper.summary:
            lines.append(f"<blockquote>{tg_escape(paper.summary)}</blockquote>")
        if paper.rate_up and paper.rate_down:
            lines.append(f"{tg_link(paper.rate_up, '👍')}  {tg_link(paper.rate_down, '👎')}")
        return "\n".join(lines)

    def note(self, text: str, url: str | None) -> str:
        return tg_escape(text) + (f" · {tg_link(url, 'full digest')}" if url else "")

    def body(self, outline: Outline, part: Part, entities: Sequence[str]) -> Body:
        title, count = header_line(outline, part)
        name = tg_link(outline.site_url, tg_escape(title)) if outline.site_url else tg_escape(title)
        text = "\n\n".join([f"<b>{name}</b> · {count}", *entities])
        return {
            "chat_id": self.chat_id,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }

    def fits(self, body: Body) -> bool:
        return utf16_units(telegram_visible(str(body["text"]))) <= TELEGRAM_MAX_UNITS
