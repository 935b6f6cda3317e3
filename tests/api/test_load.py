"""Load over real HTTP while the index is rebuilt and swapped: `kb serve` on a free loopback port over a copy of the
real index, 16 concurrent clients for 20 s on /search and /ask, and `POST /admin/reindex` of an edited note.

Nothing may fail: no 5xx, no transport error, and every passage id in an answer belongs to one complete build (the
one its X-Index-Build header names, or the other when the answer straddled the swap), and resolves with
/passages/{id} when the build that answered is the one serving at the end.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kb.testing import LOAD_QUESTIONS, clients_running, kb_serve, reindex_and_wait, server_env
from tests.conftest import SHIPPED_NOTES

CLIENTS = 16
SECONDS = 20.0
REINDEX_AFTER_S = 3.0
EDITED_NOTE = "aws-developer-notes.md"
EDIT = "\nSQS long polling waits up to 20 seconds for a message to arrive (added by the load test).\n"
# The last question asks about the line the edit adds.
QUESTIONS = [*LOAD_QUESTIONS, "How long does SQS long polling wait for a message?"]


@dataclass
class Served:
    base_url: str
    index_dir: Path
    admin_key: str
    log_path: Path


@pytest.fixture(scope="module")
def served_copy(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`kb serve` over copies of the real index and the shipped notes (one note edited), with an admin key."""
    root = tmp_path_factory.mktemp("load")
    notes_dir = root / "notes"
    shutil.copytree(SHIPPED_NOTES, notes_dir)
    with (notes_dir / EDITED_NOTE).open("a", encoding="utf-8") as note:
        note.write(EDIT)
    index_dir = root / "index"
    shutil.copytree(real_index_dir, index_dir, ignore=shutil.ignore_patterns(".lock"))
    admin_key = secrets.token_urlsafe(24)
    log_path = root / "server.log"
    env = server_env(KB_NOTES_DIR=str(notes_dir), KB_ADMIN_KEYS=admin_key)
    with kb_serve(index_dir, log_path=log_path, env=env) as base_url:
        yield Served(base_url, index_dir, admin_key, log_path)


@dataclass
class Answered:
    build: str
    ids: list[str]


@dataclass
class Tally:
    answers: list[Answered] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(base_url: str, number: int, stop: threading.Event, tally: Tally) -> None:
    n = number
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            question = QUESTIONS[n % len(QUESTIONS)]
            n += CLIENTS
            started = time.perf_counter()
            try:
                if n % 2:
                    response = client.get("/search", params={"q": question, "k": 10})
                else:
                    response = client.post("/ask", json={"question": question})
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            ids: list[str] = []
            if response.status_code == 200:
                body = response.json()
                hits = body["results"] if "results" in body else body["passages"]
                ids = [hit["id"] for hit in hits] + [c["id"] for c in body.get("citations", []) if c.get("id")]
            with tally.lock:
                tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
                tally.latencies.append(elapsed)
                if response.status_code == 200:
                    tally.answers.append(Answered(response.headers.get("x-index-build", ""), ids))


def chunk_ids(index_dir: Path, build_id: str) -> set[str]:
    path = index_dir / "builds" / build_id / "chunks.jsonl"
    return {json.loads(line)["chunk"]["id"] for line in path.read_text(encoding="utf-8").splitlines()}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_16_clients_for_20_s_through_a_reindex_lose_nothing(served_copy: Served, figures: dict[str, str]) -> None:
    before = httpx.get(f"{served_copy.base_url}/health", timeout=10).json()["build_id"]
    builds = {before: chunk_ids(served_copy.index_dir, before)}

    tally = Tally()
    started = time.monotonic()
    with clients_running(client_loop, served_copy.base_url, CLIENTS, tally):
        time.sleep(REINDEX_AFTER_S)
        job = reindex_and_wait(served_copy.base_url, served_copy.admin_key, 300)
        assert job["state"] == "succeeded", job
        new = job["result"]["build_id"]
        # The builds' chunk stores are read while both are still on disk (the next rebuild would remove the older).
        builds[new] = chunk_ids(served_copy.index_dir, new)
        swapped_after = time.monotonic() - started
        # Keep the load on for the rest of the 20 s, and at least 3 s on the new build.
        time.sleep(max(SECONDS - (time.monotonic() - started), 3.0))
    seconds = time.monotonic() - started

    assert tally.failures == []
    assert set(tally.statuses) == {200}, tally.statuses
    assert job["result"]["reembedded"] > 0  # the edited note's chunk and line were embedded anew
    served_by = {build: sum(1 for a in tally.answers if a.build == build) for build in builds}
    assert served_by[before] > 0 and served_by[new] > 0, served_by  # the swap happened under load
    assert set(a.build for a in tally.answers) <= set(builds)
    mismatched = 0
    for answered in tally.answers:
        ids = set(answered.ids)
        if not ids <= builds[answered.build]:
            # The header is read just before the search; a swap in between answers from the other, complete build.
            other = next(b for b in builds if b != answered.build)
            assert ids <= builds[other], (answered.build, ids - builds[answered.build])
            mismatched += 1
    assert builds[before] != builds[new]  # the rebuild changed passages, so the check above can tell builds apart
    with httpx.Client(base_url=served_copy.base_url, timeout=30) as client:
        assert client.get("/health").json()["build_id"] == new
        served_ids = {i for a in tally.answers if a.build == new for i in a.ids}
        for passage_id in sorted(served_ids):
            assert client.get(f"/passages/{passage_id}", params={"context": 0}).status_code == 200, passage_id
        edited = client.get("/search", params={"q": "long polling waits up to 20 seconds", "k": 5}).json()["results"]
        assert any(hit["file"] == EDITED_NOTE and "added by the load test" in hit["text"] for hit in edited)

    log = served_copy.log_path.read_text(errors="replace")
    assert "Traceback" not in log and " ERROR " not in log
    assert served_copy.admin_key not in log
    latencies = sorted(tally.latencies)
    figures["load: 16 clients through a reindex"] = (
        f"{len(latencies)} requests in {seconds:.0f} s ({len(latencies) / seconds:.1f}/s), p50 "
        f"{latencies[len(latencies) // 2] * 1000:.0f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms; "
        f"rebuild served after {swapped_after:.1f} s, re-embedded {job['result']['reembedded']}; "
        f"{served_by[before]} answers from the old build, {served_by[new]} from the new, {mismatched} straddling the swap; "
        f"{len(served_ids)} passage ids resolved; 0 errors"
    )
