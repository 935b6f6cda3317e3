"""/mcp: the MCP server (api/mcp_server.py) as streamable HTTP inside the API, behind the API's keys and limits.

The SDK's transport is an ASGI app; it sits behind a small guard that applies what the API's routers apply
(api/security.py): the per-client rate limit, then the API key. The body size limit and the access log are the
app's middleware and so cover /mcp as they cover every route. Tools that embed text take the API's model slots.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from api.errors import error_body
from api.limits import ModelSlots
from api.security import API_KEY_HEADER, Access, is_loopback, presented_key
from api.serving import Serving
from api.mcp_server import build_mcp_server

MCP_PATH = "/mcp"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def session_manager(serving: Serving, slots: ModelSlots, host: str, version: str = "") -> StreamableHTTPSessionManager:
    """The SDK's streamable HTTP transport for the notes' MCP server; run it (`.run()`) for the app's lifetime."""
    server = build_mcp_server(serving, slots, version)
    # Stateless, with plain JSON answers: every tool call stands alone (no session to keep or lose across
    # restarts and reloads), and a client gets one JSON body rather than an event stream.
    security = None
    if host in ("localhost",) or is_loopback(host):
        # Bound to this machine only: refuse requests whose Host or Origin is another name (DNS rebinding from a
        # web page), as the SDK does for its own loopback servers.
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    # Builds the manager that `server.session_manager` then hands out; its own Starlette wrapper goes unused.
    server.streamable_http_app(
        streamable_http_path=MCP_PATH, json_response=True, stateless_http=True, transport_security=security, host=host
    )
    return server.session_manager


class McpEndpoint:
    """The ASGI app at /mcp: 429 past the rate limit, 401 without a valid key, else the MCP transport."""

    def __init__(self, access: Access, serving: Serving, slots: ModelSlots, host: str, version: str = "") -> None:
        self.access = access
        self._make = lambda: session_manager(serving, slots, host, version)
        self.manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The transport's task group for the app's lifetime; a manager runs once, so each lifespan gets its own."""
        self.manager = self._make()
        async with self.manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        client = scope.get("client")
        host = client[0] if client else None
        if self.access.limiter is not None:
            caller = self.access.identify(headers, host)
            wait = self.access.limiter.acquire(caller.id)
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                message = (
                    f"Too many requests: the limit is {self.access.limiter.per_minute} a minute per client. "
                    f"Retry in {retry_after} s."
                )
                await self._refuse(scope, receive, send, 429, message, "TooManyRequests", {"Retry-After": str(retry_after)})
                return
        if self.access.keys_required:
            key = presented_key(headers)
            if key is None:
                message = f"This API needs a key: send it in the {API_KEY_HEADER} header or as `Authorization: Bearer <key>`."
                await self._refuse(scope, receive, send, 401, message, "Unauthorized", _CHALLENGE)
                return
            if self.access.role(key) is None:
                await self._refuse(scope, receive, send, 401, "The API key is not valid.", "Unauthorized", _CHALLENGE)
                return
        if self.manager is None:  # only before the app's lifespan started
            await self._refuse(scope, receive, send, 503, "The MCP endpoint is starting; retry shortly.", "Overloaded", {"Retry-After": "1"})
            return
        await self.manager.handle_request(scope, receive, send)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, message: str, error: str, headers: dict[str, str]
    ) -> None:
        await JSONResponse(error_body(message, error), status_code=status, headers=headers)(scope, receive, send)
