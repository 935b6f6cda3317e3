"""The API over real HTTP: `kb serve` as a subprocess on the real index of the shipped notes, called with httpx."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kb.testing import free_port, kb_command, kb_serve, server_env
from tests.conftest import SHIPPED_FILES, SHIPPED_NOTES

SQS_QUESTION = "How long does SQS keep messages?"
KB = kb_command()


def shipped_lines(name: str, start_line: int, end_line: int) -> str:
    """Lines start_line..end_line (1-based, inclusive) of a shipped note, as a chunk's text joins them."""
    return "\n".join((SHIPPED_NOTES / name).read_bytes().decode("utf-8-sig").splitlines()[start_line - 1 : end_line])


@pytest.fixture(scope="module")
def server(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a `kb serve` subprocess, up and answering /health; stopped after the module."""
    log_path = tmp_path_factory.mktemp("serve") / "server.log"
    with kb_serve(real_index_dir, log_path=log_path) as base_url:
        yield base_url
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
        expected = shipped_lines(hit["file"], hit["start_line"], hit["end_line"])
        if hit["start_char"] is not None:  # a slice of a line too long for one passage
            expected = expected[hit["start_char"] : hit["end_char"]]
        assert hit["text"] == expected
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


@pytest.mark.slow
def test_a_difference_question_over_http_carries_its_table(server: str) -> None:
    response = httpx.post(f"{server}/ask", json={"question": "What is the difference between SQS and SNS?"}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["comparison"]["services"] == ["SQS", "SNS"]
    sides = {c["context"].split(" · ")[0] for c in body["citations"]}
    assert sides == {"SQS", "SNS"}
    for c in body["citations"]:
        assert c["quote"] in shipped_lines(c["file"], c["start_line"], c["end_line"])
