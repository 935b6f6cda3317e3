"""The index directory: its layout, its manifest, and loading it without trusting anything unchecked.

Layout of KB_INDEX_DIR:
    manifest.json            the only pointer: names the build that serves (replaced atomically)
    builds/<build_id>/       chunks.jsonl, lines.json, chunks.faiss, lines.faiss, bm25/, manifest.json (a copy)
    .lock                    held by a running rebuild
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.coverage import NotesVocabulary
from kb.errors import IndexCorrupt, IndexNotBuilt
from kb.lexical import LexicalIndex
from kb.models import Chunk
from kb.outline import mostly_links
from kb.retrieval import ServiceIndex, word_set

if TYPE_CHECKING:
    import faiss

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
BUILDS = "builds"
CHUNKS_FILE = "chunks.jsonl"
LINES_FILE = "lines.json"
CHUNK_VECTORS = "chunks.faiss"
LINE_VECTORS = "lines.faiss"
BM25_DIR = "bm25"
BUILD_HINT = "Build it with `kb ingest` (or `make index`)."


def ingest_command(index_dir: Path) -> str:
    """The `kb ingest` command that builds this index directory (it names the directory unless it is the default)."""
    from kb.config import get_settings

    try:
        default = index_dir.resolve() == get_settings().index_dir.resolve()
    except OSError:
        default = False
    return "`kb ingest`" if default else f"`kb ingest --index {index_dir}`"


@dataclass
class StoredChunk:
    """A chunk as the index keeps it: the public chunk and the hash of what was embedded for it."""

    chunk: Chunk
    embed_hash: str


@dataclass
class LoadedIndex:
    """Everything a search needs, read from one build and checked for consistency."""

    directory: Path
    manifest: dict
    chunks: list[StoredChunk]
    chunk_vectors: "faiss.Index"
    line_chunk: np.ndarray
    line_numbers: np.ndarray
    line_parts: np.ndarray
    line_hashes: list[str]
    line_vectors: "faiss.Index"
    lexical: LexicalIndex

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]


def read_manifest(index_dir: Path) -> dict:
    """The serving manifest, checked for shape and format version."""
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexNotBuilt(f"No index at {index_dir}. Build it with {ingest_command(index_dir)}.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"The index manifest {path} is unreadable ({exc}). Rebuild it with {ingest_command(index_dir)}.") from exc
    if not isinstance(manifest, dict) or "build_id" not in manifest:
        raise IndexCorrupt(f"The index manifest {path} is not a notes-kb manifest. Rebuild it with {ingest_command(index_dir)}.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"The index at {index_dir} has format version {manifest.get('format_version')!r}, this notes-kb reads "
            f"{FORMAT_VERSION}. Rebuild it with {ingest_command(index_dir)}."
        )
    return manifest


def build_dir(index_dir: Path, build_id: str) -> Path:
    return index_dir / BUILDS / build_id


def all_vectors(index: "faiss.Index") -> np.ndarray:
    """Every vector stored in a flat FAISS index, in insertion order."""
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def _read_faiss(path: Path, expected_rows: int, dimension: int) -> "faiss.Index":
    import faiss

    index_dir = path.parent.parent.parent  # <index>/builds/<build id>/<file>

    if not path.exists():
        raise IndexCorrupt(f"The index file {path} is missing. Rebuild it with {ingest_command(index_dir)}.")
    try:
        index = faiss.read_index(str(path))
    except Exception as exc:  # faiss raises RuntimeError with C++ text on truncation
        raise IndexCorrupt(f"The index file {path} is damaged ({str(exc).splitlines()[0]}). Rebuild it with {ingest_command(index_dir)}.") from exc
    if index.ntotal != expected_rows or index.d != dimension:
        raise IndexCorrupt(
            f"The index file {path} holds {index.ntotal} vectors of dimension {index.d}, the manifest expects "
            f"{expected_rows} of dimension {dimension}: they are out of step. Rebuild it with {ingest_command(index_dir)}."
        )
    return index


def load_index(index_dir: Path) -> LoadedIndex:
    """The serving build of index_dir, or IndexNotBuilt / IndexCorrupt saying what is wrong and how to fix it."""
    manifest = read_manifest(index_dir)
    directory = build_dir(index_dir, manifest["build_id"])
    if not directory.is_dir():
        raise IndexCorrupt(f"The index build {directory} named by the manifest is missing. Rebuild it with {ingest_command(index_dir)}.")
    dimension = int(manifest["model"]["dimension"])
    try:
        chunks = [
            StoredChunk(Chunk.model_validate(row["chunk"]), row["embed_hash"])
            for row in map(json.loads, (directory / CHUNKS_FILE).read_text(encoding="utf-8").splitlines())
        ]
        lines = json.loads((directory / LINES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"The chunk store in {directory} is unreadable ({exc}). Rebuild it with {ingest_command(index_dir)}.") from exc
    if len(chunks) != manifest.get("chunk_count"):
        raise IndexCorrupt(
            f"The chunk store in {directory} holds {len(chunks)} chunks, the manifest says {manifest.get('chunk_count')}. "
            f"Rebuild it with {ingest_command(index_dir)}."
        )
    if not isinstance(lines, dict):
        raise IndexCorrupt(f"The line map in {directory} is not a notes-kb line map. Rebuild it with {ingest_command(index_dir)}.")
    line_chunk = np.asarray(lines.get("chunk", []), dtype=np.int64)
    if len(line_chunk) and (line_chunk.min() < 0 or line_chunk.max() >= len(chunks)):
        raise IndexCorrupt(
            f"The line map in {directory} points at chunks the chunk store does not hold. Rebuild it with {ingest_command(index_dir)}."
        )
    if not len(line_chunk) == len(lines.get("line", [])) == len(lines.get("part", [])) == len(lines.get("hash", [])):
        raise IndexCorrupt(f"The line map in {directory} is out of step with itself. Rebuild it with {ingest_command(index_dir)}.")
    chunk_vectors = _read_faiss(directory / CHUNK_VECTORS, len(chunks), dimension)
    line_vectors = _read_faiss(directory / LINE_VECTORS, len(lines["chunk"]), dimension)
    try:
        lexical = LexicalIndex.load(directory / BM25_DIR, len(chunks))
    except Exception as exc:
        raise IndexCorrupt(f"The lexical index in {directory} is unreadable ({exc}). Rebuild it with {ingest_command(index_dir)}.") from exc
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
        lexical=lexical,
    )


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
            line_matrix=all_vectors(index.line_vectors),
            chunk_matrix=all_vectors(index.chunk_vectors),
            lines_of_chunk={k: np.asarray(v) for k, v in rows_by_chunk.items()},
            link_lists=np.array([mostly_links(c.chunk.text) for c in index.chunks], dtype=bool),
        )

    def chunk(self, i: int) -> Chunk:
        """The public chunk at position i of the build."""
        return self.index.chunks[i].chunk
