"""Shared fixtures: a clean environment per test, and one real index of the shipped notes per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT, Settings, get_settings

SHIPPED_NOTES = PROJECT_ROOT / "data" / "notes"
SHIPPED_FILES = [
    "aws-advanced-topics.md",
    "aws-architect-notes.md",
    "aws-developer-course.txt",
    "aws-developer-notes.md",
    "aws-saa-notes.txt",
]
EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch):
    """No stray KB_ variables leak into a test, and settings are read afresh."""
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def tmp_index(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped notes indexed once with the real model."""
    from ingest.build import build_index
    from kb.embedder import get_embedder

    index_dir = tmp_path_factory.mktemp("real") / "index"
    settings = Settings(index_dir=index_dir)
    build_index(SHIPPED_NOTES, index_dir, get_embedder(settings), max_tokens=settings.chunk_max_tokens)
    return index_dir


@pytest.fixture(scope="session")
def real_settings(real_index_dir: Path) -> Settings:
    return Settings(index_dir=real_index_dir)


@pytest.fixture(scope="session")
def real_kb(real_settings: Settings):
    from kb.core import KnowledgeBase

    return KnowledgeBase(real_settings)


def shipped_text(name: str) -> str:
    return (SHIPPED_NOTES / name).read_text(encoding="utf-8")


_FIGURES: dict[str, str] = {}


@pytest.fixture
def figures() -> dict[str, str]:
    """Measured figures a test reports; printed at the end of the run."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.section("figures measured by the tests")
        for name, value in _FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture
def llm():
    """A fake OpenAI-compatible LLM server (tests/fake_llm.py): queue replies, read the requests it got."""
    from tests.fake_llm import serve_fake_llm

    with serve_fake_llm() as fake:
        yield fake
