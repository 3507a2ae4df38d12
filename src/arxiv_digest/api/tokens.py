"""The write token of the JSON API and the MCP server over HTTP.

Reading is open, like the site; changing anything (a rating) needs
``Authorization: Bearer <token>`` with the token in the environment variable
``ARXIV_DIGEST_API_TOKEN``, compared in constant time. Without the variable, writes are
off. A token too short to resist guessing is a config error, reported without its value.
"""

from __future__ import annotations

import hmac
import os
from enum import Enum

from arxiv_digest.errors import ConfigError

__all__ = ["API_TOKEN_ENV", "Access", "access", "api_token", "bearer_token"]

API_TOKEN_ENV = "ARXIV_DIGEST_API_TOKEN"
MIN_TOKEN_CHARS = 16


class Access(Enum):
    """What a request's credentials allow."""

    OFF = "writes are off"  # no token is configured
    MISSING = "no token"  # a token is configured, the request has none
    WRONG = "wrong token"
    GRANTED = "granted"


def api_token() -> str | None:
    """The token from the environment; None when it is not set (or blank)."""
    value = os.environ.get(API_TOKEN_ENV, "").strip()
    if not value:
        return None
    if len(value) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"{API_TOKEN_ENV} is too short ({len(value)} characters; at least "
            f"{MIN_TOKEN_CHARS}): make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value


def bearer_token(header: str) -> str:
    """The credentials of ``Authorization: Bearer …``; "" for none or another scheme (the
    scheme's name is case-insensitive, RFC 7235)."""
    scheme, _, credentials = header.strip().partition(" ")
    return credentials.strip(" ") if scheme.lower() == "bearer" else ""


def access(authorization: str | None, token: str | None) -> Access:
    """What an ``Authorization`` header allows, given the configured ``token``."""
    if not token:
        return Access.OFF
    given = bearer_token(authorization or "")
    if not given:
        return Access.MISSING
    if hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        return Access.GRANTED
    return Access.WRONG
