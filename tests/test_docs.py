"""The docs cannot drift: every config key and every command is in the README."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from arxiv_digest.cli import app
from arxiv_digest.config import Settings
from tests.conftest import REPO


def section(annotation: Any) -> type[BaseModel] | None:
    """The model of a nested section, also when it is optional (``X | None``)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name  # what the config file says: "from", not "sender"
        annotation = section(field.annotation)
        if annotation is not None and typing.get_origin(field.annotation) is not list:
            keys += config_keys(annotation, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


def test_every_config_key_is_in_the_readme_reference() -> None:
    readme = (REPO / "README.md").read_text()
    reference = readme.split("## Configuration reference", 1)[1]
    missing = [key for key in config_keys(Settings) if f"`{key}`" not in reference]
    assert missing == []
    assert len(config_keys(Settings)) > 40


def test_every_config_key_has_a_description() -> None:
    def undocumented(model: type[BaseModel], prefix: str = "") -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            if not field.description:
                found.append(prefix + name)
            annotation = section(field.annotation)
            if annotation is not None:
                found += undocumented(annotation, f"{prefix}{name}.")
        return found

    assert undocumented(Settings) == []


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    commands = [
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    ]
    assert sorted(commands) == [
        "backfill", "deliver", "demo", "doctor", "explain", "export", "import", "mcp", "profiles",
        "rate", "run", "search", "serve", "summarize",
    ]  # fmt: skip
    for command in commands:
        assert f"arxiv-digest {command}" in readme


def test_quick_start_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make demo" in quick and "make test" in quick and "make run" in quick
    assert "make test" in (REPO / ".ci" / "run").read_text()
