"""Helpers for tests and benches: a deterministic hashing embedder that needs no model, and `kb serve` (or any
server) as a subprocess on a free loopback port."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Bag-of-words hashed into a fixed number of dimensions: same text, same vector; shared words, closer vectors."""

    def __init__(self, dimension: int = 64, name: str = "hashing-test-embedder") -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = 256
        self.calls = 0
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        return 2 + int(len(_WORD.findall(text.lower())) * 1.3)


class NumpyVectorStore:
    """A brute-force VectorStore over a numpy matrix saved as <name>.npy: the smallest second backend, for tests of
    the store seam (kb/store/base.py)."""

    def __init__(self, matrix: np.ndarray) -> None:
        self._matrix = np.ascontiguousarray(matrix, dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self._matrix.shape[1])

    def __len__(self) -> int:
        return len(self._matrix)

    def search(self, query: np.ndarray, k: int, allowed_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(self)) if allowed_rows is None else np.unique(np.asarray(allowed_rows, dtype=np.int64))
        rows = rows[(rows >= 0) & (rows < len(self))]
        scores = np.asarray(query, dtype=np.float32).reshape(-1, self.dimension) @ self._matrix[rows].T
        order = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, len(rows))]
        return np.take_along_axis(scores, order, axis=1), rows[order]

    def vectors(self) -> np.ndarray:
        return self._matrix.copy()

    def rows(self) -> np.ndarray:
        return self.vectors()

    @classmethod
    def write(cls, directory: Path, name: str, vectors: np.ndarray) -> None:
        np.save(directory / f"{name}.npy", np.asarray(vectors, dtype=np.float32))

    @classmethod
    def open(cls, directory: Path, name: str, expected_rows: int, dimension: int) -> "NumpyVectorStore":
        from kb.errors import IndexCorrupt

        try:
            matrix = np.load(directory / f"{name}.npy")
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"The vector file {directory / name}.npy is unreadable ({exc}).") from exc
        if matrix.shape != (expected_rows, dimension):
            raise IndexCorrupt(f"The vector file {directory / name}.npy holds {matrix.shape}, not ({expected_rows}, {dimension}).")
        return cls(matrix)

    @classmethod
    def drop(cls, directory: Path, name: str) -> None:
        """Nothing to do: the file goes with the build folder."""


# AWS questions the shipped notes answer, asked in turn by the load test and the load and UI latency benches.
LOAD_QUESTIONS = [
    "How long are messages kept in SQS?",
    "What is the maximum size of an SQS message?",
    "What is a FIFO queue?",
    "How does SNS fan out work?",
    "What is a Kinesis shard?",
    "What is the visibility timeout?",
    "How do I enable long polling?",
    "What is a dead letter queue?",
    "How are DynamoDB capacity units calculated?",
    "What storage classes does S3 have?",
    "What is the maximum execution time of a Lambda function?",
    "How does an Application Load Balancer differ from a Network Load Balancer?",
    "What is an EC2 placement group?",
    "When should I use ElastiCache?",
    "How do S3 lifecycle rules work?",
    "What does CloudFront cache?",
]


def free_port() -> int:
    """A loopback port nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without any KB_ variable, offline for the model, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
    # COLUMNS: rich wraps the CLI's messages at the terminal width; wide, they stay on one line for the tests to read.
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "500", **extra}


def kb_command() -> list[str]:
    """The `kb` CLI of this interpreter: its console script when installed, else `python -m kb.cli`."""
    script = Path(sys.executable).with_name("kb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kb.cli"]


def serve_command(index_dir: Path, port: int, extra_args: Sequence[str] = ()) -> list[str]:
    """`kb serve` over index_dir on 127.0.0.1:port."""
    return [*kb_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(index_dir), *extra_args]


@contextmanager
def running(
    command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """A server process writing to log for the length of the block; stopped (by its own pid) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Wait until url answers 200; raise RuntimeError with the process's log when it exited or never came up."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}:\n{_log_text(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s:\n{_log_text(log)}")
        time.sleep(0.25)


def _log_text(log: Path | None) -> str:
    return log.read_text(errors="replace") if log and log.exists() else ""


@contextmanager
def kb_serve(
    index_dir: Path,
    *,
    log_path: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 180,
) -> Iterator[str]:
    """The base URL of `kb serve` over index_dir, answering /health, for the length of the block; stopped after."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = serve_command(index_dir, port, extra_args)
    with running(command, log_path, server_env() if env is None else env) as process:
        wait_http(f"{base_url}/health", timeout, process, log_path)
        yield base_url


def reindex_and_wait(base_url: str, admin_key: str, timeout: float) -> dict:
    """POST /admin/reindex to a running server and follow the job to its end: the finished job (as GET
    /admin/reindex reports it); RuntimeError when the server refuses it or it is still running after timeout."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, headers={"X-API-Key": admin_key}, timeout=30) as admin:
        posted = admin.post("/admin/reindex")
        if posted.status_code != 202:
            raise RuntimeError(f"POST /admin/reindex answered {posted.status_code}: {posted.text}")
        job_id = posted.json()["job_id"]
        while time.monotonic() < deadline:
            status = admin.get("/admin/reindex").json()
            if status["running"] is None and status["last"] and status["last"]["job_id"] == job_id:
                return status["last"]
            time.sleep(0.2)
    raise RuntimeError(f"the reindex job {job_id} did not finish in {timeout:.0f} s")


@contextmanager
def clients_running(client_loop: Callable[..., None], target: object, count: int, tally: object) -> Iterator[None]:
    """`count` threads, each running client_loop(target, number, stop, tally) until the block ends; then the stop
    event is set and every thread joined (a load test's closed-loop clients)."""
    import threading

    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(target, number, stop, tally)) for number in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(90)
