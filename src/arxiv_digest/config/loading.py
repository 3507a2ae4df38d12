"""Reading a config file: JSON, validation with messages that name the JSON path, paths made
relative to the config's folder, and the files it names checked before anything runs.

Loading never falls back to defaults on error: a bad file raises :class:`ConfigError`.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from arxiv_digest.api.tokens import api_token
from arxiv_digest.config.profiles import (
    read_profiles_dir,
    resolve_profile_paths,
    validate_profiles,
)
from arxiv_digest.config.settings import CONFIG_ENV, IGNORED_LEGACY_KEYS, STORE_URL_ENV, Settings
from arxiv_digest.errors import ConfigError
from arxiv_digest.ratings import rating_secret

log = logging.getLogger(__name__)


def _json_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _describe(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    if error["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        return f"{_json_path(loc)}: unknown key{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{_json_path(loc)}: {message}"


def _strip_comments(data: Any) -> Any:
    """JSON has no comments: keys starting with "//" serve as comments and are dropped."""
    if isinstance(data, dict):
        return {k: _strip_comments(v) for k, v in data.items() if not str(k).startswith("//")}
    if isinstance(data, list):
        return [_strip_comments(v) for v in data]
    return data


def parse_settings(data: Any, source: str = "config") -> Settings:
    """Validate already-decoded JSON; raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a JSON object")
    data = _strip_comments(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_describe(e)}" for e in exc.errors())
        raise ConfigError(f"{source} is invalid:\n{problems}") from None
    if settings.profiles:  # each checked on its own: errors name profiles.NAME.field
        settings = settings.model_copy(
            update={"profiles": validate_profiles(settings, source=source)}
        )
    for key, notice in IGNORED_LEGACY_KEYS.items():
        if key in data:
            log.warning("%s: %s (%s)", source, key, notice)
    return settings


def resolve_config_path(path: str | Path | None) -> Path:
    chosen = path or os.environ.get(CONFIG_ENV) or "config.json"
    return Path(chosen).expanduser().resolve()


def _absolute(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else (base / value)


def _absolute_store_url(base: Path, url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    database = parsed.database or ""
    uri = database.startswith("file:")  # sqlite:///file:data/x.sqlite?mode=ro&uri=true
    path = _absolute(base, Path(database.removeprefix("file:")))
    # Replace the path in the text itself: rendering the URL would escape "file:" as "file%3A".
    return url.replace(database, f"file:{path}" if uri else str(path), 1)


def with_paths_resolved(settings: Settings, base: Path) -> Settings:
    """Make every relative path in the config relative to ``base`` (the config's folder)."""
    output = settings.output
    template = output.readme_template
    if template is None and (base / "README.template.md").is_file():
        template = base / "README.template.md"
    new_output = output.model_copy(
        update={
            "readme": _absolute(base, output.readme),
            "site_dir": _absolute(base, output.site_dir),
            "readme_template": _absolute(base, template) if template else None,
        }
    )
    summary = settings.ai_summary
    prompt = summary.prompt_file
    new_summary = summary.model_copy(
        update={"prompt_file": _absolute(base, prompt) if prompt else None}
    )
    history = settings.store.history_dir
    new_store = settings.store.model_copy(
        update={
            "url": _absolute_store_url(base, settings.store.url),
            "history_dir": _absolute(base, history) if history else None,
        }
    )
    update: dict[str, object] = {
        "output": new_output,
        "ai_summary": new_summary,
        "store": new_store,
        "profiles": {
            name: resolve_profile_paths(profile, base)
            for name, profile in settings.profiles.items()
        },
        "profiles_dir": _absolute(base, settings.profiles_dir) if settings.profiles_dir else None,
    }
    if settings.relevance is not None:
        library = [
            source.model_copy(update={"path": _absolute(base, source.path)})
            if source.path is not None
            else source
            for source in settings.relevance.library
        ]
        relevance = settings.relevance
        update["relevance"] = relevance.model_copy(
            update={
                "library": library,
                "model_path": _absolute(base, relevance.model_path)
                if relevance.model_path
                else None,
                "cache_dir": _absolute(base, relevance.cache_dir) if relevance.cache_dir else None,
            }
        )
    return settings.model_copy(update=update)


def _unreadable(path: Path) -> str | None:
    """Why a file the config names cannot be used, or None when it can."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} does not exist"
    except IsADirectoryError:
        return f"{path} is a directory, not a file"
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {path}: {exc}"
    return f"{path} is empty" if not text.strip() else None


def check_files(settings: Settings, source: str = "config") -> None:
    """Files the config names must exist now, not half-way through a run: raise ConfigError
    naming the field before anything is fetched or created."""
    named = [("output.readme_template", settings.output.readme_template)]
    named += [
        (f"relevance.library[{i}]", source.path)
        for i, source in enumerate(settings.library)
        if source.path is not None
    ]
    if settings.ai_summary.enabled:
        named.append(("ai_summary.prompt_file", settings.ai_summary.prompt_file))
    for name, profile in settings.profiles.items():
        where = f"profiles.{name}"
        if profile.relevance is not None:
            named += [
                (f"{where}.relevance.library[{i}]", source.path)
                for i, source in enumerate(profile.relevance.library)
                if source.path is not None
            ]
        if settings.ai_summary.enabled:
            named.append((f"{where}.ai_summary.prompt_file", profile.ai_summary.prompt_file))
    problems = [
        f"  {field}: {why}"
        for field, path in named
        if path is not None and (why := _unreadable(Path(path))) is not None
    ]
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(problems))


def load_settings(path: str | Path | None = None) -> Settings:
    """Read, validate and resolve a config file; never touches any output."""
    config_path = resolve_config_path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {config_path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{config_path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(data, dict) and os.environ.get(STORE_URL_ENV):
        data = {**data, "store": {**data.get("store", {}), "url": os.environ[STORE_URL_ENV]}}
    source = str(config_path)
    if isinstance(data, dict) and data.get("profiles_dir") is not None:
        folder = _absolute(config_path.parent, Path(str(data["profiles_dir"])))
        inline = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
        data = {**data, "profiles": read_profiles_dir(folder, inline or {})}
    settings = with_paths_resolved(parse_settings(data, source=source), config_path.parent)
    check_files(settings, source=source)
    rating_secret()  # a rating secret too short to be safe stops here, before any request
    api_token()  # so does an API token too short to be safe
    return settings
