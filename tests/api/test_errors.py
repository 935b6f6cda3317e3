"""The kb error tree mapped to HTTP at the API edge (api/errors.py): status and JSON body per class."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import STATUS_CODES, install_error_handlers
from kb import errors

# The statuses the classes carried themselves before the mapping moved out of kb/errors.py.
EXPECTED = {
    errors.BadQuery: 422,
    errors.UnknownService: 404,
    errors.NotFound: 404,
    errors.IndexNotBuilt: 503,
    errors.IndexCorrupt: 503,
    errors.IndexBusy: 409,
    errors.NoteFormatError: 422,
}


def _client_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def test_every_kb_error_class_has_a_status_in_the_api_table() -> None:
    # The domain's errors; a front end's own (the CLI's BadUsage) never reaches the API.
    domain = {c for c in errors.KBError.__subclasses__() if c.__module__ == errors.__name__}
    assert domain <= set(STATUS_CODES)
    assert STATUS_CODES == EXPECTED


def test_kb_has_no_http_status_codes() -> None:
    assert not any(hasattr(cls, "status_code") for cls in [errors.KBError, *errors.KBError.__subclasses__()])


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda cls: cls.__name__)
def test_a_kb_error_answers_its_status_with_its_name_message_and_details(cls: type[errors.KBError]) -> None:
    response = _client_raising(cls("It went wrong.", suggestions=["sqs"])).get("/boom")
    assert response.status_code == EXPECTED[cls]
    assert response.json() == {"detail": "It went wrong.", "error": cls.__name__, "suggestions": ["sqs"]}


def test_a_subclass_answers_its_parents_status_and_a_bare_kb_error_500() -> None:
    class StaleNote(errors.NotFound):
        pass

    assert _client_raising(StaleNote("gone")).get("/boom").status_code == 404
    response = _client_raising(errors.KBError("plain")).get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "plain", "error": "KBError"}
