"""The settings as documentation: the reference table of every `ELS_*` variable, and a settings object
rendered for display with its secrets masked."""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from els.jsontypes import JsonValue
from els.settings import Settings

SECRET_FIELDS = frozenset({"api_tokens"})


def reference_markdown(settings_class: type[BaseModel] = Settings) -> str:
    """`docs/configuration.md`: one row per setting, with its variable, default and meaning."""
    lines = [
        "# Configuration reference",
        "",
        "Every setting is an environment variable (`ELS_` + the field name in capitals), read once per "
        "process by `els.settings.Settings`. This page is generated from that class by "
        "`els config --reference > docs/configuration.md`, and a test fails when the two drift.",
        "`els config` prints the values a process would run with, secrets masked.",
        "",
        "| Variable | Default | Meaning |",
        "| --- | --- | --- |",
    ]
    for name, field in settings_class.model_fields.items():
        default: object = field.get_default(call_default_factory=True, validated_data={})
        lines.append(f"| `ELS_{name.upper()}` | {_default(default)} | {_cell(field.description or '')} |")
    return "\n".join(lines) + "\n"


def _default(value: object) -> str:
    if value is None or value is PydanticUndefined:
        return "(unset)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def masked(settings: Settings) -> dict[str, JsonValue]:
    """Every setting's value as a process would run with it, passwords in URLs and tokens masked."""
    shown: dict[str, JsonValue] = {}
    for name, value in settings.model_dump(mode="json").items():
        if name in SECRET_FIELDS:
            shown[name] = f"({len(settings.api_tokens)} configured)"
        elif isinstance(value, str) and (name.endswith("_url") or name == "result_backend"):
            shown[name] = mask_url(value)
        else:
            shown[name] = value
    return shown


def mask_url(url: str) -> str:
    """`url` with the password of its user part replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
