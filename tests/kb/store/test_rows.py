"""kb/store/rows.py: a store's vectors fetched by row on demand index like the matrix they stand for, within a
bounded cache; and a store that keeps its vectors elsewhere (its `rows()` a FetchedRows) ranks as FAISS does, the
Retriever asking it for the best chunks instead of multiplying them all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kb.retrieval as retrieval
from ingest.build import build_index
from kb.catalogue import get_catalogue
from kb.config import Settings
from kb.index import LoadedBuild, load_index
from kb.retrieval import Retriever, ServiceDescriptions, Weights, scores_from_best
from kb.store import Backend, backend
from kb.store.bm25_store import BM25Store
from kb.store.rows import FetchedRows
from kb.testing import HashingEmbedder, NumpyVectorStore
from tests.api.conftest import NOTES, write_notes


class Counted:
    """A fetch over a matrix that records what it was asked for."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix
        self.calls: list[list[int]] = []

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        self.calls.append(rows.tolist())
        return self.matrix[rows]


def test_fetched_rows_index_as_the_matrix_does() -> None:
    matrix = np.random.default_rng(3).normal(size=(23, 5)).astype(np.float32)
    rows = FetchedRows(Counted(matrix), len(matrix), 5, block_rows=4, cache_blocks=3)
    assert len(rows) == 23 and rows.shape == (23, 5)
    np.testing.assert_array_equal(rows[7], matrix[7])
    np.testing.assert_array_equal(rows[np.int64(-1)], matrix[-1])
    picked = np.array([22, 0, 5, 5, 13])
    np.testing.assert_array_equal(rows[picked], matrix[picked])
    np.testing.assert_array_equal(rows[[3, 1]], matrix[[3, 1]])
    np.testing.assert_array_equal(rows[2:9], matrix[2:9])
    np.testing.assert_array_equal(rows[np.array([[1, 2], [3, 4]])], matrix[np.array([[1, 2], [3, 4]])])
    assert rows[np.array([], dtype=np.int64)].shape == (0, 5)
    # What the answer layer does with them: products of rows with a query vector.
    query = matrix[4]
    np.testing.assert_allclose(rows[picked] @ query, matrix[picked] @ query, rtol=1e-6)
    with pytest.raises(IndexError):
        rows[23]
    with pytest.raises(TypeError):
        rows[np.array([0.5])]


def test_rows_come_a_block_at_a_time_and_the_cache_stays_bounded() -> None:
    matrix = np.arange(40 * 2, dtype=np.float32).reshape(40, 2)
    fetch = Counted(matrix)
    rows = FetchedRows(fetch, 40, 2, block_rows=8, cache_blocks=2)
    rows[9]
    assert fetch.calls == [list(range(8, 16))]  # the block around the row, in one round trip
    rows[np.array([10, 15, 8])]
    assert len(fetch.calls) == 1 and rows.fetched == 8  # from the cache
    rows[np.array([0, 39])]
    assert fetch.calls[-1] == list(range(0, 8)) + list(range(32, 40))  # two missing blocks, one round trip
    assert rows.cached_rows <= 16  # at most cache_blocks blocks: the oldest went
    np.testing.assert_array_equal(rows[9], matrix[9])  # read again after it went
    assert rows.fetched == 32 and rows.cached_rows <= 16


def test_scores_from_best_keeps_the_best_exact_and_the_scale_of_the_full_product() -> None:
    full = np.array([0.9, -0.2, 0.1, 0.5, 0.3, 0.05], dtype=np.float32)
    dense = scores_from_best(6, np.array([0, 3, -1]), np.array([0.9, 0.5, -np.inf], dtype=np.float32), 0.5, (1, -0.2))
    np.testing.assert_allclose(dense, [0.9, -0.2, 0.5, 0.5, 0.5, 0.5])
    assert dense.min() == full.min() and dense.max() == full.max()  # min-max scaling spans the same range
    # Rows scored besides the best (lifted by BM25 or a line) keep their own scores under the rest's.
    dense = scores_from_best(6, np.array([0, 3, 5]), np.array([0.9, 0.5, 0.05], dtype=np.float32), 0.5, (1, -0.2))
    assert dense[5] == pytest.approx(0.05) and dense[2] == 0.5


class ElsewhereStore(NumpyVectorStore):
    """The toy store, its vectors given to retrieval as a store outside the process gives them (fetched rows)."""

    def rows(self) -> FetchedRows:
        return FetchedRows(lambda rows: self._matrix[rows], len(self), self.dimension)


def _retriever(build: LoadedBuild) -> Retriever:
    embedder = HashingEmbedder()
    return Retriever(
        build, lambda text: embedder.encode([text]), get_catalogue(), Weights.of(Settings()), ServiceDescriptions(embedder.encode)
    )


def test_a_store_that_keeps_its_vectors_elsewhere_ranks_as_faiss_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = "amber basil cedar delta ember fjord garnet harbor indigo juniper kelp lotus maple nectar onyx".split()
    more = "\n\n".join(f"## {w.title()}\n\nThe {w} setting changes {words[(i * 7) % len(words)]}." for i, w in enumerate(words))
    notes = write_notes(tmp_path / "notes", {**NOTES, "more.md": more})
    builds = {}
    for name, store_backend in (("faiss", backend(Settings())), ("elsewhere", Backend("elsewhere", ElsewhereStore, BM25Store))):
        build_index(notes, tmp_path / name, HashingEmbedder(), backend=store_backend)
        builds[name] = LoadedBuild.of(load_index(tmp_path / name, store_backend))
    assert builds["faiss"].vectors_in_memory and not builds["elsewhere"].vectors_in_memory
    # Fewer best chunks asked for than the build has (and few lines), so the scores of the others are filled in.
    for name, value in (("_DENSE_CANDIDATES", 12), ("_LEXICAL_CANDIDATES", 5), ("_LINE_CANDIDATES", 5)):
        monkeypatch.setattr(retrieval, name, value)
    expected, found = _retriever(builds["faiss"]), _retriever(builds["elsewhere"])
    for query in ("sqs message retention", "how big can an s3 object be", "lambda timeout", "the basil setting", "visibility"):
        for mode in ("hybrid", "dense"):
            ranked, full = found.rank(query, 3, mode=mode).ranked, expected.rank(query, 3, mode=mode).ranked
            assert [i for i, _ in ranked] == [i for i, _ in full], (query, mode)
            # The same scores too: the fused scale is the full product's (the worst chunk's score is known).
            np.testing.assert_allclose([s for _, s in ranked], [s for _, s in full], rtol=1e-5, atol=1e-6)
    assert builds["elsewhere"].chunk_matrix.fetched == 0  # ranking read no chunk vector
