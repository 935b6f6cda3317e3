"""One structured access-log line per request (logger "notes_kb.access"), without query text unless asked for.

A line is a JSON object: method, route (the template, e.g. /passages/{passage_id}, never the raw path), status,
ms and client (`key:<8 hex>` for a valid key, else `ip:<salted hash>`). Keys are never logged. With
KB_LOG_QUERIES=true it also holds `query`: the `q` parameter or the JSON body's question.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import BODY_SCOPE_KEY
from api.security import Access

ACCESS_LOGGER = "notes_kb.access"
access_log = logging.getLogger(ACCESS_LOGGER)

_QUERY_FIELDS = ("question", "q", "services")
_MAX_LOGGED_QUERY = 300


class _DropUvicornAccess(logging.Filter):
    """uvicorn's own access line repeats ours and carries the full query string: drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def install_access_logging() -> None:
    """Make sure access lines reach stderr under `kb serve` (where nothing else handles them), once per process."""
    if access_log.level == logging.NOTSET:
        access_log.setLevel(logging.INFO)
    if not access_log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        access_log.addHandler(handler)
    uvicorn_access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _DropUvicornAccess) for f in uvicorn_access.filters):
        uvicorn_access.addFilter(_DropUvicornAccess())


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if getattr(route, "path", None):
        return route.path
    # /docs and /openapi.json are plain routes without parameters: their path is their template.
    return scope["path"] if "endpoint" in scope else "(no route)"


def _query_text(scope: Scope) -> str | None:
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if name == "q":
            return value[:_MAX_LOGGED_QUERY]
    body = scope.get(BODY_SCOPE_KEY)
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        for field in _QUERY_FIELDS:
            if field in data:
                return str(data[field])[:_MAX_LOGGED_QUERY]
    return None


class AccessLog:
    """ASGI middleware that logs every HTTP request once it is answered (or has failed)."""

    def __init__(self, app: ASGIApp, access: Access, log_queries: bool = False) -> None:
        self.app = app
        self.access = access
        self.log_queries = log_queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # stays 0 when the client left before any answer

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException:
            status = status or 500
            raise
        finally:
            self._log(scope, status, (time.perf_counter() - started) * 1000)

    def _log(self, scope: Scope, status: int, ms: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        caller = self.access.identify(Headers(scope=scope), client[0] if client else None)
        fields: dict[str, object] = {
            "method": scope["method"],
            "route": _route_template(scope),
            "status": status,
            "ms": round(ms, 1),
            "client": caller.id,
        }
        if self.log_queries:
            query = _query_text(scope)
            if query is not None:
                fields["query"] = query
        access_log.info(json.dumps(fields, ensure_ascii=False), extra={"access": fields})
