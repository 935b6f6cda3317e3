"""The `kb` command over a small index (hashing embedder): `kb ask --json` gives what POST /ask gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb.cli import app
from kb.config import Settings
from kb.testing import HashingEmbedder
from tests.api.conftest import build, write_notes

QUESTION = "How long does SQS keep messages?"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    build(write_notes(root / "notes"), root / "index")
    return root / "index"


@pytest.fixture(autouse=True)
def hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kb.core.get_embedder", lambda settings: HashingEmbedder())


def kb(*args: str):
    return CliRunner().invoke(app, list(args))


def test_ask_json_is_what_the_api_answers(index_dir: Path) -> None:
    from api.app import create_app

    result = kb("ask", QUESTION, "--json", "--index", str(index_dir))
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.stdout)
    with TestClient(create_app(Settings(index_dir=index_dir))) as client:
        from_api = client.post("/ask", json={"question": QUESTION}).json()
    assert from_cli == from_api
    assert from_cli["abstained"] is False and from_cli["citations"]


def test_ask_prints_the_answer_then_each_citation_with_its_context(index_dir: Path) -> None:
    result = kb("ask", QUESTION, "--index", str(index_dir))
    assert result.exit_code == 0, result.output
    answer = json.loads(kb("ask", QUESTION, "--json", "--index", str(index_dir)).stdout)
    assert result.stdout.startswith(answer["answer"])
    for c in answer["citations"]:
        assert f"  [{c['n']}] {c['file']}:{c['start_line']}  ({c['context']})" in result.stdout


def test_ask_with_an_empty_question_fails_with_a_clear_message(index_dir: Path) -> None:
    result = kb("ask", "   ", "--index", str(index_dir))
    assert result.exit_code != 0
    assert "empty" in result.output.lower() and "Traceback" not in result.output


def test_search_and_ask_without_k_take_the_settings_defaults(index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_DEFAULT_K", "2")
    monkeypatch.setenv("KB_DEFAULT_ASK_K", "1")
    found = json.loads(kb("search", "sqs messages", "--json", "--index", str(index_dir)).stdout)
    answer = json.loads(kb("ask", QUESTION, "--json", "--index", str(index_dir)).stdout)
    assert len(found["results"]) == 2 and len(answer["passages"]) == 1
    given = json.loads(kb("search", "sqs messages", "--k", "3", "--json", "--index", str(index_dir)).stdout)
    assert len(given["results"]) == 3


@pytest.mark.parametrize(
    ("host", "keys", "warned"),
    [("0.0.0.0", "", True), ("192.168.1.20", "", True), ("0.0.0.0", "k1", False), ("127.0.0.1", "", False), ("localhost", "", False)],
)
def test_serve_warns_when_it_listens_beyond_this_machine_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, keys: str, warned: bool
) -> None:
    if keys:
        monkeypatch.setenv("KB_API_KEYS", keys)
    # No index there: serve stops before listening, after saying what it would have exposed.
    result = kb("serve", "--host", host, "--index", str(tmp_path / "none"))
    assert result.exit_code == 3
    assert ("WARNING: listening on" in result.output) is warned, result.output
    if warned:
        assert "with no API key: anyone who can reach this machine can read your notes" in result.output
        assert "KB_API_KEYS" in result.output


@pytest.fixture
def served_by(monkeypatch: pytest.MonkeyPatch):
    """Route the CLI's HTTP client to an in-process app serving `index`, and make the local load fail loudly."""
    from api.app import create_app

    def serve(index: Path) -> None:
        client = TestClient(create_app(Settings(index_dir=index)))
        client.__enter__()
        monkeypatch.setattr("httpx.Client", lambda base_url, headers, timeout: _Unclosed(client))
        monkeypatch.setattr("kb.cli.common._listening", lambda url: True)  # the in-process app has no socket

    return serve


def test_the_server_probe_is_a_plain_connect() -> None:
    import socket

    from kb.cli.common import _listening

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert _listening(f"http://127.0.0.1:{port}")
    assert not _listening(f"http://127.0.0.1:{port}")  # closed: refused at once, no HTTP client imported
    assert not _listening("not a url")


class _Unclosed:
    """The TestClient as a context manager that leaves it open (the fixture owns it)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __enter__(self) -> TestClient:
        return self.client

    def __exit__(self, *exc: object) -> None:
        return None


def test_search_and_ask_use_a_server_that_serves_the_same_build(index_dir: Path, served_by, monkeypatch) -> None:
    local = json.loads(kb("ask", QUESTION, "--json", "--index", str(index_dir)).stdout)
    served_by(index_dir)
    monkeypatch.setattr("kb.cli.query.knowledge_base", lambda index=None: pytest.fail("loaded the index locally"))
    result = kb("ask", QUESTION, "--json", "--index", str(index_dir))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == local
    result = kb("search", "sqs retention", "--k", "2", "--json", "--index", str(index_dir))
    assert result.exit_code == 0 and len(json.loads(result.stdout)["results"]) == 2


def test_a_server_of_another_build_is_not_used(index_dir: Path, served_by, tmp_path: Path, monkeypatch) -> None:
    from kb.cli import query

    other = tmp_path / "other"
    build(write_notes(tmp_path / "notes"), other)
    served_by(other)
    loaded = []
    real = query.knowledge_base
    monkeypatch.setattr("kb.cli.query.knowledge_base", lambda index=None: loaded.append(index) or real(index))
    result = kb("ask", QUESTION, "--json", "--index", str(index_dir))
    assert result.exit_code == 0 and loaded == [index_dir]


def test_the_kb_script_answers_from_the_real_index_and_exits_with_the_commands_code(real_index_dir: Path) -> None:
    """The console script ends a command that loaded the index here without the interpreter's teardown
    (kb.cli.main): the answer must still be printed in full, and an error still exit 2."""
    import subprocess

    from kb.testing import kb_command, server_env

    env = server_env(KB_INDEX_DIR=str(real_index_dir), KB_API_URL="http://127.0.0.1:9")  # no server there
    done = subprocess.run([*kb_command(), "ask", "How long does SQS keep messages?", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["citations"] and "4 days" in answer["answer"]
    bad = subprocess.run([*kb_command(), "ask", "   "], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "empty" in bad.stderr
