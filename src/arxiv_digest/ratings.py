"""Signed rating links: ``{site_url}/rate/{arxiv_id}/{up|down|clear}?sig=...``.

A link is a GET that works from a feed reader or an e-mail without a login, so what makes it
safe is the signature: an HMAC-SHA256, keyed by the secret in the environment variable
``ARXIV_DIGEST_RATING_SECRET``, over a message that binds the paper and the action. A link
for one paper or one action never verifies for another, and nobody without the secret can
make one. Without the secret no link is made (and the service records none).

In team mode a member's links live under their pages, ``{site_url}/p/NAME/rate/...``, and
the message binds the profile too: alice's link never verifies as bob's (nor as the
config's own reader's), so nobody rates for another member.

Publishing builds links here and the service checks them here: neither imports the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from arxiv_digest.errors import ConfigError

SECRET_ENV = "ARXIV_DIGEST_RATING_SECRET"
MIN_SECRET_CHARS = 16
SIGNATURE_CHARS = 22  # 132 bits of the HMAC, URL-safe base64
ACTIONS = ("up", "down", "clear")
SYMBOLS = {"up": "👍", "down": "👎"}

__all__ = [
    "ACTIONS",
    "SECRET_ENV",
    "SYMBOLS",
    "profile_of",
    "rating_links",
    "rating_secret",
    "rating_url",
    "sign",
    "signed_url",
    "verify",
]


def rating_secret() -> bytes | None:
    """The signing key from the environment; None when it is not set (or blank).

    A short secret could be guessed from one published link, so it is a config error,
    reported without the value.
    """
    value = os.environ.get(SECRET_ENV, "").strip()
    if not value:
        return None
    if len(value) < MIN_SECRET_CHARS:
        raise ConfigError(
            f"{SECRET_ENV} is too short ({len(value)} characters; at least "
            f"{MIN_SECRET_CHARS}): make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value.encode("utf-8")


_MEMBER_URL = re.compile(r"/p/([a-z0-9][a-z0-9_-]{0,39})/?$")  # a team member's pages


def profile_of(site_url: str) -> str:
    """Whose pages ``site_url`` is: a member's name for ``.../p/NAME``, else ""."""
    found = _MEMBER_URL.search(site_url)
    return found.group(1) if found else ""


def _message(arxiv_id: str, action: str, profile: str = "") -> bytes:
    if profile:
        return f"arxiv-digest rate\n{profile}\n{arxiv_id}\n{action}".encode()
    return f"arxiv-digest rate\n{arxiv_id}\n{action}".encode()


def sign(arxiv_id: str, action: str, secret: bytes, profile: str = "") -> str:
    """The signature of one action on one paper (an id without version), for one reader
    (``profile``: "" for the config's own)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown rating action {action!r}")
    mac = hmac.new(secret, _message(arxiv_id, action, profile), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii")[:SIGNATURE_CHARS]


def verify(arxiv_id: str, action: str, signature: str, secret: bytes, profile: str = "") -> bool:
    """Whether ``signature`` was made with ``secret`` for exactly this paper, action and
    reader."""
    if action not in ACTIONS:
        return False
    expected = sign(arxiv_id, action, secret, profile).encode("ascii")
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def signed_url(site_url: str, arxiv_id: str, action: str, secret: bytes) -> str:
    signature = sign(arxiv_id, action, secret, profile_of(site_url))
    return f"{site_url.rstrip('/')}/rate/{arxiv_id}/{action}?sig={signature}"


def rating_url(site_url: str | None, arxiv_id: str, action: str) -> str | None:
    """The signed link for this action, or None without ``site_url`` or the secret."""
    if not site_url:
        return None
    secret = rating_secret()
    if secret is None:
        return None
    return signed_url(site_url, arxiv_id, action, secret)


def rating_links(site_url: str | None, arxiv_id: str) -> dict[str, str] | None:
    """The 👍 and 👎 links of one paper (``{"up": ..., "down": ...}``), or None (no links)."""
    if not site_url:
        return None
    secret = rating_secret()
    if secret is None:
        return None
    return {action: signed_url(site_url, arxiv_id, action, secret) for action in ("up", "down")}
