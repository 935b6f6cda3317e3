"""Every route and every error of the API, in process (TestClient) over a small index built with the hashing embedder."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.config import Settings
from kb.core import KnowledgeBase
from kb.errors import IndexCorrupt, IndexNotBuilt
from kb.testing import HashingEmbedder
from tests.api.conftest import NOTES, build, note_lines, write_notes

SQS_QUESTION = "How long does SQS keep messages?"


def assert_error(response, status: int, error: str) -> dict:
    """An error response: the status, JSON with a readable detail and the error name, and no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def chunk_id(client: TestClient, file: str, start_line: int) -> str:
    detail = client.get("/services/sqs").json()
    for group in detail["files"]:
        for passage in group["passages"]:
            if passage["file"] == file and passage["start_line"] == start_line:
                return passage["id"]
    raise AssertionError(f"no SQS passage at {file}:{start_line}")


# -- /health ------------------------------------------------------------------------------------------------


def test_health_describes_the_serving_build(client: TestClient, settings: Settings) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert body["status"] == "ok"
    assert body["build_id"] == manifest["build_id"]
    assert body["built_at"] == manifest["built_at"]
    assert body["model"]["name"] == "hashing-test-embedder"
    assert body["chunks"] == 6
    summary = {"chunks": 3, "reader": "markdown", "encoding": "utf-8-sig", "title": None, "tags": []}
    assert body["files"] == {"queues.md": summary, "storage.md": summary}
    assert body["problems"] == []


# -- /search ------------------------------------------------------------------------------------------------


def test_search_cites_exact_lines(client: TestClient, settings: Settings) -> None:
    response = client.get("/search", params={"q": SQS_QUESTION, "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == SQS_QUESTION
    assert 1 <= len(body["results"]) <= 3
    for hit in body["results"]:
        assert hit["text"] == note_lines(settings.notes_dir, hit["file"], hit["start_line"], hit["end_line"])
        assert set(hit) >= {"id", "file", "start_line", "end_line", "service", "heading_path", "text", "score"}


def test_search_bm25_ranks_the_retention_passage_first(client: TestClient) -> None:
    top = client.get("/search", params={"q": "SQS retention of messages days", "mode": "bm25"}).json()["results"][0]
    assert (top["file"], top["start_line"], top["end_line"]) == ("queues.md", 3, 7)
    assert "maximum of 14 days" in top["text"]


def test_search_defaults_to_k_from_settings(client: TestClient) -> None:
    # The index holds 6 chunks, fewer than the default k of 10: all of them can come back, never more.
    results = client.get("/search", params={"q": "messages queue objects function"}).json()["results"]
    assert 1 <= len(results) <= 6
    assert len({hit["id"] for hit in results}) == len(results)


def test_search_service_filter_accepts_names_and_keeps_only_that_service(client: TestClient) -> None:
    for name in ("sqs", "Amazon SQS", "simple queue service"):
        results = client.get("/search", params={"q": "messages", "service": name}).json()["results"]
        assert {(hit["file"], hit["start_line"]) for hit in results} == {("queues.md", 3), ("queues.md", 14), ("storage.md", 12)}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "empty"),
        ({"q": "   \t "}, "empty"),
        ({"q": "\u200b\u200b"}, "empty"),
        ({"q": "x" * 1001}, "limit is 1000"),
        ({"q": "sqs", "k": 0}, "k must be between 1 and 50"),
        ({"q": "sqs", "k": 51}, "k must be between 1 and 50"),
        ({"q": "sqs", "k": -3}, "k must be between 1 and 50"),
        ({"q": "sqs", "k": "ten"}, "query parameter 'k'"),
        ({"q": "sqs", "mode": "fuzzy"}, "query parameter 'mode'"),
        ({}, "query parameter 'q': Field required"),
    ],
)
def test_search_rejects_bad_parameters_with_422(client: TestClient, params: dict, message: str) -> None:
    body = assert_error(client.get("/search", params=params), 422, "BadQuery")
    assert message in body["detail"]


def test_search_accepts_a_query_of_exactly_the_limit(client: TestClient) -> None:
    assert client.get("/search", params={"q": "sqs " * 250}).status_code == 200


def test_search_k_limit_follows_settings(settings: Settings) -> None:
    settings = settings.model_copy(update={"max_k": 2})
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    with TestClient(app) as client:
        assert client.get("/search", params={"q": "sqs", "k": 2}).status_code == 200
        body = assert_error(client.get("/search", params={"q": "sqs", "k": 3}), 422, "BadQuery")
    assert "between 1 and 2" in body["detail"]


def test_search_unknown_service_is_404_with_suggestions(client: TestClient) -> None:
    body = assert_error(client.get("/search", params={"q": "messages", "service": "simple queue servise"}), 404, "UnknownService")
    assert "simple queue servise" in body["detail"]
    assert "sqs" in body["suggestions"]


def test_validation_errors_name_each_field(client: TestClient) -> None:
    body = assert_error(client.get("/search", params={"k": "many", "mode": "x"}), 422, "BadQuery")
    assert {(field["in"], field["name"]) for field in body["fields"]} == {("query", "q"), ("query", "k"), ("query", "mode")}
    assert all(field["message"] in body["detail"] for field in body["fields"])


# -- /ask ---------------------------------------------------------------------------------------------------


def test_ask_answers_with_verbatim_citations(client: TestClient, settings: Settings) -> None:
    response = client.post("/ask", json={"question": "What is the maximum size of an S3 object?"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["abstained"] is False
    assert answer["citations"], answer
    for citation in answer["citations"]:
        assert f"[{citation['n']}]" in answer["answer"]
        assert citation["quote"] in note_lines(settings.notes_dir, citation["file"], citation["start_line"], citation["end_line"])
    assert any("5 TB" in citation["quote"] for citation in answer["citations"])
    assert answer["passages"]


def test_ask_with_service_cites_only_that_service(client: TestClient) -> None:
    answer = client.post("/ask", json={"question": "How long are messages kept?", "k": 2, "service": "sqs"}).json()
    sqs_spans = {("queues.md", 3, 7), ("queues.md", 14, 16), ("storage.md", 12, 14)}
    assert answer["passages"] and len(answer["passages"]) <= 2
    assert all((p["file"], p["start_line"], p["end_line"]) in sqs_spans for p in answer["passages"])


def test_ask_abstains_on_a_product_the_notes_never_mention(client: TestClient) -> None:
    answer = client.post("/ask", json={"question": "What is Amazon Frobnicator used for?"}).json()
    assert answer["abstained"] is True
    assert answer["citations"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "empty"),
        ({"question": "  \n "}, "empty"),
        ({"question": "y" * 1001}, "limit is 1000"),
        ({"question": "sqs", "k": 0}, "k must be between 1 and 50"),
        ({"question": "sqs", "k": 500}, "k must be between 1 and 50"),
        ({}, "body field 'question': Field required"),
        ({"question": ["not", "text"]}, "body field 'question'"),
        ({"question": "sqs", "k": "five"}, "body field 'k'"),
    ],
)
def test_ask_rejects_bad_bodies_with_422(client: TestClient, body: dict, message: str) -> None:
    error = assert_error(client.post("/ask", json=body), 422, "BadQuery")
    assert message in error["detail"]


def test_ask_rejects_malformed_json_readably(client: TestClient) -> None:
    response = client.post("/ask", content=b'{"question": "sqs"', headers={"content-type": "application/json"})
    assert "not valid JSON" in assert_error(response, 422, "BadQuery")["detail"]


def test_ask_rejects_a_missing_body(client: TestClient) -> None:
    assert "request body" in assert_error(client.post("/ask"), 422, "BadQuery")["detail"]


def test_ask_unknown_service_is_404_with_suggestions(client: TestClient) -> None:
    body = assert_error(client.post("/ask", json={"question": "retention", "service": "lamda"}), 404, "UnknownService")
    assert "lambda" in body["suggestions"]


# -- /services and /passages ----------------------------------------------------------------------------------


def test_services_lists_what_the_notes_cover_with_counts(client: TestClient) -> None:
    response = client.get("/services")
    assert response.status_code == 200
    counts = {service["id"]: service["chunk_count"] for service in response.json()["services"]}
    assert counts == {"sqs": 3, "sns": 1, "s3": 1, "s3-lifecycle": 1, "lambda": 2}
    sqs = next(s for s in response.json()["services"] if s["id"] == "sqs")
    assert sqs["name"] == "SQS" and sqs["full_name"] == "Amazon Simple Queue Service" and "sqs" in sqs["aliases"]


def test_service_detail_groups_passages_by_file_in_line_order(client: TestClient, settings: Settings) -> None:
    response = client.get("/services/Amazon SQS")
    assert response.status_code == 200
    body = response.json()
    assert body["service"]["id"] == "sqs"
    assert body["service"]["chunk_count"] == 3
    assert [group["file"] for group in body["files"]] == ["queues.md", "storage.md"]
    assert [[p["start_line"] for p in group["passages"]] for group in body["files"]] == [[3, 14], [12]]
    for group in body["files"]:
        for passage in group["passages"]:
            assert passage["file"] == group["file"]
            assert "sqs" in passage["service"]
            assert passage["text"] == note_lines(settings.notes_dir, passage["file"], passage["start_line"], passage["end_line"])


def test_unknown_service_detail_is_404_with_suggestions(client: TestClient) -> None:
    body = assert_error(client.get("/services/sns-topics-x"), 404, "UnknownService")
    assert body["suggestions"][0] == "sns"
    assert "Did you mean" in body["detail"]


def test_passage_with_context_lines(client: TestClient, settings: Settings) -> None:
    passage_id = chunk_id(client, "queues.md", 14)
    response = client.get(f"/passages/{passage_id}", params={"context": 2})
    assert response.status_code == 200
    body = response.json()
    lines = (settings.notes_dir / "queues.md").read_text().splitlines()
    assert body["passage"]["id"] == passage_id
    assert (body["passage"]["start_line"], body["passage"]["end_line"]) == (14, 16)
    assert body["before_start_line"] == 12 and body["before"] == lines[11:13]
    # The passage ends on the file's last line, so there is nothing after it.
    assert body["after_end_line"] == 16 and body["after"] == []


def test_passage_context_defaults_to_3_and_may_be_0(client: TestClient, settings: Settings) -> None:
    passage_id = chunk_id(client, "storage.md", 12)
    default = client.get(f"/passages/{passage_id}").json()
    assert default["before_start_line"] == 9
    assert default["before"] == (settings.notes_dir / "storage.md").read_text().splitlines()[8:11]
    bare = client.get(f"/passages/{passage_id}", params={"context": 0}).json()
    assert bare["before"] == [] and bare["after"] == []


@pytest.mark.parametrize("context", [-1, 21, "lots"])
def test_passage_context_out_of_range_is_422(client: TestClient, context) -> None:
    passage_id = chunk_id(client, "queues.md", 3)
    body = assert_error(client.get(f"/passages/{passage_id}", params={"context": context}), 422, "BadQuery")
    assert "query parameter 'context'" in body["detail"]


def test_unknown_passage_is_404(client: TestClient) -> None:
    body = assert_error(client.get("/passages/0123456789abcdef"), 404, "NotFound")
    assert "0123456789abcdef" in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/passages/..%2F..%2Fetc%2Fpasswd",
        "/passages/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/passages/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/passages/%2Fetc%2Fpasswd",
        "/passages/..%5C..%5Cwindows%5Cwin.ini",
        "/passages/%2E%2E",
        "/passages/queues.md",
        "/passages/..%2Fnotes%2Fqueues.md",
        "/passages/..%2F..%2Fetc%2Fpasswd?context=20",
    ],
)
def test_a_passage_id_never_becomes_a_file_path(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert_error(response, 404, "NotFound")
    assert "root:" not in response.text
    # Not even an indexed note file can be read by naming it: only passages, by id.
    assert NOTES["queues.md"].splitlines()[4] not in response.text


# -- errors that are not the caller's ------------------------------------------------------------------------


class _BrokenKnowledgeBase:
    """Serves a manifest but fails every search with an unexpected error."""

    manifest = SimpleNamespace(build_id="broken")

    def reload_if_changed(self) -> bool:
        return False

    def search(self, *args, **kwargs):
        raise RuntimeError("secret internal state /home/user/.ssh")


def test_unexpected_errors_are_500_without_details(caplog: pytest.LogCaptureFixture, settings: Settings) -> None:
    app = create_app(settings, knowledge_base=_BrokenKnowledgeBase())  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="api"), TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/search", params={"q": "sqs"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "error": "InternalError"}
    assert "secret" not in response.text
    assert any("RuntimeError" in record.getMessage() and "/search" in record.getMessage() for record in caplog.records)


def test_unknown_route_and_wrong_method_use_the_same_error_shape(client: TestClient) -> None:
    assert_error(client.get("/nowhere"), 404, "NotFound")
    response = client.get("/ask")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "POST"


# -- the index: missing, corrupt, rebuilt by another process ---------------------------------------------------


def test_without_an_index_every_route_but_health_is_503_saying_how_to_build(tmp_path: Path) -> None:
    app = create_app(Settings(index_dir=tmp_path / "empty"))
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "no_index"
        assert "kb ingest" in health.json()["detail"]
        for response in (
            client.get("/search", params={"q": "sqs"}),
            client.post("/ask", json={"question": "sqs"}),
            client.get("/services"),
            client.get("/services/sqs"),
            client.get("/passages/0123456789abcdef"),
        ):
            assert "kb ingest" in assert_error(response, 503, "IndexNotBuilt")["detail"]


def test_a_corrupt_index_is_503_index_corrupt(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "manifest.json").write_text("{not json")
    with TestClient(create_app(Settings(index_dir=index_dir))) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "no_index" and health.json()["error"] == "IndexCorrupt"
        assert "kb ingest" in assert_error(client.get("/services"), 503, "IndexCorrupt")["detail"]


def test_preload_raises_before_serving(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuilt, match="kb ingest"):
        create_app(Settings(index_dir=tmp_path / "empty"), preload=True)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "manifest.json").write_text('{"build_id": "x", "format_version": 1}')
    with pytest.raises(IndexCorrupt, match="kb ingest"):
        create_app(Settings(index_dir=corrupt), preload=True)


def test_preload_loads_the_index_once_before_the_first_request(settings: Settings, hashing_model: None) -> None:
    app = create_app(settings, preload=True)
    loaded = app.state.serving.knowledge_base
    assert loaded is not None
    # Everything a search loads lazily (model weights, catalogue vectors) is loaded before the first request:
    # that request encodes its query and nothing else.
    assert loaded.embedder.calls >= 1
    encoded_before = len(loaded.embedder.encoded)
    with TestClient(app) as client:
        assert client.get("/health").json()["status"] == "ok"
        assert client.get("/search", params={"q": "sqs retention"}).status_code == 200
    assert loaded.embedder.encoded[encoded_before:] == ["sqs retention"]
    assert app.state.serving.knowledge_base is loaded


def test_lifespan_loads_the_index_at_startup(settings: Settings, hashing_model: None) -> None:
    app = create_app(settings)
    assert app.state.serving.knowledge_base is None
    with TestClient(app) as client:
        assert app.state.serving.knowledge_base is not None
        assert client.get("/health").json()["chunks"] == 6


def test_an_index_built_after_startup_is_picked_up(tmp_path: Path, hashing_model: None) -> None:
    notes_dir = write_notes(tmp_path / "notes")
    index_dir = tmp_path / "index"
    # Without the background check, so that the request's own check is the one that finds the build.
    app = create_app(Settings(notes_dir=notes_dir, index_dir=index_dir, index_watch=False))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 503
        build(notes_dir, index_dir)
        app.state.serving.check_interval = 0
        assert client.get("/health").json()["status"] == "ok"
        assert client.get("/search", params={"q": "sqs"}).json()["results"]


def _served_app(tmp_path: Path) -> tuple[Path, Path, object]:
    notes_dir = write_notes(tmp_path / "notes")
    index_dir = tmp_path / "index"
    build(notes_dir, index_dir)
    # Requests check for a new build themselves here (no background check racing them): tests/api/test_serving.py
    # covers the background check.
    settings = Settings(notes_dir=notes_dir, index_dir=index_dir, index_watch=False)
    return notes_dir, index_dir, create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))


def test_a_rebuild_by_another_process_is_served_without_restart(tmp_path: Path) -> None:
    notes_dir, index_dir, app = _served_app(tmp_path)
    with TestClient(app) as client:
        first = client.get("/health").json()["build_id"]
        (notes_dir / "kinesis.md").write_text("# Streaming\n\n## Amazon Kinesis\n\nKinesis keeps records for 24 hours by default.\n")
        build(notes_dir, index_dir)
        app.state.serving.check_interval = 0
        health = client.get("/health").json()
        assert health["build_id"] != first
        assert "kinesis.md" in health["files"]
        assert client.get("/services/kinesis").status_code == 200


def test_the_reload_check_runs_at_most_once_per_interval(tmp_path: Path) -> None:
    notes_dir, index_dir, app = _served_app(tmp_path)
    with TestClient(app) as client:
        first = client.get("/health").json()["build_id"]
        app.state.serving.check_interval = 3600
        (notes_dir / "extra.md").write_text("# Extra\n\n## Amazon SNS\n\nSNS fans out to SQS queues.\n")
        build(notes_dir, index_dir)
        assert client.get("/health").json()["build_id"] == first
        app.state.serving.check_interval = 0
        assert client.get("/health").json()["build_id"] != first


def test_a_failed_reload_keeps_the_old_index_serving_and_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _, index_dir, app = _served_app(tmp_path)
    with TestClient(app) as client:
        first = client.get("/health").json()["build_id"]
        manifest = json.loads((index_dir / "manifest.json").read_text())
        shutil.copytree(index_dir / "builds" / first, index_dir / "builds" / "half-written")
        (index_dir / "builds" / "half-written" / "chunks.faiss").write_bytes(b"truncated")
        (index_dir / "manifest.json").write_text(json.dumps({**manifest, "build_id": "half-written"}))
        app.state.serving.check_interval = 0
        with caplog.at_level(logging.WARNING, logger="api"):
            health = client.get("/health")
            search = client.get("/search", params={"q": "sqs"})
            client.get("/health")
        assert health.status_code == 200 and health.json()["build_id"] == first
        assert search.status_code == 200 and search.json()["results"]
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # said once, not on every check
    assert first in warnings[0] and "kb ingest" in warnings[0]


# -- the OpenAPI description ------------------------------------------------------------------------------------


def test_openapi_documents_routes_models_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "notes-kb API"
    assert "chat bot" in spec["info"]["description"]
    paths = spec["paths"]
    assert set(paths) == {
        "/health", "/search", "/ask", "/compare", "/compare/export", "/services", "/services/{service_id}",
        "/passages/{passage_id}", "/notes/{file}", "/admin/reindex",
    }
    ok_schema = lambda route: route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]  # noqa: E731
    assert ok_schema(paths["/search"]["get"]).endswith("/SearchResult")
    assert ok_schema(paths["/ask"]["post"]).endswith("/Answer")
    assert ok_schema(paths["/passages/{passage_id}"]["get"]).endswith("/PassageContext")
    q = next(p for p in paths["/search"]["get"]["parameters"] if p["name"] == "q")
    assert q["examples"]["sqs"]["value"] == SQS_QUESTION
    assert {"question": SQS_QUESTION} in spec["components"]["schemas"]["AskRequest"]["examples"]
    for status in ("404", "422", "503"):
        assert paths["/search"]["get"]["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert client.get("/docs").status_code == 200


def test_model_routes_run_the_knowledge_base_off_the_event_loop(settings: Settings) -> None:
    # The routes are async and hand the work to a worker thread themselves: a search on the event loop would
    # stall every other request for its whole length.
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    loop_threads: set[int] = set()
    work_threads: set[int] = set()

    async def probe(scope, receive, send):
        loop_threads.add(threading.get_ident())
        await app(scope, receive, send)

    knowledge_base = app.state.serving.knowledge_base
    for name in ("search", "ask", "compare"):
        original = getattr(knowledge_base, name)

        def recording(*args, _original=original, **kwargs):
            work_threads.add(threading.get_ident())
            return _original(*args, **kwargs)

        setattr(knowledge_base, name, recording)
    with TestClient(probe) as client:
        assert client.get("/search", params={"q": SQS_QUESTION}).status_code == 200
        assert client.post("/ask", json={"question": SQS_QUESTION}).status_code == 200
        client.post("/compare", json={"services": ["sqs", "sns"]})
    assert work_threads and loop_threads and not work_threads & loop_threads


def test_a_note_is_served_line_by_line_as_citations_number_it(client: TestClient, small_index) -> None:
    notes_dir, _ = small_index
    response = client.get("/notes/queues.md")
    assert response.status_code == 200
    lines = response.json()["lines"]
    assert lines == (notes_dir / "queues.md").read_text(encoding="utf-8").splitlines()
    hit = client.get("/search", params={"q": "SQS retention"}).json()["results"][0]
    assert "\n".join(client.get(f"/notes/{hit['file']}").json()["lines"][hit["start_line"] - 1 : hit["end_line"]]) == hit["text"]
    missing = client.get("/notes/nope.md")
    assert missing.status_code == 404 and missing.json()["detail"] == "No note file 'nope.md' in the current index."
