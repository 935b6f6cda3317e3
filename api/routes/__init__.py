"""One module of routes per resource; api.app.create_app includes them all in one place."""

from __future__ import annotations

from api.schemas import ErrorBody

NOT_FOUND = {404: {"model": ErrorBody, "description": "No such service or passage; `suggestions` lists close service names"}}
BAD_REQUEST = {422: {"model": ErrorBody, "description": "Empty or too long query, k out of range, malformed parameter or body"}}
NO_INDEX = {503: {"model": ErrorBody, "description": "No usable index: the message says how to build it (`kb ingest`)"}}
