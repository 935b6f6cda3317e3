"""One module of routes per resource; api.app.create_app includes them all in one place."""

from __future__ import annotations

from api.schemas import ErrorBody


def error_response(description: str) -> dict:
    """An error response for `responses=`: always JSON, even on a route whose success is text (/compare/export)."""
    # FastAPI documents a response model under the route's own media type; name application/json explicitly too.
    return {"model": ErrorBody, "description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}


NOT_FOUND = {404: error_response("No such service or passage; `suggestions` lists close service names")}
BAD_REQUEST = {422: error_response("Empty or too long query, k out of range, malformed parameter or body")}
NO_INDEX = {503: error_response("No usable index: the message says how to build it (`kb ingest`)")}
