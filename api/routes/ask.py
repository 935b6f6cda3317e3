"""POST /ask: a short answer quoted from the notes, every sentence cited to its lines (or an abstention)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep
from api.limits import ModelSlotsDep
from api.routes import BAD_REQUEST, NO_INDEX, NOT_FOUND
from api.schemas import AskRequest
from kb.models import Answer

router = APIRouter(tags=["ask"])


@router.post(
    "/ask",
    response_model=Answer,
    summary="Answer a question from the notes, with citations",
    responses={**BAD_REQUEST, **NOT_FOUND, **NO_INDEX},
)
async def ask(body: AskRequest, knowledge_base: KnowledgeBaseDep, model: ModelSlotsDep) -> Answer:
    """1-4 sentences quoted verbatim from the best passages, each citation giving its file and lines.

    When the notes do not cover the question, `abstained` is true and `passages` still lists the closest ones.
    """
    # The model slot covers the model work only: an optional language model answers over the network for up to
    # KB_LLM_TIMEOUT_S, and holding a slot that long would stall every /search behind it.
    async with model.hold():
        answer = await run_in_threadpool(knowledge_base.extract_answer, body.question, k=body.k, service=body.service)
    return await run_in_threadpool(knowledge_base.rewrite_with_llm, answer)
