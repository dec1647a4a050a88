"""Requests generated from the app's own OpenAPI schema get no server error (5xx) and documented bodies."""

from __future__ import annotations

import io
import zipfile

import schemathesis
from celery import Celery
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from els.settings import Settings
from tests.e2e.api.conftest import ALICE

EXAMPLES_PER_OPERATION = 15


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# Class archives: well-formed ones with hostile member names, cut-off ones, and arbitrary bytes.
_ARCHIVES = st.one_of(
    st.dictionaries(st.text(min_size=1, max_size=40), st.binary(max_size=200), max_size=4).map(_zip_of),
    st.binary(max_size=400).map(lambda tail: _zip_of({"a.txt": b"essay"})[: len(tail)] + tail),
    st.binary(max_size=400),
)
schemathesis.openapi.media_type("application/zip", _ARCHIVES)


def test_generated_requests_get_no_server_error_and_documented_bodies(
    api_settings: Settings, celery_app: Celery
) -> None:
    # An app of its own: schemathesis runs its lifespan and keeps it for the process.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(api_settings))
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 9

    calls: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: object) -> None:
            assert isinstance(case, Case)
            calls.append(case.operation.label)
            case.call_and_validate(headers=ALICE, checks=[not_a_server_error, response_schema_conformance])

        no_server_error()

    assert len(set(calls)) == len(operations)
    # The app's lifespan made its own Celery app current.
    celery_app.set_current()
