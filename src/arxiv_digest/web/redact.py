"""What ``/config`` may show of the URLs and file paths a config holds.

A URL may carry credentials: a user and password before the host
(``http://u:pass@host/v1``), a key or token in its query (``?key=…``). A public page cannot
tell a token from a harmless value, so every userinfo and every query value is masked.
A file path is shown relative to the config file's folder, as it was most likely written;
a file elsewhere by its name only: an absolute path tells who runs the service, and where.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MASK = "***"
# scheme://authority, then all up to the next space (a URL in a text too); a quote is no end:
# HTTP clients read http://u:p"ss@host as the password p"ss
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<authority>[^/?#\s]*)(?P<rest>\S*)")


def mask_url(url: str) -> str:
    """``url`` with its userinfo, query values and fragment masked; nothing else changed."""
    return _URL.sub(_masked, url)


def _masked(match: re.Match[str]) -> str:
    authority = match["authority"]
    if "@" in authority:  # the last "@" ends the userinfo, as URL parsers read it
        authority = f"{MASK}@{authority.rpartition('@')[2]}"
    path, hash_, fragment = match["rest"].partition("#")
    path, question, query = path.partition("?")
    masked_query = "&".join(map(_masked_parameter, query.split("&"))) if question else ""
    masked_fragment = MASK if fragment else ""
    return f"{match['scheme']}{authority}{path}{question}{masked_query}{hash_}{masked_fragment}"


def _masked_parameter(parameter: str) -> str:
    name, equals, value = parameter.partition("=")
    if not equals:  # "?SECRET": a bare value
        return MASK if name else ""
    return f"{name}={MASK}" if value else f"{name}="


def mask_urls(data: Any) -> Any:
    """A JSON-like value with :func:`mask_url` applied to every string in it."""
    if isinstance(data, str):
        return mask_url(data)
    if isinstance(data, dict):
        return {key: mask_urls(value) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_urls(item) for item in data]
    return data


def shown_path(path: str | Path | None, config_dir: Path | None) -> str | None:
    """``path`` relative to ``config_dir`` when it lies inside it, else its name only."""
    if path is None:
        return None
    path = Path(path)
    if config_dir is not None and path.is_relative_to(config_dir):
        return path.relative_to(config_dir).as_posix()
    return path.name if path.is_absolute() else path.as_posix()


def relevance_paths(relevance: dict[str, Any], config_dir: Path | None) -> dict[str, Any]:
    """The dumped ``relevance`` section with its library files and model folders shown."""
    library = [
        {**source, "path": shown_path(source["path"], config_dir)}
        for source in relevance["library"]
    ]
    folders = {key: shown_path(relevance[key], config_dir) for key in ("model_path", "cache_dir")}
    return {**relevance, "library": library, **folders}
