"""The index format and its storage backends.

kb.store.base       the seam: VectorStore / LexicalStore and the class side a backend implements
kb.store.manifest   the typed manifest and reading it
kb.store.layout     where things are in an index directory
kb.store.reader     loading a build (LoadedIndex, load_index)
kb.store.writer     writing a build: lock, write, fsync, atomic manifest swap, garbage collection
kb.store.replica    an index folder as a cache of the builds a backend shares (replicas on one Milvus)
kb.store.*_store    one module a backend

`backend(settings)` picks the backend `Settings.backend` names; a new one is a module plus an entry in _BACKENDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from kb.config import Settings
    from kb.store.base import LexicalStoreType, SharedBuilds, VectorStoreType


@dataclass(frozen=True)
class Backend:
    """The store types of one backend: what a build writes its vectors and its lexical index with.

    `publish(build folder)`, when a backend has it, runs after the manifest swap (and again before a rebuild, to
    finish one that stopped between the two): it points names outside the index folder at the serving build (a
    Milvus server's aliases). Without it the manifest is the only pointer.

    `shared`, when a backend has it, keeps each build's files and the serving build's id outside the folder too
    (in Milvus): the folder is then a cache that follows them (kb/store/replica.py)."""

    name: str
    vector_store: "VectorStoreType"
    lexical_store: "LexicalStoreType"
    publish: Callable[[Path], None] | None = None
    shared: "SharedBuilds | None" = None


def _faiss(settings: "Settings") -> Backend:
    from kb.store.bm25_store import BM25Store
    from kb.store.faiss_store import FaissStore

    return Backend("faiss", FaissStore, BM25Store)


def _milvus(settings: "Settings") -> Backend:
    from kb.store.milvus_store import milvus_backend

    return milvus_backend(settings)


# Imported on first use, so choosing one backend never imports another's client library. A factory gets the
# settings, so a backend with a server (its address, its credentials) can connect from them.
_BACKENDS: dict[str, Callable[["Settings"], Backend]] = {"faiss": _faiss, "milvus": _milvus}


def backend(settings: "Settings | None" = None) -> Backend:
    """The backend the settings choose (KB_BACKEND; the process-wide settings when none are given)."""
    from kb.config import get_settings

    settings = settings or get_settings()
    return _BACKENDS[settings.backend](settings)
