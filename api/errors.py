"""Every error the API returns has one JSON shape: {"detail": a readable message, "error": a name, ...details}."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kb.errors import (
    BadQuery,
    IndexBusy,
    IndexCorrupt,
    IndexNotBuilt,
    KBError,
    NoteFormatError,
    NotFound,
    UnknownService,
)

log = logging.getLogger("api")

_SOURCES = {"query": "query parameter", "path": "path parameter", "body": "body field", "header": "header", "cookie": "cookie"}


# The HTTP status each domain error stands for; kb knows nothing of HTTP, so the mapping lives at this edge.
STATUS_CODES: dict[type[KBError], int] = {
    BadQuery: 422,
    NoteFormatError: 422,
    UnknownService: 404,
    NotFound: 404,
    IndexNotBuilt: 503,
    IndexCorrupt: 503,
    IndexBusy: 409,
}


def status_code_of(exc: KBError) -> int:
    """The status of the nearest class in the error's ancestry that the table names; 500 for any other KBError."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


class ApiError(StarletteHTTPException):
    """An error the HTTP layer raises itself (access, limits), with the `error` name its JSON body gives."""

    def __init__(self, status_code: int, message: str, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code, message, headers)
        self.error = error


def error_body(message: str, error: str, **details: object) -> dict:
    """The JSON body of an error response; details never overwrite the message or the name."""
    body: dict = {"detail": message, "error": error}
    body.update({key: value for key, value in details.items() if key not in body})
    return jsonable_encoder(body)


def _describe(error: dict) -> tuple[dict, str]:
    """One pydantic validation error as (where, readable sentence)."""
    source, *path = error.get("loc") or ("request",)
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        sentence = f"The request body is not valid JSON ({reason})." if reason else "The request body is not valid JSON."
        return {"in": "body", "name": None}, sentence
    name = ".".join(str(part) for part in path) or None
    where = f"{_SOURCES.get(source, source)} '{name}'" if name else ("the request body" if source == "body" else str(source))
    return {"in": source, "name": name}, f"{where}: {error.get('msg', 'invalid value')}"


def _validation_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = []
    sentences = []
    for error in exc.errors():
        where, sentence = _describe(error)
        fields.append({**where, "message": sentence})
        sentences.append(sentence)
    message = "; ".join(sentences) or "The request is not valid."
    # Same name as the domain's own 422 (an empty or too long query), so a client handles one kind of mistake.
    return JSONResponse(error_body(message, BadQuery.__name__, fields=fields), status_code=422)


def _kb_error(request: Request, exc: KBError) -> JSONResponse:
    """A KBError as the response its class stands for (STATUS_CODES, message, details such as suggestions)."""
    return JSONResponse(error_body(exc.message, type(exc).__name__, **exc.details), status_code=status_code_of(exc))


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    name = getattr(exc, "error", None)
    if name is None:
        try:
            name = HTTPStatus(exc.status_code).phrase.replace(" ", "")  # 404 -> NotFound, like kb.errors.NotFound
        except ValueError:
            name = "HTTPError"
    return JSONResponse(error_body(str(exc.detail), name), status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response, so the server logs the traceback; the client sees none.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return JSONResponse(error_body("internal error", "InternalError"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Map the kb error tree, request validation, HTTP errors and anything unexpected to JSON error bodies."""
    app.add_exception_handler(KBError, _kb_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_response)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
