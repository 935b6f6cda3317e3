"""Rebuilding the index while the API serves: one background job at a time, followed with GET /admin/reindex.

The job runs ingest.build.build_index from KB_NOTES_DIR into KB_INDEX_DIR with the serving model. The build is
written beside the serving one and swapped in by one atomic manifest replace; the server then loads it, and a
request in flight finishes on the build it started with. A failed build (unreadable notes directory, exception,
disk full) changes nothing that serves: the job reports why and its partial files are removed.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from api.schemas import BuildSummary, ReindexJob, ReindexStatus
from api.serving import Serving, release_free_memory
from kb.config import Settings
from kb.errors import IndexBusy, KBError
from kb.index import BUILDS
from kb.store.writer import index_lock

if TYPE_CHECKING:
    from kb.embedder import Embedder

log = logging.getLogger("api")

# The model serves one encode at a time. A rebuild hands it this many texts per call, so a query waits for at
# most one small batch (tens of ms) rather than for the build's batches of hundreds.
REBUILD_ENCODE_BATCH = 16
# A rebuild is mostly Python code holding the GIL; a request thread that gives the GIL up (for a torch or faiss
# call, or I/O) waits one switch interval to get it back, once per such call. At the default 5 ms that adds
# hundreds of ms to a request while a rebuild runs; at 0.5 ms, tens.
REBUILD_SWITCH_INTERVAL_S = 0.0005


class SharedModelEmbedder:
    """The serving embedder, fed to a rebuild in small batches so that queries get the model in between."""

    def __init__(self, embedder: "Embedder", batch: int = REBUILD_ENCODE_BATCH) -> None:
        self._embedder = embedder
        self._batch = batch
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.max_tokens = getattr(embedder, "max_tokens", 256)

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) <= self._batch:
            return self._embedder.encode(texts)
        return np.concatenate([self._embedder.encode(texts[i : i + self._batch]) for i in range(0, len(texts), self._batch)])

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Reindexer:
    """Starts rebuilds in a background thread, one at a time, and keeps the running and the last finished job."""

    def __init__(self, settings: Settings, serving: Serving) -> None:
        self.settings = settings
        self.serving = serving
        self._lock = threading.Lock()
        self._running: ReindexJob | None = None
        self._last: ReindexJob | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReindexJob:
        """Start a rebuild; IndexBusy (409) when one runs here or another process (`kb ingest`) holds the index."""
        with self._lock:
            if self._running is not None:
                job = self._running
                raise IndexBusy(
                    f"A reindex is already running (job {job.job_id}, {job.stage} {job.done}/{job.total}); "
                    "follow it with GET /admin/reindex.",
                    job_id=job.job_id,
                )
            self._check_index_lock()
            job = ReindexJob(job_id=uuid.uuid4().hex[:12], state="running", stage="starting", started_at=_now())
            self._running = job
            self._thread = threading.Thread(target=self._run, args=(job,), name=f"reindex-{job.job_id}", daemon=True)
            self._thread.start()
            return job.model_copy(deep=True)

    def status(self) -> ReindexStatus:
        """The running job (with its progress), the last finished one, and the build now serving."""
        with self._lock:
            running = self._running.model_copy(deep=True) if self._running else None
            last = self._last.model_copy(deep=True) if self._last else None
        knowledge_base = self.serving.knowledge_base
        serving_build = knowledge_base.manifest.build_id if knowledge_base is not None else None
        return ReindexStatus(running=running, last=last, serving_build_id=serving_build)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running job's thread (for tests and shutdown); True when none is running afterwards."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._running is None

    def _check_index_lock(self) -> None:
        try:
            with index_lock(self.settings.index_dir):
                pass
        except OSError as exc:
            raise KBError(f"Cannot write to the index directory {self.settings.index_dir}: {exc.strerror or exc}.") from exc

    def _progress(self, job: ReindexJob, stage: str, done: int, total: int) -> None:
        with self._lock:
            job.stage, job.done, job.total = stage, done, total

    def _run(self, job: ReindexJob) -> None:
        from ingest.build import build_index
        from ingest.notes import parse_suffixes

        started = time.perf_counter()
        settings = self.settings
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(REBUILD_SWITCH_INTERVAL_S)
        try:
            report = build_index(
                settings.notes_dir,
                settings.index_dir,
                SharedModelEmbedder(self.serving.embedder()),
                max_tokens=settings.chunk_max_tokens,
                progress=lambda stage, done, total: self._progress(job, stage, done, total),
                suffixes=parse_suffixes(settings.note_suffixes),
            )
            job.result = BuildSummary.model_validate(report.summary())
            self._progress(job, "loading", 0, 1)
            serving_build = self.serving.reload_now().manifest.build_id
            if serving_build != report.build_id:
                raise KBError(f"Built {report.build_id}, but the server now serves {serving_build} (a newer build?).")
            self._progress(job, "done", 1, 1)
            job.state = "succeeded"
        except KBError as exc:
            job.error, job.state = exc.message, "failed"
        except Exception as exc:  # a crash or a full disk: report it, keep serving the previous build
            log.exception("reindex job %s failed", job.job_id)
            job.error, job.state = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            sys.setswitchinterval(switch_interval)
        if job.state == "failed":
            log.warning("reindex job %s failed, the previous index keeps serving: %s", job.job_id, job.error)
            self._remove_partial_builds()
        else:
            log.info("reindex job %s: now serving build %s", job.job_id, job.result.build_id if job.result else None)
        with self._lock:
            job.finished_at = _now()
            job.seconds = round(time.perf_counter() - started, 2)
            self._last, self._running = job, None
        # The build's temporaries were allocated in this thread's malloc arena: give the pages back now.
        release_free_memory()

    def _remove_partial_builds(self) -> None:
        # A failed build leaves builds/<id>.tmp (possibly large, after a full disk); the next build would remove it,
        # but free the space now. Under the index lock, so no other rebuild is writing one.
        try:
            with index_lock(self.settings.index_dir):
                for partial in (self.settings.index_dir / BUILDS).glob("*.tmp"):
                    shutil.rmtree(partial, ignore_errors=True)
        except (KBError, OSError):
            pass  # another rebuild holds the lock; it cleans up when it starts
