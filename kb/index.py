"""The loaded index: the public names of the index format (kept in kb.store) and LoadedBuild, one build with what
every search derives from it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from kb.coverage import NotesVocabulary
from kb.models import Chunk, Hit
from kb.outline import mostly_links
from kb.chunk_views import ServiceIndex, WordSets
from kb.store.layout import BUILDS, CHUNKS_FILE, LINES_FILE, MANIFEST, build_dir, ingest_command
from kb.store.manifest import FORMAT_VERSION, Manifest, read_manifest
from kb.store.reader import LoadedIndex, StoredChunk, load_index
from kb.store.rows import FetchedRows, VectorRows

__all__ = [
    "BUILDS", "CHUNKS_FILE", "FORMAT_VERSION", "FetchedRows", "LINES_FILE", "MANIFEST", "LoadedBuild", "LoadedIndex",
    "Manifest", "StoredChunk", "VectorRows", "build_dir", "ingest_command", "load_index", "read_manifest",
]

T = TypeVar("T")


@dataclass
class LoadedBuild:
    """One loaded build; swapped as a whole so a request in flight keeps a consistent view."""

    index: LoadedIndex
    by_id: dict[str, int] = field(default_factory=dict)
    chunk_services: ServiceIndex = field(default_factory=lambda: ServiceIndex([]))
    word_sets: WordSets = field(default_factory=lambda: WordSets([]))
    vocabulary: NotesVocabulary = field(default_factory=lambda: NotesVocabulary(""))
    # The vectors as the store gives them (VectorStore.rows): the matrix itself with FAISS; with Milvus, rows fetched
    # a few at a time, so a server holds no build's whole matrix (retrieval then asks the store for the best chunks).
    line_matrix: VectorRows | None = None
    chunk_matrix: VectorRows | None = None
    lines_of_chunk: dict[int, np.ndarray] = field(default_factory=dict)
    link_lists: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Views other modules derive from this build (the evidence layer's sentences), keyed by the function that makes
    # each; they go when the build is swapped out.
    _views: dict[Callable[..., object], object] = field(default_factory=dict, repr=False)
    _views_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def of(cls, index: LoadedIndex) -> "LoadedBuild":
        """The build with what every search derives from it (service masks, word sets, the stores' vectors) made once."""
        rows_by_chunk: dict[int, list[int]] = {}
        corpus = "\n".join(" ".join(c.chunk.text.lower().split()) for c in index.chunks)
        for row, chunk_index in enumerate(index.line_chunk.tolist()):
            rows_by_chunk.setdefault(chunk_index, []).append(row)
        return cls(
            index=index,
            chunk_services=ServiceIndex([c.chunk.service for c in index.chunks]),
            word_sets=WordSets([c.chunk.text for c in index.chunks]),
            vocabulary=NotesVocabulary(corpus, [c.chunk.text for c in index.chunks]),
            by_id={c.chunk.id: i for i, c in enumerate(index.chunks)},
            line_matrix=index.line_vectors.rows(),
            chunk_matrix=index.chunk_vectors.rows(),
            lines_of_chunk={k: np.asarray(v) for k, v in rows_by_chunk.items()},
            link_lists=np.array([mostly_links(c.chunk.text) for c in index.chunks], dtype=bool),
        )

    def view(self, make: Callable[["LoadedBuild"], T]) -> T:
        """What `make` derives from this build: made on first use, once however many threads ask, then kept."""
        with self._views_lock:
            if make not in self._views:
                self._views[make] = make(self)
            return self._views[make]  # type: ignore[return-value]

    @property
    def vectors_in_memory(self) -> bool:
        """Whether the chunk vectors are one matrix in memory (retrieval multiplies it) or fetched from the store."""
        return not isinstance(self.chunk_matrix, FetchedRows)

    def chunk(self, i: int) -> Chunk:
        """The public chunk at position i of the build."""
        return self.index.chunks[i].chunk


def hits_of(ranked: list[tuple[int, float]], build: LoadedBuild) -> list[Hit]:
    """The ranked chunk positions of a build as the hits a search returns."""
    return [Hit(**build.chunk(i).model_dump(), score=round(float(s), 4)) for i, s in ranked]
