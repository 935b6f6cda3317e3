"""GET /search: the passages that best answer a query, each cited to its file and lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep
from api.routes import BAD_REQUEST, NO_INDEX, NOT_FOUND
from api.schemas import SQS_QUESTION
from kb.config import DEFAULTS
from kb.retrieval import Mode
from kb.models import SearchResult

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    response_model=SearchResult,
    summary="Search the notes",
    responses={**BAD_REQUEST, **NOT_FOUND, **NO_INDEX},
)
async def search(
    knowledge_base: KnowledgeBaseDep,
    q: Annotated[
        str,
        Query(
            description=f"A question or keywords (at most {DEFAULTS.max_query_chars} characters)",
            openapi_examples={
                "sqs": {"summary": "A question", "value": SQS_QUESTION},
                "keywords": {"summary": "Keywords", "value": "s3 lifecycle glacier"},
            },
        ),
    ],
    k: Annotated[int | None, Query(description=f"How many passages, 1..{DEFAULTS.max_k}; default {DEFAULTS.default_k}")] = None,
    service: Annotated[
        str | None, Query(description="Only passages about this service (catalogue id, name or alias)", examples=["sqs"])
    ] = None,
    mode: Annotated[Mode, Query(description="hybrid (default), dense (embeddings only) or bm25 (words only)")] = "hybrid",
) -> SearchResult:
    """Up to k diverse passages, best first; each is exactly lines start_line..end_line of `file`."""
    # An async route that hands the search to a worker thread itself: one thread hop a request. A plain def would
    # make FastAPI hop once more to validate the returned model, and the event loop waits on both.
    return await run_in_threadpool(knowledge_base.search, q, k=k, service=service, mode=mode)
