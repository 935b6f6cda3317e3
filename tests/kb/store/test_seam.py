"""The store seam: a second backend is a pair of store types. A toy numpy VectorStore written and opened in place of
FAISS gives the Retriever the same rankings, and KB_BACKEND picks the backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from ingest.build import build_index
from kb.catalogue import get_catalogue
from kb.config import Settings
from kb.index import LoadedBuild, load_index
from kb.retrieval import Retriever, ServiceDescriptions, Weights
from kb.store import Backend, backend
from kb.store.bm25_store import BM25Store
from kb.store.faiss_store import FaissStore
from kb.testing import HashingEmbedder, NumpyVectorStore

# One note, three sections: one chunk each (SQS, SNS, Lambda), as in tests/kb/test_retriever.py.
NOTE = (
    "## SQS:\n\nSQS keeps messages 4 days by default, max 14 days retention\n\n"
    "## SNS:\n\nSNS sends one message to many receivers, fan out\n\n"
    "## Lambda:\n\nLambda max execution time is 15 minutes\n"
)
QUERIES = ["how many days retention for messages", "fan out to receivers", "lambda execution time", "max", "sqs sns"]
TOY = Backend("numpy", NumpyVectorStore, BM25Store)


def _build(tmp_path: Path, store_backend: Backend) -> LoadedBuild:
    notes = tmp_path / "notes"
    notes.mkdir(exist_ok=True)
    (notes / "messaging.md").write_text(NOTE, encoding="utf-8")
    index_dir = tmp_path / f"index-{store_backend.name}"
    build_index(notes, index_dir, HashingEmbedder(), backend=store_backend)
    return LoadedBuild.of(load_index(index_dir, store_backend))


def _retriever(build: LoadedBuild) -> Retriever:
    embedder = HashingEmbedder()
    return Retriever(
        build, lambda text: embedder.encode([text]), get_catalogue(), Weights.of(Settings()), ServiceDescriptions(embedder.encode)
    )


def _lines(signals) -> list[tuple[float, int]]:
    return sorted(zip(np.round(signals.line_scores, 5).tolist(), signals.line_chunk.tolist()))


def test_a_toy_vector_store_ranks_as_faiss_does(tmp_path: Path) -> None:
    with_faiss, with_toy = _build(tmp_path, backend(Settings())), _build(tmp_path, TOY)
    assert isinstance(with_faiss.index.chunk_vectors, FaissStore)
    assert isinstance(with_toy.index.chunk_vectors, NumpyVectorStore) and isinstance(with_toy.index.line_vectors, NumpyVectorStore)
    assert [c.chunk.id for c in with_toy.index.chunks] == [c.chunk.id for c in with_faiss.index.chunks]
    np.testing.assert_array_equal(with_toy.chunk_matrix, with_faiss.chunk_matrix)
    faiss_retriever, toy_retriever = _retriever(with_faiss), _retriever(with_toy)
    for query in QUERIES:
        for mode in ("hybrid", "dense", "bm25"):
            expected = faiss_retriever.rank(query, 3, mode=mode).ranked
            found = toy_retriever.rank(query, 3, mode=mode).ranked
            assert [i for i, _ in found] == [i for i, _ in expected], (query, mode)
            np.testing.assert_allclose([s for _, s in found], [s for _, s in expected], rtol=1e-5)
        faiss_signals, toy_signals = faiss_retriever.signals(query), toy_retriever.signals(query)
        # The same best lines; equal scores may come in another order (FAISS's order of ties is not row order).
        assert _lines(toy_signals) == _lines(faiss_signals)


def test_the_toy_store_reuses_the_previous_builds_vectors(tmp_path: Path) -> None:
    _build(tmp_path, TOY)
    embedder = HashingEmbedder()
    report = build_index(tmp_path / "notes", tmp_path / "index-numpy", embedder, backend=TOY)
    assert report.reembedded == 0 and embedder.calls == 0  # the cache came from NumpyVectorStore.vectors()


def test_kb_backend_chooses_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().backend == "faiss"
    chosen = backend(Settings())
    assert (chosen.name, chosen.vector_store, chosen.lexical_store) == ("faiss", FaissStore, BM25Store)
    monkeypatch.setenv("KB_BACKEND", "faiss")
    assert Settings().backend == "faiss"
    monkeypatch.setenv("KB_BACKEND", "sqlite")
    with pytest.raises(ValidationError, match="backend"):
        Settings()
