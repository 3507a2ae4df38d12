"""The ``api`` section: how ``serve`` answers programs (``/api/v1/``) beyond its defaults.

The write token is not here: like every secret it lives in the environment
(``ARXIV_DIGEST_API_TOKEN``, see :mod:`arxiv_digest.api.tokens`).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ApiSettings"]

ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?")


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cors_origins: list[str] = Field(
        default_factory=list,
        description="Web origins whose pages may call /api/v1/ from a browser (CORS), e.g. "
        '["https://me.github.io"]; "*" for any. Empty: no CORS headers at all.',
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not a web origin: scheme and host, with an optional port "
                    "and nothing after it (https://example.org, http://localhost:8080), or *"
                )
        return value
