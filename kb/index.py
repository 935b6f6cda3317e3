"""The loaded index: the public names of the index format (kept in kb.store) and LoadedBuild, one build with what
every search derives from it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kb.coverage import NotesVocabulary
from kb.models import Chunk
from kb.outline import mostly_links
from kb.retrieval import ServiceIndex, word_set
from kb.store.layout import BUILDS, CHUNKS_FILE, LINES_FILE, MANIFEST, build_dir, ingest_command
from kb.store.manifest import FORMAT_VERSION, Manifest, read_manifest
from kb.store.reader import LoadedIndex, StoredChunk, load_index

__all__ = [
    "BUILDS", "CHUNKS_FILE", "FORMAT_VERSION", "LINES_FILE", "MANIFEST", "LoadedBuild", "LoadedIndex", "Manifest",
    "StoredChunk", "build_dir", "ingest_command", "load_index", "read_manifest",
]


@dataclass
class LoadedBuild:
    """One loaded build; swapped as a whole so a request in flight keeps a consistent view."""

    index: LoadedIndex
    by_id: dict[str, int] = field(default_factory=dict)
    chunk_services: ServiceIndex = field(default_factory=lambda: ServiceIndex([]))
    word_sets: list[set[str]] = field(default_factory=list)
    vocabulary: NotesVocabulary = field(default_factory=lambda: NotesVocabulary(""))
    line_matrix: np.ndarray | None = None
    chunk_matrix: np.ndarray | None = None
    # Views other modules derive from this build (compare's segments); they go when the build is swapped out.
    derived: dict[str, object] = field(default_factory=dict)
    lines_of_chunk: dict[int, np.ndarray] = field(default_factory=dict)
    link_lists: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @classmethod
    def of(cls, index: LoadedIndex) -> "LoadedBuild":
        """The build with what every search derives from it (service masks, word sets, vector matrices) computed once."""
        rows_by_chunk: dict[int, list[int]] = {}
        corpus = "\n".join(" ".join(c.chunk.text.lower().split()) for c in index.chunks)
        for row, chunk_index in enumerate(index.line_chunk.tolist()):
            rows_by_chunk.setdefault(chunk_index, []).append(row)
        return cls(
            index=index,
            chunk_services=ServiceIndex([c.chunk.service for c in index.chunks]),
            word_sets=[word_set(c.chunk.text) for c in index.chunks],
            vocabulary=NotesVocabulary(corpus),
            by_id={c.chunk.id: i for i, c in enumerate(index.chunks)},
            line_matrix=index.line_vectors.vectors(),
            chunk_matrix=index.chunk_vectors.vectors(),
            lines_of_chunk={k: np.asarray(v) for k, v in rows_by_chunk.items()},
            link_lists=np.array([mostly_links(c.chunk.text) for c in index.chunks], dtype=bool),
        )

    def chunk(self, i: int) -> Chunk:
        """The public chunk at position i of the build."""
        return self.index.chunks[i].chunk
