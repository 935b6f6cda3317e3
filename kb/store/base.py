"""The store seam: what retrieval needs of a vector store and of a lexical store, and how a backend writes and
opens them inside one build folder.

A backend is one module (kb/store/faiss_store.py, kb/store/bm25_store.py) registered in kb/store/__init__.py and
chosen by `Settings.backend`. Everything above the seam (kb/retrieval.py, kb/evidence, ingest/build.py) uses only
the methods named here: rows are positions in insertion order (row i of the chunk store is chunk i of the build).

The store types are written to while building, into builds/<id>.tmp (renamed to builds/<id> once complete), and
opened from builds/<id>. A backend that keeps its data outside the folder (a database) keys it by
kb.store.layout.build_id_of(directory) and the store name, and removes it in `drop`. The store types may be classes
(FAISS) or instances holding a connection made from Settings (see kb.store.backend).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from kb.store.rows import VectorRows


@runtime_checkable
class VectorStore(Protocol):
    """Unit vectors of one build (its chunks' or its lines'), searched by inner product."""

    @property
    def dimension(self) -> int:
        """The length of every vector."""
        ...

    def __len__(self) -> int:
        """How many vectors the store holds."""
        ...

    def search(self, query: np.ndarray, k: int, allowed_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows for each query vector (query: n x dimension), best first: (scores, rows), each n x k'.

        k' = min(k, rows searched). `allowed_rows` (row numbers) limits the search to those rows (a service filter);
        None searches all. Equal scores come in the backend's own order (FAISS's is not row order).
        """
        ...

    def vectors(self) -> np.ndarray:
        """Every stored vector in insertion order (len x dimension, float32): the incremental embedding cache reads it."""
        ...

    def rows(self) -> "VectorRows":
        """The vectors as a loaded build holds them for retrieval, the answer and compare layers: the matrix itself
        (a store in the process's memory, which retrieval then multiplies whole) or a FetchedRows (a store that keeps
        its vectors elsewhere, read a few rows at a time; retrieval then asks `search` for the best chunks)."""
        ...


class VectorStoreType(Protocol):
    """How a backend writes a vector store while building and opens it when loading (the class side of a store)."""

    def write(self, directory: Path, name: str, vectors: np.ndarray) -> None:
        """Store `vectors` (rows x dimension, float32, unit length) as the store `name` ("chunks", "lines") of the
        build folder `directory`; the folder is fsynced and renamed into place after every store is written."""
        ...

    def open(self, directory: Path, name: str, expected_rows: int, dimension: int) -> VectorStore:
        """The store `name` of the build folder `directory`; IndexCorrupt when it is missing, unreadable, or not
        of `expected_rows` vectors of `dimension`."""
        ...

    def drop(self, directory: Path, name: str) -> None:
        """Forget what `write` stored outside `directory` for this build (called before an old build folder is
        deleted); a backend that keeps everything in the folder does nothing."""
        ...


@runtime_checkable
class LexicalStore(Protocol):
    """A lexical (keyword) index over the chunks of one build."""

    def scores(self, query: str) -> np.ndarray:
        """One score per chunk, in chunk order (float32, zeros when no query word is known)."""
        ...


class LexicalStoreType(Protocol):
    """How a backend writes a lexical store while building and opens it when loading."""

    def write(self, directory: Path, texts: list[str]) -> None:
        """Index the chunks' lexical texts (chunk order) into the build folder `directory`."""
        ...

    def open(self, directory: Path, size: int) -> LexicalStore:
        """The lexical store of the build folder `directory`, over `size` chunks; IndexCorrupt when unreadable."""
        ...

    def drop(self, directory: Path) -> None:
        """Forget what `write` stored outside `directory` for this build (see VectorStoreType.drop)."""
        ...


class SharedBuilds(Protocol):
    """Where a backend keeps, beside its stores, every file of a build and which build serves, so that index folders
    on other machines follow one index (kb/store/replica.py): each folder is then a cache of what the backend holds."""

    def store(self, build_directory: Path) -> None:
        """Keep every file of a finished build folder (called before anything may name the build)."""
        ...

    def serve(self, index_dir: Path, build_id: str) -> None:
        """Record `build_id` as the serving build (called before index_dir's own manifest is swapped to it)."""
        ...

    def serving(self, index_dir: Path) -> str | None:
        """The serving build's id as recorded (None before the first build records one); cheap, asked once a check."""
        ...

    def fetch(self, index_dir: Path, build_id: str, into: Path) -> None:
        """Write the kept files of `build_id` into the new folder `into`; IndexCorrupt when one is missing or damaged."""
        ...

    def drop(self, build_directory: Path) -> None:
        """Forget the kept files of this build (with its stores, when the build is collected)."""
        ...
