"""kb.store.faiss_store: the FAISS backend's VectorStore, against a brute-force numpy search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.errors import IndexCorrupt
from kb.store.base import VectorStore
from kb.store.faiss_store import CHUNK_VECTORS, FaissStore


def _unit_rows(count: int, dimension: int = 16, seed: int = 3) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, np.ndarray]:
    vectors = _unit_rows(40)
    FaissStore.write(tmp_path, "chunks", vectors)
    return tmp_path, vectors


def test_written_vectors_open_in_insertion_order(stored) -> None:
    directory, vectors = stored
    assert (directory / CHUNK_VECTORS).is_file()
    store = FaissStore.open(directory, "chunks", 40, 16)
    assert isinstance(store, VectorStore)
    assert (len(store), store.dimension) == (40, 16)
    np.testing.assert_array_equal(store.vectors(), vectors)


def test_search_ranks_like_a_brute_force_inner_product(stored) -> None:
    directory, vectors = stored
    store = FaissStore.open(directory, "chunks", 40, 16)
    queries = _unit_rows(3, seed=9)
    scores, rows = store.search(queries, 5)
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :5]
    assert rows.shape == scores.shape == (3, 5)
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, expected, axis=1), rtol=1e-5)
    assert store.search(queries[0], 100)[1].shape == (1, 40)  # k is capped at the rows there are


def test_allowed_rows_limit_the_search(stored) -> None:
    directory, vectors = stored
    store = FaissStore.open(directory, "chunks", 40, 16)
    query = _unit_rows(1, seed=11)
    allowed = np.array([31, 2, 17, 8, 99])  # a row beyond the store is never found
    scores, rows = store.search(query, 10, allowed_rows=allowed)
    inside = np.array([2, 8, 17, 31])
    expected = inside[np.argsort(-(query @ vectors[inside].T)[0])]
    np.testing.assert_array_equal(rows[0], expected)
    assert store.search(query, 10, allowed_rows=np.array([], dtype=np.int64))[1].shape == (1, 0)


def test_an_empty_store_has_no_vectors_and_finds_nothing(tmp_path: Path) -> None:
    FaissStore.write(tmp_path, "lines", np.zeros((0, 8), dtype=np.float32))
    store = FaissStore.open(tmp_path, "lines", 0, 8)
    assert store.vectors().shape == (0, 8)
    assert store.search(np.ones((1, 8), dtype=np.float32), 5)[1].shape == (1, 0)


def test_a_missing_damaged_or_mismatched_file_is_index_corrupt(stored) -> None:
    directory, _ = stored
    with pytest.raises(IndexCorrupt, match="is missing"):
        FaissStore.open(directory, "lines", 40, 16)
    with pytest.raises(IndexCorrupt, match="holds 40 vectors of dimension 16, the manifest expects 39 of dimension 16"):
        FaissStore.open(directory, "chunks", 39, 16)
    path = directory / CHUNK_VECTORS
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(IndexCorrupt, match="is damaged.*kb ingest"):
        FaissStore.open(directory, "chunks", 40, 16)
