"""Limits that keep one client or one burst from taking the server down: request body size, and model slots.

Query length and k are checked by KnowledgeBase itself (KB_MAX_QUERY_CHARS, KB_MAX_K); they are not repeated here.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_body

BODY_SCOPE_KEY = "notes_kb.body"  # the buffered request body, for the access log when KB_LOG_QUERIES is on
RETRY_AFTER_BUSY_S = 1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def unpaired_surrogate(body: bytes) -> str | None:
    """Where a JSON body holds text with an unpaired UTF-16 surrogate (\\ud800), which is not Unicode text; else None.

    JSON may spell one with an escape; Python decodes it into a str that no UTF-8 response can echo back.
    A pair (an emoji written as two escapes) decodes to one real character and is fine.
    """
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own validation says so
    stack: list[tuple[str, object]] = [("the request body", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return where
        elif isinstance(value, dict):
            stack.extend((f"body field '{key}'", item) for key, item in value.items())
            stack.extend(("a body field name", key) for key in value)
        elif isinstance(value, list):
            stack.extend((where, item) for item in value)
    return None


def json_text_problem(content_type: str | None, body: bytes) -> str | None:
    """Why a body that the routes will parse as JSON is not Unicode text (not UTF-8, an unpaired surrogate); else None."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if not body or (media_type and media_type != "application/json" and not media_type.endswith("+json")):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"The request body is not valid JSON: it is not UTF-8 text (byte 0x{body[exc.start]:02x} at {exc.start})."
    where = unpaired_surrogate(body)
    if where is not None:
        return f"{where}: the text holds an unpaired UTF-16 surrogate (such as \\ud800); send Unicode text."
    return None


class BodyGuard:
    """ASGI middleware that reads the request body before any route and refuses what no route should see.

    413 for a body over `max_bytes`, judged by its Content-Length and by the bytes that arrive (a chunked or
    lying upload is cut off at the limit, never buffered whole); 422 for a JSON body that is not Unicode text
    (not UTF-8, or an unpaired surrogate), which the JSON parser would take as a 400 or a route echo as a 500.
    The body (at most `max_bytes`, 64 KB by default) is then handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await self._reject(scope, receive, send, 400, "The Content-Length header is not a number.", "BadRequest")
                return
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before sending its body: nobody to answer
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        scope[BODY_SCOPE_KEY] = bytes(body)
        message = json_text_problem(Headers(scope=scope).get("content-type"), scope[BODY_SCOPE_KEY])
        if message is not None:
            response = JSONResponse(
                error_body(message, "BadQuery", fields=[{"in": "body", "name": None, "message": message}]), status_code=422
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": scope[BODY_SCOPE_KEY], "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than the limit of {self.max_bytes} bytes (KB_MAX_BODY_BYTES)."
        await self._reject(scope, receive, send, 413, message, "ContentTooLarge")

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, status: int, message: str, error: str) -> None:
        # Connection: close, because the rest of the body is never read.
        response = JSONResponse(error_body(message, error), status_code=status, headers={"Connection": "close"})
        await response(scope, receive, send)


class ModelSlots:
    """At most `concurrency` requests do model work at once; the others wait in line, for at most `timeout_s`.

    Waiting happens on the event loop, not in a worker thread, so a burst costs a coroutine per request and not
    a thread or a model's worth of memory; those that wait too long get 503 with Retry-After.
    """

    def __init__(self, concurrency: int, timeout_s: float) -> None:
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.waiting = 0
        self.busy = 0
        self._semaphore = anyio.Semaphore(self.concurrency)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """One slot for the duration of the block, or ApiError 503 after waiting `timeout_s`."""
        self.waiting += 1
        try:
            with anyio.fail_after(self.timeout_s):
                await self._semaphore.acquire()
        except TimeoutError:
            raise ApiError(
                503,
                f"The server is busy: {self.concurrency} requests are using the model and this one waited "
                f"{self.timeout_s:g} s for its turn. Retry shortly.",
                "Overloaded",
                headers={"Retry-After": str(RETRY_AFTER_BUSY_S)},
            ) from None
        finally:
            self.waiting -= 1
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
            self._semaphore.release()


async def model_slot(request: Request) -> AsyncIterator[None]:
    """Router dependency for search and compare: hold a model slot while the route runs. /ask holds one for its
    model work only (ModelSlotsDep), as its optional language model waits on the network."""
    async with request.app.state.model_slots.hold():
        yield


async def get_model_slots(request: Request) -> ModelSlots:
    """The app's model slots (set up by create_app)."""
    return request.app.state.model_slots


ModelSlotsDep = Annotated[ModelSlots, Depends(get_model_slots)]
