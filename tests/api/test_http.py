"""The API over real HTTP: `kb serve` as a subprocess on the real index of the shipped notes, called with httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SHIPPED_FILES, SHIPPED_NOTES

SQS_QUESTION = "How long does SQS keep messages?"
KB = [str(Path(sys.executable).with_name("kb"))] if Path(sys.executable).with_name("kb").exists() else [sys.executable, "-m", "kb.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "500"}


def shipped_lines(name: str, start_line: int, end_line: int) -> str:
    """Lines start_line..end_line (1-based, inclusive) of a shipped note, as a chunk's text joins them."""
    return "\n".join((SHIPPED_NOTES / name).read_bytes().decode("utf-8-sig").splitlines()[start_line - 1 : end_line])


@pytest.fixture(scope="module")
def server(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a `kb serve` subprocess, up and answering /health; stopped after the module."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*KB, "serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(real_index_dir)],
            env=server_env(), stdout=log, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"kb serve exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"kb serve did not answer /health in 180 s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # uvicorn stops cleanly on SIGTERM (then re-raises the signal, so the return code is -15): a shutdown, not a crash.
    assert "Application shutdown complete" in log_path.read_text(), log_path.read_text()


@pytest.mark.slow
def test_health_over_http(server: str) -> None:
    response = httpx.get(f"{server}/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert sorted(body["files"]) == sorted(SHIPPED_FILES)
    assert body["chunks"] == sum(info["chunks"] for info in body["files"].values()) > 0
    assert body["model"]["name"] == "all-MiniLM-L6-v2"


@pytest.mark.slow
def test_search_over_http_cites_the_real_lines(server: str, figures: dict[str, str]) -> None:
    started = time.perf_counter()
    response = httpx.get(f"{server}/search", params={"q": SQS_QUESTION, "k": 5}, timeout=30)
    figures["first /search over HTTP after kb serve started"] = f"{time.perf_counter() - started:.2f} s"
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 5
    for hit in results:
        assert hit["file"] in SHIPPED_FILES
        assert hit["text"] == shipped_lines(hit["file"], hit["start_line"], hit["end_line"])
    retention = [hit for hit in results if "4 days" in hit["text"] and "sqs" in hit["service"]]
    assert retention, [(hit["file"], hit["start_line"], hit["end_line"]) for hit in results]


@pytest.mark.slow
def test_ask_over_http_quotes_the_cited_lines_verbatim(server: str) -> None:
    response = httpx.post(f"{server}/ask", json={"question": SQS_QUESTION}, timeout=30)
    assert response.status_code == 200
    answer = response.json()
    assert answer["abstained"] is False
    assert answer["citations"]
    passages = {passage["id"]: passage for passage in answer["passages"]}
    for citation in answer["citations"]:
        assert f"[{citation['n']}]" in answer["answer"]
        assert citation["quote"] in shipped_lines(citation["file"], citation["start_line"], citation["end_line"])
        source = passages[citation["id"]]
        assert source["file"] == citation["file"]
        assert source["start_line"] <= citation["start_line"] <= citation["end_line"] <= source["end_line"]
    assert any("sqs" in passage["service"] for passage in answer["passages"])


@pytest.mark.slow
def test_errors_over_http_are_json_without_tracebacks(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        empty = client.get("/search", params={"q": "  "})
        assert empty.status_code == 422 and empty.json()["error"] == "BadQuery"
        unknown = client.get("/services/simple queue servise")
        assert unknown.status_code == 404 and "sqs" in unknown.json()["suggestions"]
        # uvicorn decodes %2F before routing: the id must still never reach the file system.
        for path in ("/passages/..%2F..%2F..%2Fetc%2Fpasswd", "/passages/%2E%2E", "/passages/aws-saa-notes.txt"):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["error"] == "NotFound"
            assert "root:" not in response.text
        for response in (empty, unknown):
            assert "Traceback" not in response.text


def _serve_and_expect_failure(index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*KB, "serve", "--port", str(free_port()), "--index", str(index_dir)],
        env=server_env(), capture_output=True, text=True, timeout=180,
    )


def test_serve_without_an_index_exits_non_zero_saying_kb_ingest(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _serve_and_expect_failure(empty)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "kb ingest" in message and str(empty) in message
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout


def test_serve_with_a_corrupt_index_exits_non_zero_saying_kb_ingest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{truncated")
    result = _serve_and_expect_failure(tmp_path)
    assert result.returncode != 0
    assert "kb ingest" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
