"""A chat-completions server speaking OpenAI's protocol on a free loopback port, for the optional LLM path."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0


@dataclass
class FakeLLM:
    """A chat-completions server on a free loopback port; replies are queued per test, requests recorded."""

    url: str
    requests: list[dict] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def answer(self, content: str) -> None:
        completion = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
        self.replies.append(Reply(body=json.dumps(completion).encode()))

    def raw(self, status: int, body: bytes, delay_s: float = 0.0) -> None:
        self.replies.append(Reply(status, body, delay_s))


@contextmanager
def serve_fake_llm() -> Iterator[FakeLLM]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeLLM(url=f"http://127.0.0.1:{server.server_port}/v1")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            reply = fake.replies.pop(0) if fake.replies else Reply(500, b'{"error": "no reply queued"}')
            if reply.delay_s:
                fake.stop.wait(reply.delay_s)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args) -> None:
            pass

    server.RequestHandlerClass = Handler
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
