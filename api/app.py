"""create_app: the FastAPI application over one KnowledgeBase, loaded once and kept on app.state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.routing import Route
from starlette.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.limits import BodyGuard, ModelSlots, model_slot
from api.logging import AccessLog, install_access_logging
from api.mcp import MCP_PATH, McpEndpoint
from api.reindex import Reindexer
from api.routes import admin, ask, compare, error_response, health, search, services
from api.security import Access, rate_limit, require_admin, require_api_key
from api.serving import Serving, open_knowledge_base, settle_after_load
from kb.config import Settings, get_settings

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

DESCRIPTION = """
Search your study notes and get answers that cite the exact lines they come from. Made for chat bots.

* `GET /search?q=...` returns passages, best first. Each passage is exactly lines `start_line`..`end_line`
  (1-based, inclusive) of the note `file`, so a bot can link or quote it as it is.
* `POST /ask {"question": "..."}` returns a short answer made only of sentences quoted from the notes. Each
  `[n]` refers to a citation that gives its file, its lines, the words quoted and their `context` (the heading
  and parent bullet the line sits under: show it beside a short quote). When the notes do not cover
  the question, `abstained` is true. Say so to the user rather than guess.
* `GET /services`, `GET /services/{id}` and `GET /passages/{id}?context=3` let you browse what the notes hold.

Errors always have the same JSON body, `{"detail": "<readable message>", "error": "<kind>", ...}`:
422 `BadQuery` (empty or over-long query, `k` out of 1..50, bad parameter), 404 `UnknownService` (with
`suggestions`) or `NotFound`, 503 `IndexNotBuilt` / `IndexCorrupt` (build the index with `kb ingest`),
500 `InternalError`.

The same tools are served to language-model assistants over MCP (Model Context Protocol, streamable HTTP) at
`/mcp`, behind the same keys and limits: `search`, `ask`, `compare`, `list_services`, `get_passage`, and each
note file as the resource `note://<file>`. `kb mcp` serves them over stdio.

The server picks up a new index written by `kb ingest` within a second. You do not need to restart it.
Each answer names the index build it came from in the `X-Index-Build` header.

When the server is configured with API keys, every route but `/health` needs one, sent as `X-API-Key: <key>`
or `Authorization: Bearer <key>` (401 `Unauthorized` otherwise). `/admin/reindex` needs an admin key (403
`Forbidden` for an ordinary key). Other limits: 429 `TooManyRequests` with `Retry-After` past the per-client
rate, 413 `ContentTooLarge` for a request body over the size limit, 503 `Overloaded` with `Retry-After` when
the model is busy for longer than the request timeout.
"""

BODY_DOCS = {413: error_response("The request body is over the size limit")}
RATE_DOCS = {429: error_response("Too many requests from this client: wait `Retry-After` seconds")}
KEY_DOCS = {401: error_response("No API key, or one that is not valid")}
BUSY_DOCS = {503: error_response("No usable index, or the model stayed busy past the timeout (`Retry-After`)")}
ADMIN_DOCS = {
    401: error_response("No admin key, or one that is not valid"),
    403: error_response("An ordinary API key, or admin routes are disabled (no admin key set)"),
}


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
    model_slots = ModelSlots(settings.model_concurrency, settings.request_timeout_s)
    access = Access(settings)
    mcp = McpEndpoint(access, serving, model_slots, settings.api_host, _version())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if serving.knowledge_base is None:
            await run_in_threadpool(serving.load)
        else:
            settle_after_load()  # loaded before (preload): what load() does after loading
        if settings.index_watch:
            serving.watch()
        try:
            async with mcp.running():
                yield
        finally:
            await run_in_threadpool(serving.stop_watching)

    # FastAPIOffline serves /docs and /redoc with the Swagger UI and ReDoc files its package ships: no CDN.
    app = FastAPIOffline(title="notes-kb API", description=DESCRIPTION, version=_version(), lifespan=lifespan)
    app.state.settings = settings
    app.state.serving = serving
    app.state.access = access
    app.state.model_slots = model_slots
    app.state.reindexer = Reindexer(settings, serving)
    install_error_handlers(app)
    # Every router is included here, and only here, with what guards it. /health stays open (load balancers,
    # `kb serve` checks); /docs and /openapi.json too, as they describe the API and hold no notes.
    limited = [Depends(rate_limit)] if access.limiter else []
    keyed = [Depends(require_api_key)] if access.keys_required else []
    guarded, guarded_docs = [*limited, *keyed], {**BODY_DOCS, **(RATE_DOCS if limited else {}), **(KEY_DOCS if keyed else {})}
    # Search, ask and compare embed the query: they take a model slot, so a burst queues instead of piling up.
    # /ask takes its own, for its model work only (api/routes/ask.py).
    model = Depends(model_slot, scope="function")
    for module, guards, docs in (
        (health, [], {}),
        (search, [*guarded, model], {**guarded_docs, **BUSY_DOCS}),
        (ask, guarded, {**guarded_docs, **BUSY_DOCS}),
        (compare, [*guarded, model], {**guarded_docs, **BUSY_DOCS}),
        (services, guarded, guarded_docs),
        (admin, [*guarded, Depends(require_admin)], {**guarded_docs, **ADMIN_DOCS}),
    ):
        app.include_router(module.router, dependencies=guards, responses=docs)
    # The MCP endpoint is a plain ASGI app, not a router: it applies the same rate limit and keys itself.
    app.router.routes.append(Route(MCP_PATH, mcp, name="mcp"))
    # The middleware added last is the outermost: the access log wraps the body guard and logs its 413s and 422s.
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog, access=access, log_queries=settings.log_queries)
    install_access_logging()
    return app
