"""Browsing: the services the notes cover, a service's passages, one passage with the lines around it."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import KnowledgeBaseDep
from api.routes import BAD_REQUEST, NO_INDEX, NOT_FOUND
from api.schemas import FilePassages, NoteText, ServiceDetail, ServiceList
from kb.config import DEFAULTS
from kb.models import PassageContext

router = APIRouter(tags=["browse"])


@router.get("/services", response_model=ServiceList, summary="Services the notes cover", responses=NO_INDEX)
def list_services(knowledge_base: KnowledgeBaseDep) -> ServiceList:
    """Catalogue services mentioned in the notes, with how many passages each has."""
    return ServiceList(services=knowledge_base.services())


@router.get(
    "/services/{service_id}",
    response_model=ServiceDetail,
    summary="A service and all its passages",
    responses={**NOT_FOUND, **NO_INDEX},
)
def service_detail(
    knowledge_base: KnowledgeBaseDep,
    service_id: Annotated[str, Path(description="Catalogue id, name or alias", examples=["sqs"])],
) -> ServiceDetail:
    """The service and its passages grouped by file, in line order; 404 with `suggestions` for an unknown name."""
    info, chunks = knowledge_base.service_passages(service_id)
    files = [FilePassages(file=name, passages=list(group)) for name, group in groupby(chunks, key=lambda c: c.file)]
    return ServiceDetail(service=info, files=files)


@router.get(
    "/passages/{passage_id}",
    response_model=PassageContext,
    summary="One passage with the lines around it",
    responses={**BAD_REQUEST, **NOT_FOUND, **NO_INDEX},
)
def passage(
    knowledge_base: KnowledgeBaseDep,
    passage_id: Annotated[str, Path(description="A passage id from /search, /ask or /services")],
    context: Annotated[
        int, Query(ge=0, le=DEFAULTS.max_passage_context, description="Lines of the file to show before and after")
    ] = DEFAULTS.default_passage_context,
) -> PassageContext:
    """The passage and up to `context` lines before and after it, from its note file (by id only, never by path)."""
    return knowledge_base.passage(passage_id, context=context)


@router.get("/notes/{file}", response_model=NoteText, summary="A whole note file, line by line", responses={**NOT_FOUND, **NO_INDEX})
def note(
    knowledge_base: KnowledgeBaseDep,
    file: Annotated[str, Path(description="A note file name as citations give it", examples=["aws-saa-notes.txt"])],
) -> NoteText:
    """Every line of one indexed note file, so a citation's `file:line` can be opened in place (only files of the
    index can be read)."""
    return NoteText(file=file, lines=knowledge_base.file_lines(file))
