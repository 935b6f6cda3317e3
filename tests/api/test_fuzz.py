"""Property-based fuzzing of the HTTP API from its own OpenAPI description (schemathesis, in process).

Every operation gets a bounded number of generated requests, valid and invalid (MAX_EXAMPLES each, plus the
schema's examples and schemathesis's coverage cases), against a small index built with the hashing embedder.
Checks: no 5xx, and every response has a documented status, content type and a body that matches its schema.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.app import create_app
from kb.config import Settings
from kb.core import KnowledgeBase
from kb.testing import HashingEmbedder
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.api.conftest import build, write_notes

MAX_EXAMPLES = 25
ADMIN_KEY = "fuzz-admin-key"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

_cases: dict[str, int] = {}
_statuses: dict[int, int] = {}


# schemathesis needs the operations at collection, so the app is made then (cheap: nothing is loaded or written);
# the fixture below builds its index and gives it a KnowledgeBase over it before any request is sent.
_ROOT = Path(tempfile.gettempdir()) / f"notes-kb-fuzz-{uuid.uuid4().hex[:8]}"
_SETTINGS = Settings(notes_dir=_ROOT / "notes", index_dir=_ROOT / "index", admin_keys=ADMIN_KEY)
_APP = create_app(_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@pytest.fixture(scope="module", autouse=True)
def fuzzed_app():
    write_notes(_SETTINGS.notes_dir)
    build(_SETTINGS.notes_dir, _SETTINGS.index_dir)
    serving = _APP.state.serving
    serving.knowledge_base, serving.load_error = KnowledgeBase(_SETTINGS, embedder=HashingEmbedder()), None
    try:
        with TestClient(_APP):  # run the lifespan, as a server would
            yield _APP
            _APP.state.reindexer.wait(30)  # a rebuild the fuzzer started finishes before the directory goes
    finally:
        shutil.rmtree(_ROOT, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis directory in the repository
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema_and_never_fails(case) -> None:
    # The admin key goes with every request, so /admin is fuzzed too rather than refused.
    response = case.call_and_validate(headers={"X-API-Key": ADMIN_KEY}, checks=CHECKS)
    operation = f"{case.operation.method.upper()} {case.operation.path}"  # also counts other methods sent to it
    _cases[operation] = _cases.get(operation, 0) + 1
    _statuses[response.status_code] = _statuses.get(response.status_code, 0) + 1


def test_fuzz_report(figures: dict[str, str]) -> None:
    """Runs after the fuzz test (same module, file order): how many cases it sent, and what came back."""
    if not _cases:
        pytest.skip("the fuzz test did not run in this session")
    figures["fuzz cases (schemathesis, in process)"] = (
        f"{sum(_cases.values())} requests over {len(_cases)} operations; statuses "
        + ", ".join(f"{status}: {count}" for status, count in sorted(_statuses.items()))
    )
    assert not any(status >= 500 for status in _statuses)
