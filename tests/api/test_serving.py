"""api/serving.py: a server follows a build made by another process without any request asking for it."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.serving import Serving
from kb.config import Settings
from kb.core import KnowledgeBase
from kb.testing import HashingEmbedder
from tests.api.conftest import build, write_notes

KINESIS_NOTE = "# Streaming\n\n## Amazon Kinesis\n\nKinesis keeps records for 24 hours by default.\n"


def _wait_for_build(serving: Serving, build_id: str, timeout: float = 10.0) -> bool:
    """Whether the served build becomes build_id within timeout, looking only at what is loaded (no check of its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serving.knowledge_base is not None and serving.knowledge_base.manifest.build_id == build_id:
            return True
        time.sleep(0.05)
    return False


def _current_build(index_dir: Path) -> str:
    import json

    return json.loads((index_dir / "manifest.json").read_text())["build_id"]


def _served(tmp_path: Path) -> tuple[Path, Path, Serving]:
    """(notes folder, index folder, a Serving over them checking every 0.1 s) for the inline test notes."""
    notes_dir = write_notes(tmp_path / "notes")
    index_dir = tmp_path / "index"
    build(notes_dir, index_dir)
    settings = Settings(notes_dir=notes_dir, index_dir=index_dir, index_check_s=0.1)
    return notes_dir, index_dir, Serving(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))


def test_an_idle_server_follows_a_build_made_elsewhere(tmp_path: Path) -> None:
    notes_dir, index_dir, serving = _served(tmp_path)
    first = serving.knowledge_base.manifest.build_id
    serving.watch()
    try:
        (notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
        build(notes_dir, index_dir)
        new = _current_build(index_dir)
        assert new != first
        assert _wait_for_build(serving, new), "the watcher did not load the new build"
        assert "kinesis.md" in serving.knowledge_base.manifest.files
    finally:
        serving.stop_watching()
    assert serving._watcher is None


def test_a_broken_build_elsewhere_leaves_the_watcher_serving_the_old_one_and_the_next_good_one_is_picked_up(
    tmp_path: Path,
) -> None:
    notes_dir, index_dir, serving = _served(tmp_path)
    first = serving.knowledge_base.manifest.build_id
    manifest_path = index_dir / "manifest.json"
    good_manifest = manifest_path.read_text()
    serving.watch()
    try:
        manifest_path.write_text(good_manifest.replace(first, "missing-build"))
        time.sleep(0.6)  # several checks
        assert serving.knowledge_base.manifest.build_id == first
        assert serving._watcher is not None and serving._watcher.is_alive()
        manifest_path.write_text(good_manifest)
        (notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
        build(notes_dir, index_dir)
        assert _wait_for_build(serving, _current_build(index_dir))
    finally:
        serving.stop_watching()


def test_the_app_watches_while_it_runs_and_stops_at_shutdown(tmp_path: Path) -> None:
    notes_dir = write_notes(tmp_path / "notes")
    index_dir = tmp_path / "index"
    build(notes_dir, index_dir)
    settings = Settings(notes_dir=notes_dir, index_dir=index_dir, index_check_s=0.1)
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    serving: Serving = app.state.serving
    with TestClient(app) as client:
        first = client.get("/health").json()["build_id"]
        watcher = serving._watcher
        assert watcher is not None and watcher.is_alive()
        (notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
        build(notes_dir, index_dir)
        new = _current_build(index_dir)
        assert _wait_for_build(serving, new)
        response = client.get("/search", params={"q": "kinesis records"})
        assert response.headers["x-index-build"] == new != first
    assert not watcher.is_alive()


def test_without_index_watch_only_requests_check(tmp_path: Path) -> None:
    notes_dir = write_notes(tmp_path / "notes")
    index_dir = tmp_path / "index"
    build(notes_dir, index_dir)
    settings = Settings(notes_dir=notes_dir, index_dir=index_dir, index_watch=False)
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    with TestClient(app):
        assert app.state.serving._watcher is None
