"""Writing a build: under the index lock, into builds/<id>.tmp, fsynced, kept whole by a backend that shares builds,
renamed into place, then made the serving build (recorded by such a backend, then one atomic replace of
manifest.json), published (a backend's aliases moved to it); builds that no longer serve are collected."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np

from kb.errors import IndexBusy, IndexCorrupt
from kb.store import Backend, backend as configured_backend
from kb.store.layout import BUILDS, CHUNK_STORE, CHUNKS_FILE, LINE_STORE, LINES_FILE, LOCK_FILE, MANIFEST, build_dir, fsync_tree
from kb.store.manifest import Manifest, serving_build_id, swap_manifest
from kb.store.reader import StoredChunk
from kb.store.replica import follow

logger = logging.getLogger(__name__)


@contextmanager
def index_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the rebuild lock of index_dir; a second rebuild waits (wait=True) or gets IndexBusy."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexBusy(f"Another rebuild of {index_dir} is running ({holder}); wait for it or use --wait.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc).isoformat(timespec='seconds')}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock, also when the process is killed


@dataclass
class BuildContents:
    """What one build stores besides its manifest: chunks (chunk order), the line map, both vector sets, and the
    texts the lexical store indexes (one per chunk)."""

    chunks: list[StoredChunk]
    lines: dict[str, list]
    chunk_vectors: np.ndarray
    line_vectors: np.ndarray
    lexical_texts: list[str]


def write_build_files(directory: Path, contents: BuildContents, backend: Backend) -> None:
    """Every file of a build in a new folder (a temporary one: nothing reads it before it is renamed into place)."""
    directory.mkdir(parents=True)
    with open(directory / CHUNKS_FILE, "w", encoding="utf-8") as out:
        for stored in contents.chunks:
            row = {"chunk": stored.chunk.model_dump(), "embed_hash": stored.embed_hash}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    (directory / LINES_FILE).write_text(json.dumps(contents.lines), encoding="utf-8")
    backend.vector_store.write(directory, CHUNK_STORE, contents.chunk_vectors)
    backend.vector_store.write(directory, LINE_STORE, contents.line_vectors)
    backend.lexical_store.write(directory, contents.lexical_texts)


def collect_garbage(index_dir: Path, keep: set[str], backend: Backend) -> None:
    """Drop builds that no longer serve (the newest previous one stays for readers mid-load) and stale temp files."""
    builds = index_dir / BUILDS
    if builds.is_dir():
        for child in builds.iterdir():
            if child.name not in keep:
                backend.vector_store.drop(child, CHUNK_STORE)
                backend.vector_store.drop(child, LINE_STORE)
                backend.lexical_store.drop(child)
                if backend.shared is not None:
                    backend.shared.drop(child)
                shutil.rmtree(child, ignore_errors=True)
    for stale in index_dir.glob(f".{MANIFEST}.*.tmp"):
        stale.unlink(missing_ok=True)


class BuildWriter:
    """One new build of an index directory: `with BuildWriter(index_dir) as writer: ... writer.commit(...)`.

    Entering takes the index lock (IndexBusy unless wait) and clears what killed builds left; `commit` writes the
    build beside the serving one and swaps it in. Nothing a reader sees changes before the manifest swap."""

    def __init__(self, index_dir: Path, backend: Backend | None = None, wait: bool = False) -> None:
        self.index_dir = index_dir
        self.backend = backend or configured_backend()
        self.build_id = ""
        self.previous: str | None = None
        self._lock = index_lock(index_dir, wait=wait)

    def __enter__(self) -> "BuildWriter":
        self._lock.__enter__()
        try:
            # Named once the lock is held, so a build that waited for another is named after it.
            self.build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
            self._catch_up()
            self.previous = serving_build_id(self.index_dir)
            if self.previous:
                # Finishes a build that stopped between its manifest swap and its publish, before the collection
                # below drops the builds an alias may still name.
                self._publish(self.previous)
            collect_garbage(self.index_dir, {b for b in (self.previous,) if b}, self.backend)
        except BaseException:
            self._lock.__exit__(None, None, None)  # `with` calls __exit__ only when __enter__ returned
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.__exit__(*exc_info)

    def _catch_up(self) -> None:
        """With a backend that shares builds, make the folder serve the build the backend records first: that is the
        previous build (kept, its vectors reused), even when this folder is a replica's cache that fell behind."""
        try:
            follow(self.index_dir, self.backend)
        except IndexCorrupt as exc:
            # A rebuild is the cure for a damaged shared build: it goes on from what the folder has.
            logger.warning("rebuilding from the index folder's own build: %s", exc.message)

    def _publish(self, build_id: str) -> None:
        if self.backend.publish is not None:
            self.backend.publish(build_dir(self.index_dir, build_id))

    def commit(self, manifest: Manifest, contents: BuildContents) -> None:
        """Write the build that `manifest` describes and make it the serving one."""
        tmp_dir = self.index_dir / BUILDS / f"{self.build_id}.tmp"
        write_build_files(tmp_dir, contents, self.backend)
        (tmp_dir / MANIFEST).write_text(manifest.to_json(ascii_only=False), encoding="utf-8")
        fsync_tree(tmp_dir)
        shared = self.backend.shared
        if shared is not None:
            shared.store(tmp_dir)  # whole in the backend before anything names it
        os.rename(tmp_dir, build_dir(self.index_dir, self.build_id))
        if shared is not None:
            # Recorded before this folder's manifest swaps, so the folder never names a build the backend does not:
            # a writer stopped in between leaves the folder one build behind, and the next read catches it up.
            shared.serve(self.index_dir, self.build_id)
        swap_manifest(self.index_dir, manifest)  # the one atomic step: readers see the old build or the new one
        self._publish(self.build_id)
        collect_garbage(self.index_dir, {b for b in (self.previous, self.build_id) if b}, self.backend)
