"""create_app: the FastAPI application over one KnowledgeBase, loaded once and kept on app.state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.routes import ask, health, search, services
from api.serving import Serving, open_knowledge_base
from kb.config import Settings, get_settings

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

DESCRIPTION = """
Search your study notes and get answers that cite the exact lines they come from. Made for chat bots.

* `GET /search?q=...` returns passages, best first. Each passage is exactly lines `start_line`..`end_line`
  (1-based, inclusive) of the note `file`, so a bot can link or quote it as it is.
* `POST /ask {"question": "..."}` returns a short answer made only of sentences quoted from the notes. Each
  `[n]` refers to a citation that gives its file, its lines and the words quoted. When the notes do not cover
  the question, `abstained` is true. Say so to the user rather than guess.
* `GET /services`, `GET /services/{id}` and `GET /passages/{id}?context=3` let you browse what the notes hold.

Errors always have the same JSON body, `{"detail": "<readable message>", "error": "<kind>", ...}`:
422 `BadQuery` (empty or over-long query, `k` out of 1..50, bad parameter), 404 `UnknownService` (with
`suggestions`) or `NotFound`, 503 `IndexNotBuilt` / `IndexCorrupt` (build the index with `kb ingest`),
500 `InternalError`.

The server picks up a new index written by `kb ingest` within a second. You do not need to restart it.
"""


def _version() -> str:
    try:
        return version("notes-kb")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


def create_app(
    settings: Settings | None = None, preload: bool = False, knowledge_base: "KnowledgeBase | None" = None
) -> FastAPI:
    """The API app. With preload, the index and model load now and a KBError is raised here (so `kb serve` fails fast);
    otherwise they load once at startup, and a missing index makes every route but /health answer 503."""
    settings = settings or get_settings()
    if preload and knowledge_base is None:
        knowledge_base = open_knowledge_base(settings)
    serving = Serving(settings, knowledge_base)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if serving.knowledge_base is None:
            await run_in_threadpool(serving.load)
        yield

    app = FastAPI(title="notes-kb API", description=DESCRIPTION, version=_version(), lifespan=lifespan)
    app.state.settings = settings
    app.state.serving = serving
    install_error_handlers(app)
    # Every router is included here, and only here. Access control and rate limits are meant to be added
    # at this point later, as router dependencies.
    for module in (health, search, ask, services):
        app.include_router(module.router)
    return app
