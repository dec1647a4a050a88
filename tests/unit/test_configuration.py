"""The configuration reference matches the Settings class, and displayed settings hide their secrets."""

from __future__ import annotations

from pathlib import Path

from els.configuration import masked, reference_markdown
from els.settings import Settings

REFERENCE = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_the_reference_page_is_generated_from_the_settings_class() -> None:
    assert REFERENCE.read_text() == reference_markdown(), (
        "docs/configuration.md drifted from els/settings.py: run "
        "`uv run els config --reference > docs/configuration.md`"
    )


def test_every_setting_has_a_row_and_a_meaning() -> None:
    rows = [line for line in reference_markdown().splitlines() if line.startswith("| `ELS_")]
    assert len(rows) == len(Settings.model_fields)
    assert all(not row.endswith("|  |") for row in rows)


def test_displayed_settings_mask_passwords_and_tokens() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://els:s3cret@db:5432/els",
        broker_url="redis://:hunter2@broker:6379/1",
        api_tokens={"ab" * 32: "alice"},
    )
    shown = str(masked(settings))
    assert "s3cret" not in shown and "hunter2" not in shown and "alice" not in shown
    assert masked(settings)["database_url"] == "postgresql+psycopg://els:***@db:5432/els"
