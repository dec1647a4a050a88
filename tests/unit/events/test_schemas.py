"""The checked-in JSON Schemas in docs/schemas are exactly what the event models export."""

from __future__ import annotations

from pathlib import Path

from els.events import render_schemas

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"
REGENERATE = "regenerate them with `uv run python -m els.events docs/schemas` and commit the result"


def test_checked_in_schemas_match_the_event_models() -> None:
    rendered = render_schemas()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in SCHEMAS.glob("*.json")}
    assert sorted(on_disk) == sorted(rendered), f"schema files differ from the event types: {REGENERATE}"
    stale = sorted(name for name, text in rendered.items() if on_disk[name] != text)
    assert stale == [], f"{', '.join(stale)} no longer match the models: {REGENERATE}"


def test_every_schema_pins_its_event_type_and_envelope_version() -> None:
    for name, text in render_schemas().items():
        event_type = name.removesuffix(".json")
        assert f'"const": "{event_type}"' in text
        assert '"schema_version"' in text
