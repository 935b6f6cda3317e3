"""A small index of inline notes built with the hashing embedder, and an in-process client over it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.testing import HashingEmbedder, free_port

# Markdown notes: queues.md has SQS (lines 3-7), SNS (9-12) and SQS visibility timeout (14-16);
# storage.md has S3 (3-6), Lambda (8-10) and Lambda + SQS (12-14).
NOTES = {
    "queues.md": """# Messaging

## Amazon SQS

SQS is a fully managed message queue that decouples producers from consumers.
Default retention of messages is 4 days, maximum of 14 days.
A message can be up to 256 KB.

## Amazon SNS

SNS is a pub/sub service that pushes messages to many subscribers.
Messages in SNS are not persisted if delivery fails.

## SQS visibility timeout

After a consumer receives a message it stays invisible to other consumers for 30 seconds by default.
""",
    "storage.md": """# Storage

## Amazon S3

S3 stores objects in buckets; an object can be up to 5 TB.
Lifecycle rules move objects to Glacier after a number of days.

## AWS Lambda

Lambda runs code without servers; a function can run for up to 15 minutes.

## Lambda and SQS

Lambda polls the SQS queue and runs the function with batches of up to 10 messages.
""",
}


def write_notes(notes_dir: Path, notes: dict[str, str] = NOTES) -> Path:
    notes_dir.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (notes_dir / name).write_text(text, encoding="utf-8")
    return notes_dir


def build(notes_dir: Path, index_dir: Path) -> None:
    from ingest.build import build_index

    build_index(notes_dir, index_dir, HashingEmbedder())


def note_lines(notes_dir: Path, name: str, start_line: int, end_line: int) -> str:
    """Lines start_line..end_line (1-based, inclusive) of a note file, joined as a chunk's text is."""
    return "\n".join((notes_dir / name).read_text(encoding="utf-8").splitlines()[start_line - 1 : end_line])


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(notes_dir, index_dir) of the inline notes, built once per test module."""
    root = tmp_path_factory.mktemp("api")
    notes_dir = write_notes(root / "notes")
    index_dir = root / "index"
    build(notes_dir, index_dir)
    return notes_dir, index_dir


@pytest.fixture
def settings(small_index: tuple[Path, Path]) -> Settings:
    notes_dir, index_dir = small_index
    return Settings(notes_dir=notes_dir, index_dir=index_dir)


@pytest.fixture
def client(settings: Settings):
    """The API over the small index, with the lifespan run (as a server would)."""
    from api.app import create_app
    from kb.core import KnowledgeBase

    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def hashing_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """KnowledgeBases that load their own model get the hashing embedder (for apps created without one)."""
    monkeypatch.setattr("kb.core.get_embedder", lambda settings: HashingEmbedder())


@pytest.fixture
def api_server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[str]:
    """The API over the small index served by uvicorn in a thread on a free port (real HTTP, no model to load);
    a test's `@pytest.mark.api_settings(field=value)` changes its settings."""
    import uvicorn

    from api.app import create_app
    from kb.core import KnowledgeBase

    marker = request.node.get_closest_marker("api_settings")
    settings = settings.model_copy(update=marker.kwargs if marker else {})
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
