"""POST /compare: services side by side, every cell quoted from the notes and cited (GET /compare/export as md or csv)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep
from api.routes import BAD_REQUEST, NO_INDEX, NOT_FOUND
from kb.compare.export import to_csv, to_markdown
from kb.models import ComparisonTable

router = APIRouter(tags=["compare"])

MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8"}


class CompareRequest(BaseModel):
    """Which services to put side by side, and optionally on which aspects."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"services": ["SQS", "SNS", "Kinesis Data Streams"]},
                {"services": ["ALB", "NLB"], "aspects": ["OSI layer", "static IP", "encryption"]},
            ]
        }
    )

    services: list[str] = Field(description="2 to 6 services by catalogue id, name or alias")
    aspects: list[str] | None = Field(
        None, description="Aspects in plain words (at most 12); default: the usual set for the services' family"
    )


@router.post(
    "/compare",
    response_model=ComparisonTable,
    response_model_exclude_none=True,
    summary="Compare services, every cell cited to the notes",
    responses={**BAD_REQUEST, **NOT_FOUND, **NO_INDEX},
)
async def compare(body: CompareRequest, knowledge_base: KnowledgeBaseDep) -> ComparisonTable:
    """One cell per service and aspect: `value` quotes the notes and each citation gives `file`, `start_line`,
    `end_line` and the verbatim `quote`. `status` is `found`, `not_in_notes` (the notes are silent; no guess), or
    `conflict` when two note files state different figures or claims (`conflict_reason` says which).

    An unknown service is a 404 whose `suggestions` lists close names; fewer than 2 or more than 6 services, a 422.
    """
    # One hop to a worker thread, as in /search.
    return await run_in_threadpool(knowledge_base.compare, body.services, body.aspects)


@router.get(
    "/compare/export",
    response_class=PlainTextResponse,
    summary="The same table as markdown or CSV",
    responses={
        200: {"content": {MEDIA_TYPES["md"]: {}, MEDIA_TYPES["csv"]: {}}, "description": "The table as text"},
        **BAD_REQUEST,
        **NOT_FOUND,
        **NO_INDEX,
    },
)
def export(
    knowledge_base: KnowledgeBaseDep,
    services: Annotated[list[str], Query(description="Repeat for each service: services=SQS&services=SNS")],
    aspects: Annotated[list[str] | None, Query(description="Repeat for each aspect; default: the family's set")] = None,
    format: Annotated[Literal["md", "csv"], Query(description="md (a markdown table with sources) or csv (one row a cell)")] = "md",
) -> PlainTextResponse:
    """The comparison table rendered for a document (markdown, citations listed under it) or a spreadsheet (CSV)."""
    table = knowledge_base.compare(services, aspects)
    text = to_markdown(table) if format == "md" else to_csv(table)
    return PlainTextResponse(text, media_type=MEDIA_TYPES[format])
