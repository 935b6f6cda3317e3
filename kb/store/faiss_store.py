"""The FAISS backend's vector store: a flat inner-product index per store, one file in the build folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.errors import IndexCorrupt
from kb.store.layout import CHUNK_STORE, LINE_STORE, index_dir_of, rebuild_hint

if TYPE_CHECKING:
    import faiss

SUFFIX = ".faiss"
CHUNK_VECTORS = f"{CHUNK_STORE}{SUFFIX}"
LINE_VECTORS = f"{LINE_STORE}{SUFFIX}"


class FaissStore:
    """A VectorStore over a faiss.IndexFlatIP (exact search; the notes are thousands of vectors, not millions)."""

    def __init__(self, index: "faiss.Index") -> None:
        self._index = index

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows for each query vector, best first (see VectorStore.search)."""
        import faiss

        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1, self.dimension)
        allowed = None if allowed_rows is None else np.unique(np.asarray(allowed_rows, dtype=np.int64))
        if allowed is not None:
            allowed = allowed[(allowed >= 0) & (allowed < len(self))]
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros((len(query), 0), dtype=np.float32), np.zeros((len(query), 0), dtype=np.int64)
        if allowed is None:
            return self._index.search(query, k)
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(len(allowed), faiss.swig_ptr(allowed)))
        return self._index.search(query, k, params=params)

    def vectors(self) -> np.ndarray:
        """Every stored vector, in insertion order."""
        if len(self) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self._index.reconstruct_n(0, len(self)), dtype=np.float32)

    def rows(self) -> np.ndarray:
        """The whole matrix, in memory: retrieval multiplies it by the query (faster than a search for every row)."""
        return self.vectors()

    @staticmethod
    def path(directory: Path, name: str) -> Path:
        """The file of store `name` in a build folder."""
        return directory / f"{name}{SUFFIX}"

    @classmethod
    def write(cls, directory: Path, name: str, vectors: np.ndarray) -> None:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(vectors)
        faiss.write_index(index, str(cls.path(directory, name)))

    @classmethod
    def open(cls, directory: Path, name: str, expected_rows: int, dimension: int) -> "FaissStore":
        import faiss

        path = cls.path(directory, name)
        hint = rebuild_hint(index_dir_of(directory))
        if not path.exists():
            raise IndexCorrupt(f"The index file {path} is missing. {hint}")
        try:
            index = faiss.read_index(str(path))
        except Exception as exc:  # faiss raises RuntimeError with C++ text on truncation
            raise IndexCorrupt(f"The index file {path} is damaged ({str(exc).splitlines()[0]}). {hint}") from exc
        if index.ntotal != expected_rows or index.d != dimension:
            raise IndexCorrupt(
                f"The index file {path} holds {index.ntotal} vectors of dimension {index.d}, the manifest expects "
                f"{expected_rows} of dimension {dimension}: they are out of step. {hint}"
            )
        return cls(index)

    @classmethod
    def drop(cls, directory: Path, name: str) -> None:
        """Nothing to do: the file goes with the build folder."""
