"""A corrupt index at start: the app refuses to load it and `kb serve` exits non-zero naming the problem and `kb ingest`.

The index is built with a hashing embedder that takes the real model's name and dimension, so that the only thing
wrong with it is the damage each case does (and `kb serve`, which checks against the real model, gets that far).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.app import create_app
from kb.config import Settings
from kb.errors import IndexCorrupt, KBError
from kb.index import CHUNKS_FILE, LINES_FILE, MANIFEST, build_dir
from kb.store.bm25_store import BM25_DIR
from kb.store.faiss_store import CHUNK_VECTORS, LINE_VECTORS
from kb.testing import HashingEmbedder, free_port, kb_command, server_env
from tests.api.conftest import write_notes

KB = kb_command()


def _manifest(index_dir: Path) -> dict:
    return json.loads((index_dir / MANIFEST).read_text())


def _build_of(index_dir: Path) -> Path:
    return build_dir(index_dir, _manifest(index_dir)["build_id"])


def _edit_manifest(index_dir: Path, **changes) -> None:
    manifest = _manifest(index_dir)
    for key, value in changes.items():
        manifest[key] = value
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def _truncate(path: Path, keep: int = 40) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _fewer_vectors(index_dir: Path) -> None:
    """chunks.faiss from a build with one chunk less: the chunk store and the vectors no longer match."""
    import faiss

    path = _build_of(index_dir) / CHUNK_VECTORS
    index = faiss.read_index(str(path))
    smaller = faiss.IndexFlatIP(index.d)
    smaller.add(index.reconstruct_n(0, index.ntotal - 1))
    faiss.write_index(smaller, str(path))


def _drop_last_chunk(index_dir: Path) -> None:
    path = _build_of(index_dir) / CHUNKS_FILE
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


def _drop_last_line(index_dir: Path) -> None:
    path = _build_of(index_dir) / LINES_FILE
    lines = json.loads(path.read_text())
    path.write_text(json.dumps({key: values[:-1] for key, values in lines.items()}))


# name -> (damage, words the error must contain)
CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "missing chunk vectors": (lambda d: (_build_of(d) / CHUNK_VECTORS).unlink(), ("chunks.faiss", "missing")),
    "missing line vectors": (lambda d: (_build_of(d) / LINE_VECTORS).unlink(), ("lines.faiss", "missing")),
    "truncated chunk vectors": (lambda d: _truncate(_build_of(d) / CHUNK_VECTORS), ("chunks.faiss", "damaged")),
    "empty line vectors": (lambda d: _truncate(_build_of(d) / LINE_VECTORS, 0), ("lines.faiss", "damaged")),
    "other model, same dimension": (
        lambda d: _edit_manifest(d, model={"name": "paraphrase-MiniLM-L3-v2", "dimension": 384}),
        ("paraphrase-MiniLM-L3-v2", "all-MiniLM-L6-v2"),
    ),
    "other model, other dimension": (
        lambda d: _edit_manifest(d, model={"name": "all-mpnet-base-v2", "dimension": 768}),
        ("dimension",),
    ),
    "older format version": (lambda d: _edit_manifest(d, format_version=1), ("format version 1",)),
    "newer format version": (lambda d: _edit_manifest(d, format_version=99), ("format version 99",)),
    "manifest not JSON": (lambda d: _truncate(d / MANIFEST, 30), ("manifest", "unreadable")),
    "manifest of something else": (lambda d: (d / MANIFEST).write_text('{"name": "other tool"}'), ("not a notes-kb manifest",)),
    "build directory gone": (lambda d: shutil.rmtree(_build_of(d)), ("missing",)),
    "chunk store shorter than the manifest": (_drop_last_chunk, ("chunk store", "manifest says")),
    "chunk vectors out of step with the chunk store": (_fewer_vectors, ("chunks.faiss", "out of step")),
    "line store out of step with line vectors": (_drop_last_line, ("lines.faiss", "out of step")),
    "chunk store not JSON": (lambda d: (_build_of(d) / CHUNKS_FILE).write_text("{not json\n"), ("chunk store", "unreadable")),
    "lexical index gone": (lambda d: shutil.rmtree(_build_of(d) / BM25_DIR), ("lexical index",)),
}


@pytest.fixture(scope="module")
def pristine_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.build import build_index

    root = tmp_path_factory.mktemp("pristine")
    notes_dir = write_notes(root / "notes")
    build_index(notes_dir, root / "index", HashingEmbedder(dimension=384, name="all-MiniLM-L6-v2"))
    return root / "index"


def damaged(pristine: Path, target: Path, case: str) -> Path:
    shutil.copytree(pristine, target)
    CASES[case][0](target)
    return target


def test_the_undamaged_index_loads(pristine_index: Path) -> None:
    from kb.core import KnowledgeBase

    # The real model's tokenizer and configuration only: no weights are loaded and nothing is embedded.
    knowledge_base = KnowledgeBase(Settings(index_dir=pristine_index))
    assert knowledge_base.manifest.chunk_count == 6


@pytest.mark.parametrize("case", list(CASES))
def test_a_corrupt_index_stops_the_app_before_it_serves(pristine_index: Path, tmp_path: Path, case: str) -> None:
    index_dir = damaged(pristine_index, tmp_path / "index", case)
    with pytest.raises(KBError) as raised:
        create_app(Settings(index_dir=index_dir), preload=True)
    assert isinstance(raised.value, IndexCorrupt), raised.value
    message = raised.value.message
    assert "kb ingest" in message
    for word in CASES[case][1]:
        assert word in message, message


def test_kb_serve_exits_non_zero_on_each_corrupt_index(pristine_index: Path, tmp_path: Path) -> None:
    indexes = {case: damaged(pristine_index, tmp_path / f"index-{n}", case) for n, case in enumerate(CASES)}

    def serve(index_dir: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*KB, "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--index", str(index_dir)],
            env=server_env(), capture_output=True, text=True, timeout=120,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(indexes, pool.map(serve, indexes.values())))
    for case, result in results.items():
        stderr = " ".join(result.stderr.split())
        assert result.returncode != 0, (case, result.stderr)
        assert "kb ingest" in stderr, (case, result.stderr)
        assert all(word in stderr for word in CASES[case][1]), (case, result.stderr)
        assert "Traceback" not in result.stderr, (case, result.stderr)
        assert "Uvicorn running" not in result.stderr + result.stdout, case
