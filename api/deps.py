"""Dependencies the routes declare: the served KnowledgeBase (a 503 saying how to build the index when absent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.serving import Serving
from kb.core import KnowledgeBase


async def get_serving(request: Request) -> Serving:
    """The app's Serving holder (set up by create_app)."""
    return request.app.state.serving


INDEX_BUILD_HEADER = "X-Index-Build"


async def get_knowledge_base(serving: Annotated[Serving, Depends(get_serving)], response: Response) -> KnowledgeBase:
    """The loaded KnowledgeBase, refreshed if a newer build is on disk; IndexNotBuilt/IndexCorrupt (503) when none loads.

    The response names the build it answers from (X-Index-Build), so a client can tell when passage ids may change.
    """
    # Dependencies are async so that a request makes one hop to a worker thread (the route's own), not one per
    # dependency. The check for a newer build reads the disk and a reload takes seconds: those go to a thread.
    knowledge_base = serving.ready()
    if knowledge_base is None:
        knowledge_base = await run_in_threadpool(serving.current)
    response.headers[INDEX_BUILD_HEADER] = knowledge_base.manifest.build_id
    return knowledge_base


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]
