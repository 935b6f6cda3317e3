"""GET /health: what index is serving, or why none is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import get_serving
from api.schemas import Health
from api.serving import Serving
from kb.errors import KBError
from kb.models import IndexHealth

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Is an index serving, and which build",
    responses={503: {"model": Health, "description": "No usable index: status is no_index and detail says how to build it"}},
)
def health(serving: Annotated[Serving, Depends(get_serving)]) -> IndexHealth | JSONResponse:
    """The serving build (id, time, model, chunk and file counts, skipped files); HTTP 503 with status no_index when none."""
    try:
        knowledge_base = serving.current()
    except KBError as exc:
        body = Health(status="no_index", detail=exc.message, error=type(exc).__name__)
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    return knowledge_base.health()
