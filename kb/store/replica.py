"""An index folder as a cache of the builds a backend shares (Backend.shared: the Milvus backend keeps every build's
files and the serving build's id in Milvus), so that `kb serve` replicas on several machines follow one index
without a shared folder.

When the backend records a serving build, that record rules: a folder that lacks the build (empty, or behind)
fetches its files into a temporary folder, renames it to builds/<id> and swaps its own manifest to it; the build
then loads from the folder as any other. When the backend records none (nothing built yet, or an index written
before builds were shared), the folder's own manifest rules, as with FAISS.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from kb.errors import IndexCorrupt
from kb.store import Backend
from kb.store.layout import BUILDS, MANIFEST, build_dir, fsync_tree, rebuild_hint
from kb.store.manifest import manifest_at, read_manifest, serving_build_id, swap_manifest


def serving_build(index_dir: Path, backend: Backend) -> str:
    """The id of the build that should serve: the backend's record when it shares builds and holds one, else the one
    the folder's manifest names (IndexNotBuilt or IndexCorrupt when that is missing or broken)."""
    if backend.shared is not None:
        recorded = backend.shared.serving(index_dir)
        if recorded is not None:
            return recorded
    return read_manifest(index_dir).build_id


def follow(index_dir: Path, backend: Backend) -> None:
    """Make the folder's manifest name the build the backend records as serving, fetching the build first when the
    folder lacks it. Nothing changes when the backend shares no builds or records none, nor when a fetch fails
    (IndexCorrupt or KBError saying why): the folder keeps serving what it had."""
    if backend.shared is None:
        return
    build_id = backend.shared.serving(index_dir)
    folder = build_dir(index_dir, build_id or "")
    if build_id is None or (serving_build_id(index_dir) == build_id and folder.is_dir()):
        return
    if not folder.is_dir():
        _fetch(index_dir, build_id, backend)
    manifest = manifest_at(folder / MANIFEST, index_dir)
    if manifest.build_id != build_id:
        raise IndexCorrupt(f"The build {build_id} holds the manifest of build {manifest.build_id}. {rebuild_hint(index_dir)}")
    previous = serving_build_id(index_dir)
    swap_manifest(index_dir, manifest)
    _prune(index_dir, keep={build_id, previous})


def _fetch(index_dir: Path, build_id: str, backend: Backend) -> None:
    """builds/<build_id> written whole or not at all: fetched into a temporary folder, fsynced, renamed."""
    assert backend.shared is not None
    (index_dir / BUILDS).mkdir(parents=True, exist_ok=True)
    remove_abandoned_fetches(index_dir)
    # Named for this process and thread: replicas on one machine may share a folder and fetch the same build at once.
    partial = index_dir / f".fetch-{build_id}-{os.getpid()}-{threading.get_ident()}"
    try:
        backend.shared.fetch(index_dir, build_id, partial)
        fsync_tree(partial)
        try:
            os.rename(partial, build_dir(index_dir, build_id))
        except OSError:
            if not build_dir(index_dir, build_id).is_dir():
                raise
            # Another process on this folder fetched it first; its copy is as good as this one.
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def remove_abandoned_fetches(index_dir: Path) -> None:
    """Remove the temporary folders of fetches whose process is gone (killed mid-fetch); a fetch still running in
    another process on this folder keeps its own."""
    for partial in index_dir.glob(".fetch-*"):
        pid = partial.name.split("-")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def _prune(index_dir: Path, keep: set[str | None]) -> None:
    """Remove the folder's builds but the serving one and the one before it (a request may still read it), as the
    writer's collection does; what the backend holds of them is the writer's to drop. Builds being written
    (<id>.tmp) are left alone."""
    builds = index_dir / BUILDS
    for child in builds.iterdir() if builds.is_dir() else ():
        if child.is_dir() and child.name not in keep and not child.name.endswith(".tmp") and not child.name.startswith("."):
            shutil.rmtree(child, ignore_errors=True)
