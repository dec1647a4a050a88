"""Every essay limit that is a setting reaches the essay logic with the deployment's value."""

from __future__ import annotations

from dataclasses import fields

from els.settings import Settings
from essays.validate import Limits
from services.process import limits_from


def test_every_limit_named_like_a_setting_takes_the_settings_value() -> None:
    settings = Settings(
        max_upload_bytes=11,
        min_words=2,
        max_words=33,
        docx_max_uncompressed_bytes=44,
        docx_max_compression_ratio=5,
        pdf_max_pages=6,
        pdf_max_seconds=7.5,
        pdf_max_page_content_bytes=88,
        pdf_max_content_bytes=99,
    )
    limits = limits_from(settings)
    shared = [field.name for field in fields(Limits) if field.name in Settings.model_fields]
    assert len(shared) == 9
    assert {name: getattr(limits, name) for name in shared} == {
        name: getattr(settings, name) for name in shared
    }
