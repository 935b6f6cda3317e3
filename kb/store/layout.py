"""Where things are in an index directory, and the command that builds one.

Layout of KB_INDEX_DIR:
    manifest.json            the only pointer: names the build that serves (replaced atomically)
    builds/<build_id>/       chunks.jsonl, lines.json, the backend's stores (FAISS: chunks.faiss, lines.faiss;
                             bm25s: bm25/), manifest.json (a copy)
    .lock                    held by a running rebuild
    .fetch-<build_id>-*/     a build being fetched from a backend that shares its builds (kb/store/replica.py)
"""

from __future__ import annotations

import os
from pathlib import Path

MANIFEST = "manifest.json"
BUILDS = "builds"
CHUNKS_FILE = "chunks.jsonl"
LINES_FILE = "lines.json"
LOCK_FILE = ".lock"
# The store names a backend is asked to write and open in every build.
CHUNK_STORE = "chunks"
LINE_STORE = "lines"


def build_dir(index_dir: Path, build_id: str) -> Path:
    """The folder of one build of index_dir."""
    return index_dir / BUILDS / build_id


def ingest_command(index_dir: Path) -> str:
    """The `kb ingest` command that builds this index directory (it names the directory unless it is the default)."""
    from kb.config import get_settings

    try:
        default = index_dir.resolve() == get_settings().index_dir.resolve()
    except OSError:
        default = False
    return "`kb ingest`" if default else f"`kb ingest --index {index_dir}`"


def build_id_of(build_directory: Path) -> str:
    """The id of the build a folder holds: builds are written into builds/<id>.tmp and renamed to builds/<id>, so a
    backend that keeps data outside the folder keys it by this, the same while writing, opening and dropping."""
    return build_directory.name.removesuffix(".tmp")


def index_dir_of(build_directory: Path) -> Path:
    """The index directory a build folder (or a file inside one: <index>/builds/<build id>/<file>) belongs to."""
    return build_directory.parent.parent


def rebuild_hint(index_dir: Path) -> str:
    """The sentence every IndexCorrupt message ends with."""
    return f"Rebuild it with {ingest_command(index_dir)}."


def fsync_tree(directory: Path) -> None:
    """Every file under a new build folder on disk, before a rename makes the folder a build."""
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
