"""The service's access log without rating signatures.

A signed rating link (``/rate/{id}/up?sig=...``) is a vote anyone holding it can cast: the
access log shows the path and drops the query, so reading the log gives no link.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

HIDDEN = "?…"


class HideQueries(logging.Filter):
    """Cut the query string off the path in uvicorn's access records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, path with query, HTTP version,
        # status)
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            if query:
                record.args = (*args[:2], path + HIDDEN, *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging setup, with :class:`HideQueries` on the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["hide_queries"] = {"()": HideQueries}
    config["handlers"]["access"]["filters"] = ["hide_queries"]
    return config
