"""GET /health: what index is serving, or why none is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import get_serving
from api.schemas import Health
from api.serving import Serving
from kb.errors import KBError
from kb.store.milvus_store import backend_uri

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Is an index serving, and which build",
    responses={503: {"model": Health, "description": "No usable index: status is no_index and detail says how to build it"}},
)
def health(serving: Annotated[Serving, Depends(get_serving)]) -> Health | JSONResponse:
    """The serving build (id, time, model, chunk and file counts, skipped files) and the backend that holds its
    vectors; HTTP 503 with status no_index when none."""
    settings = serving.settings
    where = {"backend": settings.backend, "backend_uri": backend_uri(settings) if settings.backend == "milvus" else None}
    try:
        knowledge_base = serving.current()
    except KBError as exc:
        body = Health(status="no_index", detail=exc.message, error=type(exc).__name__, **where)
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    return Health(**knowledge_base.health().model_dump(), **where)
