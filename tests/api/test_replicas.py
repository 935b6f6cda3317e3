"""Two `kb serve` replicas on one index folder, under load from 16 clients, through a rebuild made by one of them.

Each replica is a real server process over real HTTP (as behind a load balancer); replica A is asked to
`POST /admin/reindex` after a note changed, and replica B must find the new build by itself (its background
check of the shared folder). Nothing may fail, and both must serve the new build afterwards. The notes are one
shipped note, so the rebuild takes seconds, not minutes.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kb.config import Settings
from kb.testing import LOAD_QUESTIONS, clients_running, free_port, reindex_and_wait, running, serve_command, server_env, wait_http
from tests.conftest import SHIPPED_NOTES

CLIENTS = 16
REINDEX_AFTER_S = 3.0
# Load goes on this long after both replicas answered from the new build.
AFTER_SWAP_S = 3.0
NOTE = "aws-advanced-topics.md"
EDIT = "\nSQS long polling waits up to 20 seconds for a message to arrive (added by the replica test).\n"
QUESTIONS = [*LOAD_QUESTIONS, "How long does SQS long polling wait for a message?"]


@dataclass
class Replicas:
    urls: list[str]
    notes_dir: Path
    admin_key: str
    logs: list[Path]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Two `kb serve` processes on one index of one shipped note, both able to rebuild it (same notes, admin key)."""
    from ingest.build import build_index
    from kb.embedder import get_embedder

    root = tmp_path_factory.mktemp("replicas")
    notes_dir = root / "notes"
    notes_dir.mkdir()
    shutil.copy(SHIPPED_NOTES / NOTE, notes_dir / NOTE)
    index_dir = root / "index"
    settings = Settings(index_dir=index_dir, notes_dir=notes_dir)
    build_index(notes_dir, index_dir, get_embedder(settings), max_tokens=settings.chunk_max_tokens)
    admin_key = secrets.token_urlsafe(24)
    env = server_env(KB_NOTES_DIR=str(notes_dir), KB_ADMIN_KEYS=admin_key)
    ports = [free_port(), free_port()]
    logs = [root / f"replica-{name}.log" for name in "ab"]
    with ExitStack() as stack:
        # Both start at once (each loads the model); then both must answer.
        processes = [stack.enter_context(running(serve_command(index_dir, port), log, env)) for port, log in zip(ports, logs)]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process, log in zip(urls, processes, logs):
            wait_http(f"{url}/health", 180, process, log)
        yield Replicas(urls, notes_dir, admin_key, logs)


@dataclass
class Tally:
    builds: list[tuple[int, str]] = field(default_factory=list)  # (replica, X-Index-Build) of every 200
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def newest_from(self, replica: int) -> str | None:
        with self.lock:
            return next((build for r, build in reversed(self.builds) if r == replica), None)


def client_loop(urls: list[str], number: int, stop: threading.Event, tally: Tally) -> None:
    """One client: every request goes to the next replica in turn (round robin, as a load balancer would)."""
    n = number
    clients = [httpx.Client(base_url=url, timeout=60) for url in urls]
    try:
        while not stop.is_set():
            replica = n % len(urls)
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            try:
                if n % 2:
                    response = clients[replica].get("/search", params={"q": question, "k": 10})
                else:
                    response = clients[replica].post("/ask", json={"question": question})
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.failures.append(f"replica {replica}: {type(exc).__name__}: {exc}")
                continue
            with tally.lock:
                tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
                if response.status_code == 200:
                    tally.builds.append((replica, response.headers.get("x-index-build", "")))
    finally:
        for client in clients:
            client.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_replicas_on_one_index_both_serve_a_rebuild_under_load(replicas: Replicas, figures: dict[str, str]) -> None:
    before = {httpx.get(f"{url}/health", timeout=10).json()["build_id"] for url in replicas.urls}
    assert len(before) == 1
    old = before.pop()

    tally = Tally()
    started = time.monotonic()
    with clients_running(client_loop, replicas.urls, CLIENTS, tally):
        time.sleep(REINDEX_AFTER_S)
        with (replicas.notes_dir / NOTE).open("a", encoding="utf-8") as note:
            note.write(EDIT)
        job = reindex_and_wait(replicas.urls[0], replicas.admin_key, 120)
        assert job["state"] == "succeeded", job
        new = job["result"]["build_id"]
        rebuilt_after = time.monotonic() - started
        # Replica B was not asked: it must find the build in the shared folder within a few checks.
        deadline = time.monotonic() + 30
        while not all(tally.newest_from(replica) == new for replica in (0, 1)) and time.monotonic() < deadline:
            time.sleep(0.1)
        followed_after = time.monotonic() - started
        time.sleep(AFTER_SWAP_S)
    seconds = time.monotonic() - started

    assert tally.failures == []
    assert set(tally.statuses) == {200}, tally.statuses
    assert new != old
    assert {build for _, build in tally.builds} == {old, new}
    for replica in (0, 1):
        served = [build for r, build in tally.builds if r == replica]
        assert old in served and served[-1] == new, (replica, served.count(old), served.count(new))
    for url in replicas.urls:
        assert httpx.get(f"{url}/health", timeout=10).json()["build_id"] == new
        found = httpx.get(f"{url}/search", params={"q": "long polling waits up to 20 seconds", "k": 5}, timeout=30).json()
        assert any("added by the replica test" in hit["text"] for hit in found["results"]), url
    for log in replicas.logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and " ERROR " not in text
        assert replicas.admin_key not in text
    requests = sum(tally.statuses.values())
    figures["replicas: 2 servers, 16 clients, one rebuild"] = (
        f"{requests} requests in {seconds:.0f} s ({requests / seconds:.1f}/s); rebuilt by A after {rebuilt_after:.1f} s, "
        f"both replicas answering from it after {followed_after:.1f} s; "
        f"{sum(1 for _, b in tally.builds if b == old)} answers from the old build, "
        f"{sum(1 for _, b in tally.builds if b == new)} from the new; 0 errors"
    )
