"""The ``delivery`` section: e-mail and chat channels that receive each new digest.

Secrets never sit in the config file: every password, webhook URL, signing secret and token
is named by the environment variable that holds it (``*_env``), read when a digest is sent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arxiv_digest.config.common import HttpUrl

SmtpSecurity = Literal["starttls", "ssl", "none"]
DEFAULT_SMTP_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "none": 25}
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


EnvName = Annotated[str, Field(pattern=_ENV_NAME)]


class EmailSettings(_Section):
    smtp_host: str = Field(min_length=1, description="The SMTP server, e.g. smtp.example.org.")
    smtp_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Its port (default: 587 with starttls, 465 with ssl, 25 with none).",
    )
    security: SmtpSecurity = Field(
        "starttls",
        description='"starttls" (upgrade a plain connection), "ssl" (TLS from the start) '
        'or "none" (plain text; for a relay on this machine).',
    )
    username: str | None = Field(
        None, min_length=1, description="Login for SMTP AUTH; without it no AUTH is tried."
    )
    password_env: EnvName = Field(
        "SMTP_PASSWORD", description="Environment variable holding the SMTP password."
    )
    sender: str = Field(
        alias="from",
        min_length=3,
        description='The From address, e.g. "arXiv digest <me@example.org>".',
    )
    to: list[str] = Field(min_length=1, description="Recipients (one message, every address).")
    subject: str = Field(
        "arXiv digest {date}: {count} papers",
        min_length=1,
        description="Subject line; {date} and {count} are filled in.",
    )
    timeout: float = Field(60.0, gt=0, description="Seconds before the SMTP server counts as down.")

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_SMTP_PORTS[self.security]

    @property
    def password_in_clear(self) -> bool:
        """A login over a plain connection to another machine: the password readable."""
        return (
            self.username is not None
            and self.security == "none"
            and self.smtp_host not in LOOPBACK_HOSTS
        )

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> EmailSettings:
        if self.password_in_clear:
            raise ValueError(
                f'security "none" with a username would send the password to '
                f'{self.smtp_host} unencrypted: use "starttls" or "ssl" (plain SMTP with a '
                "login is only for a relay on this machine)"
            )
        return self

    @field_validator("sender", "to")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for address in [value] if isinstance(value, str) else value:
            if "@" not in address or "\n" in address or "\r" in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @field_validator("subject")
    @classmethod
    def _subject_fields(cls, value: str) -> str:
        try:
            value.format(date="2026-01-01", count=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{date}} and {{count}} may be filled in ({exc})") from None
        return value


class _Channel(_Section):
    type: str = Field(description="The platform.")  # narrowed to one Literal by each channel
    name: str | None = Field(
        None,
        min_length=1,
        pattern=r"^[\w.-]+$",
        description="A label for this channel in logs and delivery records (default: its "
        "type); give one when two channels share a type.",
    )

    @property
    def label(self) -> str:
        return self.name or self.type


class SlackChannel(_Channel):
    type: Literal["slack"] = Field(description='"slack": an incoming webhook (Block Kit).')
    url_env: EnvName = Field(
        "SLACK_WEBHOOK_URL", description="Environment variable holding the webhook URL."
    )


class DiscordChannel(_Channel):
    type: Literal["discord"] = Field(description='"discord": a channel webhook (embeds).')
    url_env: EnvName = Field(
        "DISCORD_WEBHOOK_URL", description="Environment variable holding the webhook URL."
    )


class FeishuChannel(_Channel):
    type: Literal["feishu"] = Field(description='"feishu": a Feishu/Lark custom bot (card).')
    url_env: EnvName = Field(
        "FEISHU_WEBHOOK_URL", description="Environment variable holding the webhook URL."
    )
    secret_env: EnvName | None = Field(
        None, description="Environment variable holding the bot's signing secret, if set."
    )


class DingTalkChannel(_Channel):
    type: Literal["dingtalk"] = Field(description='"dingtalk": a DingTalk custom robot.')
    url_env: EnvName = Field(
        "DINGTALK_WEBHOOK_URL", description="Environment variable holding the webhook URL."
    )
    secret_env: EnvName | None = Field(
        None, description="Environment variable holding the robot's signing secret, if set."
    )


class WeComChannel(_Channel):
    type: Literal["wecom"] = Field(description='"wecom": a WeCom (WeChat Work) group robot.')
    url_env: EnvName = Field(
        "WECOM_WEBHOOK_URL", description="Environment variable holding the webhook URL."
    )


class TelegramChannel(_Channel):
    type: Literal["telegram"] = Field(description='"telegram": a bot posting to one chat.')
    token_env: EnvName = Field(
        "TELEGRAM_BOT_TOKEN", description="Environment variable holding the bot token."
    )
    chat_id: str = Field(
        min_length=1, description='The chat: its numeric id (e.g. "-100123") or "@channel".'
    )
    api_url: HttpUrl = Field(
        "https://api.telegram.org", description="The Bot API's address (a local Bot API server)."
    )


class GenericChannel(_Channel):
    type: Literal["generic"] = Field(description='"generic": POST the digest as JSON.')
    url_env: EnvName = Field(
        "DIGEST_WEBHOOK_URL", description="Environment variable holding the URL."
    )


ChatChannel = Annotated[
    SlackChannel
    | DiscordChannel
    | FeishuChannel
    | DingTalkChannel
    | WeComChannel
    | TelegramChannel
    | GenericChannel,
    Field(discriminator="type"),
]
CHAT_TYPES = ("slack", "discord", "feishu", "dingtalk", "wecom", "telegram", "generic")


class DeliverySettings(_Section):
    email: EmailSettings | None = Field(None, description="Send each digest by e-mail.")
    chat: list[ChatChannel] = Field(
        default_factory=list,
        description="Chat channels: slack, discord, feishu, dingtalk, wecom, telegram, "
        "generic (the keys of each are in the README).",
    )
    send_empty: bool = Field(
        False, description="Also send a digest with no papers (a short 'nothing today')."
    )
    max_items: int = Field(30, ge=1, le=200, description="Most papers per delivered digest.")

    @model_validator(mode="after")
    def _distinct_labels(self) -> DeliverySettings:
        labels = [channel.label for channel in self.chat]
        if self.email is not None:
            labels.append("email")
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(
                f"two channels are called {', '.join(repeated)}: give each a distinct name"
            )
        return self

    @property
    def channels(self) -> list[str]:
        """Every channel's label, e-mail first."""
        return (["email"] if self.email else []) + [c.label for c in self.chat]
