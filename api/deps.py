"""Dependencies the routes declare: the served KnowledgeBase (a 503 saying how to build the index when absent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.serving import Serving
from kb.core import KnowledgeBase


def get_serving(request: Request) -> Serving:
    """The app's Serving holder (set up by create_app)."""
    return request.app.state.serving


def get_knowledge_base(serving: Annotated[Serving, Depends(get_serving)]) -> KnowledgeBase:
    """The loaded KnowledgeBase, refreshed if a newer build is on disk; IndexNotBuilt/IndexCorrupt (503) when none loads."""
    # A plain def: FastAPI runs it in the threadpool, so a reload never blocks the event loop.
    return serving.current()


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]
