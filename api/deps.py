"""Dependencies the routes declare: the served KnowledgeBase (a 503 saying how to build the index when absent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from api.serving import Serving
from kb.core import KnowledgeBase


def get_serving(request: Request) -> Serving:
    """The app's Serving holder (set up by create_app)."""
    return request.app.state.serving


INDEX_BUILD_HEADER = "X-Index-Build"


def get_knowledge_base(serving: Annotated[Serving, Depends(get_serving)], response: Response) -> KnowledgeBase:
    """The loaded KnowledgeBase, refreshed if a newer build is on disk; IndexNotBuilt/IndexCorrupt (503) when none loads.

    The response names the build it answers from (X-Index-Build), so a client can tell when passage ids may change.
    """
    # A plain def: FastAPI runs it in the threadpool, so a reload never blocks the event loop.
    knowledge_base = serving.current()
    response.headers[INDEX_BUILD_HEADER] = str(knowledge_base.manifest.get("build_id"))
    return knowledge_base


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]
