"""A faithful fake of the notes-kb API for the UI tests.

The fake is the real ui.client.ApiClient over an httpx.MockTransport that answers each route with canned JSON in
the API's exact shapes (built from kb.models and dumped, as the API does), so the client's parsing and error
handling run exactly as they do against the real server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from kb.compare.export import to_csv, to_markdown
from kb.models import Answer, Cell, CellCitation, Chunk, Citation, ComparisonTable, Hit, PassageContext, ServiceInfo
from ui.client import ApiClient

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
FAKE_URL = "http://fake-kb.test"

SQS_TEXT = "\n".join(
    [
        "asynchronous/event based communication, app -> queue -> app, applications decoupled",
        "",
        "sqs: queue model, sns: pub/sub model, kinesis: real-time streaming",
        "",
        "producers send messages -> sqs queue -> consumers poll messages",
        "",
        "4 days message retention",
        "",
        "can have duplicate messages(at least once delivery), out of order messages(best offer ordering)",
        "",
        "256kb per message",
    ]
)
SQS = Hit(
    id="3f9a2c1d0b7e4a11",
    file="aws-developer-notes.md",
    start_line=1255,
    end_line=1265,
    service=["sqs"],
    heading_path=["AWS Developer", "SQS, SNS, Kinesis:"],
    text=SQS_TEXT,
    score=0.83,
)
SNS = Hit(
    id="77b0e2aa5c3d9f20",
    file="aws-developer-notes.md",
    start_line=1289,
    end_line=1289,
    service=["sns"],
    heading_path=["AWS Developer", "SQS, SNS, Kinesis:"],
    text="SNS - one message to many receivers, fan out",
    score=0.41,
)
# A passage carrying what a note must never be allowed to do to the page: a script, and a Typora image on a local disk.
HOSTILE = Chunk(
    id="0c0ffee0a1b2c3d4",
    file="aws-architect-notes.md",
    start_line=3,
    end_line=6,
    service=["sqs"],
    heading_path=["Region"],
    text="# Region\n\n![1604549225642](C:\\Users\\akayal\\AppData\\Roaming\\Typora\\typora-user-images\\1604549225642.png)\n"
    "<script>alert('owned')</script> queues <b>bold</b>",
)

ANSWER = Answer(
    question="How long are messages kept in SQS?",
    answer="SQS keeps messages for 4 days by default [1]. A message can be delivered more than once [2].",
    abstained=False,
    citations=[
        Citation(n=1, id=SQS.id, file=SQS.file, start_line=1261, end_line=1261, quote="4 days message retention"),
        Citation(
            n=2, id=SQS.id, file=SQS.file, start_line=1263, end_line=1263,
            quote="can have duplicate messages(at least once delivery)",
        ),
    ],
    passages=[SQS, SNS],
)
ABSTENTION = Answer(
    question="What is the capital of France?",
    answer="The notes do not cover this.",
    abstained=True,
    citations=[],
    passages=[SNS],
)
SERVICES = [
    ServiceInfo(id="sqs", name="SQS", full_name="Amazon Simple Queue Service", aliases=["simple queue service"], category="messaging", chunk_count=42),
    ServiceInfo(id="sns", name="SNS", full_name="Amazon Simple Notification Service", aliases=["sns topic"], category="messaging", chunk_count=17),
    ServiceInfo(id="kinesis-data-streams", name="Kinesis Data Streams", full_name="Amazon Kinesis Data Streams", aliases=["kds"], category="analytics", chunk_count=9),
    ServiceInfo(id="dynamodb", name="DynamoDB", full_name="Amazon DynamoDB", aliases=[], category="database", chunk_count=55),
    ServiceInfo(id="amplify", name="Amplify", full_name="AWS Amplify", aliases=[], category="devtools", chunk_count=0),
]
HEALTH = {
    "status": "ok",
    "build_id": "20250101T120000-ab12",
    "built_at": "2025-01-01T12:00:00+00:00",
    "model": {"name": "all-MiniLM-L6-v2", "dimension": 384},
    "chunks": 1234,
    "files": {
        "aws-developer-notes.md": {"chunks": 300, "reader": "markdown"},
        "aws-architect-notes.md": {"chunks": 500, "reader": "typora"},
        "aws-saa-notes.txt": {"chunks": 434, "reader": "notion-text"},
    },
    "problems": [{"file": "broken.md", "reason": "not UTF-8", "line": None}],
}
KINESIS_CITE = CellCitation(
    file="aws-developer-notes.md", start_line=1292, end_line=1293, quote="streams are divided into shards/partitions",
    id="aa11bb22cc33dd44",
)
COMPARISON = ComparisonTable(
    services=["sqs", "sns", "kinesis-data-streams"],
    aspects=["Model", "Retention", "Ordering"],
    cells=[
        Cell(service="sqs", aspect="Model", value="queue model", status="found", citations=[
            CellCitation(file="aws-developer-notes.md", start_line=1257, end_line=1257, quote="sqs: queue model", id=SQS.id)]),
        Cell(service="sns", aspect="Model", value="pub/sub model", status="found", citations=[
            CellCitation(file="aws-developer-notes.md", start_line=1257, end_line=1257, quote="sns: pub/sub model", id=SQS.id)]),
        Cell(service="kinesis-data-streams", aspect="Model", value="real-time streaming, divided into shards", status="found",
             citations=[KINESIS_CITE]),
        Cell(service="sqs", aspect="Retention", value="4 days (default) vs 14 days", status="conflict",
             conflict_reason="two notes give different figures", citations=[
                 CellCitation(file="aws-developer-notes.md", start_line=1261, end_line=1261, quote="4 days message retention", id=SQS.id),
                 CellCitation(file="aws-saa-notes.txt", start_line=2210, end_line=2210, quote="retention up to 14 days", id=None)]),
        Cell(service="sns", aspect="Retention", value="", status="not_in_notes"),
        Cell(service="kinesis-data-streams", aspect="Retention", value="data can be reprocessed", status="found",
             citations=[KINESIS_CITE]),
        Cell(service="sqs", aspect="Ordering", value="best-effort ordering <b>", status="found", citations=[
            CellCitation(file="aws-developer-notes.md", start_line=1263, end_line=1263, quote="out of order messages(best offer ordering)", id=SQS.id)]),
        Cell(service="sns", aspect="Ordering", value="", status="not_in_notes"),
        Cell(service="kinesis-data-streams", aspect="Ordering", value="", status="not_in_notes"),
    ],
)


def _error(status: int, detail: str, error: str, **extra: object) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail, "error": error, **extra})


def fake_api_handler(request: httpx.Request) -> httpx.Response:
    """Answer like the notes-kb API would, from the canned data above."""
    path, params = request.url.path, request.url.params
    if path == "/health":
        return httpx.Response(200, json=HEALTH)
    if path == "/services":
        return httpx.Response(200, json={"services": [s.model_dump() for s in SERVICES]})
    if path.startswith("/services/"):
        service_id = path.removeprefix("/services/")
        found = next((s for s in SERVICES if s.id == service_id), None)
        if found is None:
            return _error(404, f"Unknown service {service_id!r}", "UnknownService", suggestions=["sqs", "sns"])
        files = [
            {"file": "aws-architect-notes.md", "passages": [HOSTILE.model_dump()]},
            {"file": "aws-developer-notes.md", "passages": [Chunk(**SQS.model_dump(exclude={"score"})).model_dump()]},
        ]
        return httpx.Response(200, json={"service": found.model_dump(), "files": files})
    if path == "/search":
        q = params.get("q", "")
        hits = [SQS, SNS] if q.strip() else []
        return httpx.Response(200, json={"query": q, "results": [h.model_dump() for h in hits]})
    if path == "/ask" and request.method == "POST":
        body = json.loads(request.content)
        if not body.get("question", "").strip():
            return _error(422, "The question is empty.", "BadQuery")
        canned = ABSTENTION if "france" in body["question"].lower() else ANSWER
        return httpx.Response(200, json=canned.model_copy(update={"question": body["question"]}).model_dump())
    if path.startswith("/passages/"):
        context = int(params.get("context", 3))
        passage = Chunk(**SQS.model_dump(exclude={"score"}))
        return httpx.Response(
            200,
            json=PassageContext(
                passage=passage,
                before=["", "## SQS, SNS, Kinesis:", ""][-context:] if context else [],
                after=["", "delay queue - by default or using message parameter(DelaySeconds)"][:context],
                before_start_line=passage.start_line - min(context, 3),
                after_end_line=passage.end_line + min(context, 2),
            ).model_dump(),
        )
    if path == "/compare" and request.method == "POST":
        body = json.loads(request.content)
        unknown = [s for s in body["services"] if s not in {s.id for s in SERVICES}]
        if unknown:
            return _error(404, f"Unknown service {unknown[0]!r}", "UnknownService", suggestions=[])
        return httpx.Response(200, json=COMPARISON.model_dump())
    if path == "/compare/export":
        unknown = [s for s in params.get_list("services") if s not in {s.id for s in SERVICES}]
        if unknown:
            return _error(404, f"Unknown service {unknown[0]!r}", "UnknownService", suggestions=[])
        # As GET /compare/export renders it, with the exporter the API and `kb compare` use.
        text = to_csv(COMPARISON) if params.get("format") == "csv" else to_markdown(COMPARISON)
        return httpx.Response(200, text=text, headers={"content-type": "text/plain; charset=utf-8"})
    return _error(404, "Not Found", "NotFound")


class FakeApi:
    """The handler above, recording every request so a test can see what the UI sent."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response] = fake_api_handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def calls(self, method: str, path_prefix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.startswith(path_prefix)]

    def client(self) -> ApiClient:
        return ApiClient(FAKE_URL, transport=httpx.MockTransport(self))


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def fake_client(fake_api: FakeApi) -> ApiClient:
    return fake_api.client()


@pytest.fixture
def make_client() -> Callable[[Callable[[httpx.Request], httpx.Response]], ApiClient]:
    """A client whose transport is the given handler (for error cases)."""
    return lambda handler: ApiClient(FAKE_URL, transport=httpx.MockTransport(handler))


@pytest.fixture
def open_app(fake_client: ApiClient) -> Callable[..., AppTest]:
    """The real ui/app.py in Streamlit's AppTest; it talks to the fake API unless told `client=None`."""

    def open_page(page: str | None = None, *, client: ApiClient | None | bool = True, **query: str) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=30)
        if client is True:
            client = fake_client
        if client:
            app.session_state["api_client"] = client
        app.run()
        if page:
            app.switch_page(f"views/{page}.py")
        for name, value in query.items():
            app.query_params[name] = value
        if page or query:
            app.run()
        return app

    return open_page


@pytest.fixture
def closed_port_url() -> str:
    """The URL of a port nothing listens on: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
