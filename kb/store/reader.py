"""Loading the serving build of an index directory without trusting anything unchecked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.errors import IndexCorrupt
from kb.models import Chunk
from kb.store import Backend, backend as configured_backend
from kb.store.base import LexicalStore, VectorStore
from kb.store.layout import CHUNK_STORE, CHUNKS_FILE, LINE_STORE, LINES_FILE, build_dir, rebuild_hint
from kb.store.manifest import Manifest, read_manifest
from kb.store.replica import follow


@dataclass
class StoredChunk:
    """A chunk as the index keeps it: the public chunk and the hash of what was embedded for it."""

    chunk: Chunk
    embed_hash: str


@dataclass
class LoadedIndex:
    """Everything a search needs, read from one build and checked for consistency."""

    directory: Path
    manifest: Manifest
    chunks: list[StoredChunk]
    chunk_vectors: VectorStore
    line_chunk: np.ndarray
    line_numbers: np.ndarray
    line_parts: np.ndarray
    line_hashes: list[str]
    line_vectors: VectorStore
    lexical: LexicalStore

    @property
    def build_id(self) -> str:
        return self.manifest.build_id


def _read_chunks(directory: Path, hint: str) -> tuple[list[StoredChunk], dict]:
    try:
        chunks = [
            StoredChunk(Chunk.model_validate(row["chunk"]), row["embed_hash"])
            for row in map(json.loads, (directory / CHUNKS_FILE).read_text(encoding="utf-8").splitlines())
        ]
        lines = json.loads((directory / LINES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"The chunk store in {directory} is unreadable ({exc}). {hint}") from exc
    if not isinstance(lines, dict):
        raise IndexCorrupt(f"The line map in {directory} is not a notes-kb line map. {hint}")
    return chunks, lines


def load_index(index_dir: Path, backend: Backend | None = None) -> LoadedIndex:
    """The serving build of index_dir, or IndexNotBuilt / IndexCorrupt saying what is wrong and how to fix it.

    `backend`: the stores to open the build with (the configured one when None). With a backend that shares its
    builds (Milvus), the folder first catches up with the build the backend records as serving (kb/store/replica.py)."""
    backend = backend or configured_backend()
    hint = rebuild_hint(index_dir)
    follow(index_dir, backend)
    manifest = read_manifest(index_dir)
    directory = build_dir(index_dir, manifest.build_id)
    if not directory.is_dir():
        raise IndexCorrupt(f"The index build {directory} named by the manifest is missing. {hint}")
    dimension = manifest.model.dimension
    chunks, lines = _read_chunks(directory, hint)
    if len(chunks) != manifest.chunk_count:
        raise IndexCorrupt(
            f"The chunk store in {directory} holds {len(chunks)} chunks, the manifest says {manifest.chunk_count}. {hint}"
        )
    line_chunk = np.asarray(lines.get("chunk", []), dtype=np.int64)
    if len(line_chunk) and (line_chunk.min() < 0 or line_chunk.max() >= len(chunks)):
        raise IndexCorrupt(f"The line map in {directory} points at chunks the chunk store does not hold. {hint}")
    if not len(line_chunk) == len(lines.get("line", [])) == len(lines.get("part", [])) == len(lines.get("hash", [])):
        raise IndexCorrupt(f"The line map in {directory} is out of step with itself. {hint}")
    chunk_vectors = backend.vector_store.open(directory, CHUNK_STORE, len(chunks), dimension)
    line_vectors = backend.vector_store.open(directory, LINE_STORE, len(line_chunk), dimension)
    return LoadedIndex(
        directory=directory,
        manifest=manifest,
        chunks=chunks,
        chunk_vectors=chunk_vectors,
        line_chunk=np.asarray(lines["chunk"], dtype=np.int32),
        line_numbers=np.asarray(lines["line"], dtype=np.int32),
        line_parts=np.asarray(lines["part"], dtype=np.int32),
        line_hashes=list(lines["hash"]),
        line_vectors=line_vectors,
        lexical=backend.lexical_store.open(directory, len(chunks)),
    )
