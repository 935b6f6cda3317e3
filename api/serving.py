"""The one KnowledgeBase an app serves, and how it follows `kb ingest` runs made by other processes."""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import TYPE_CHECKING

from kb.config import Settings
from kb.errors import IndexNotBuilt, KBError
from kb.index import ingest_command

if TYPE_CHECKING:
    from kb.core import KnowledgeBase
    from kb.embedder import Embedder

log = logging.getLogger("api")

WATCH_MIN_PAUSE_S = 0.2


def settle_after_load() -> None:
    """Settle memory once a build (and the model) is loaded: freeze what is alive now, return freed pages.

    gc.freeze() puts every object alive now (imports, the model, the loaded build: ~500,000) out of the cyclic
    GC's reach. A full collection otherwise scans them all, about 0.2 s with the GIL held, and every request in
    flight waits for it; rebuilds, which allocate a lot, set one off every time. The loaded build holds no
    reference cycles, so reference counting still frees an old build once the last request using it is done.

    Loading frees much of what it allocates on the way (parsed files, temporary arrays), and glibc keeps those
    pages resident until told otherwise: trimming them took a torch-runtime server from 801 to 694 MB after warm-up.
    """
    gc.freeze()
    release_free_memory()


def release_free_memory() -> None:
    """Return the free pages of every malloc arena to the system (glibc's malloc_trim); a no-op without glibc."""
    try:
        import ctypes

        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def open_knowledge_base(settings: Settings) -> "KnowledgeBase":
    """The index and the model, both loaded now; raises the KBError that says what is missing or broken."""
    from kb.core import KnowledgeBase

    knowledge_base = KnowledgeBase(settings)
    # The model loads its weights on the first encode, and the first search embeds the catalogue (10 s in all):
    # pay that here rather than in the first request, and let a model that cannot load fail `kb serve` early.
    knowledge_base.warm_up()
    return knowledge_base


class Serving:
    """Holds the loaded KnowledgeBase (or why there is none) and refreshes it at most once per `check_interval`.

    Requests check when a check is due. With `watch()` a background thread checks too, so a replica that gets
    no request still follows a build made elsewhere (another replica's POST /admin/reindex, a `kb ingest`), and
    the reload's seconds are spent off the request path: requests keep the build they have until it is swapped.
    """

    def __init__(self, settings: Settings, knowledge_base: "KnowledgeBase | None" = None, check_interval: float | None = None) -> None:
        self.settings = settings
        self.knowledge_base = knowledge_base
        self.load_error: KBError | None = None
        self.check_interval = settings.index_check_s if check_interval is None else check_interval
        # With nothing loaded yet, the first request tries at once.
        self._last_check = time.monotonic() if knowledge_base is not None else float("-inf")
        self._last_reported: str | None = None
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()

    def watch(self) -> None:
        """Check for a newer build every `check_interval` in a background thread until `stop_watching()`."""
        if self._watcher is not None:
            return
        self._stop_watching.clear()
        self._watcher = threading.Thread(target=self._watch, name="index-watcher", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        """Stop the background check (waiting for a reload in progress to end)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            self._stop_watching.set()
            watcher.join()

    def _watch(self) -> None:
        # Never spin: an interval of 0 (requests check every time) still leaves the watcher a pause.
        while not self._stop_watching.wait(max(self.check_interval, WATCH_MIN_PAUSE_S)):
            try:
                self.refresh_if_due()
            except Exception:  # the watcher must outlive any one failed check
                log.exception("the background check for a new index build failed")

    def load(self) -> None:
        """Load the index and model now; on a KBError keep it in `load_error` so requests can say what is wrong."""
        self._last_check = time.monotonic()
        try:
            self.knowledge_base = open_knowledge_base(self.settings)
        except KBError as exc:
            self.load_error = exc
            self._report(f"no index is serving: {exc.message}")
        else:
            self.load_error = None
            self._last_reported = None
            settle_after_load()
            log.info("serving index build %s from %s", self.knowledge_base.manifest.build_id, self.settings.index_dir)

    def current(self) -> "KnowledgeBase":
        """The KnowledgeBase to answer this request with, refreshed if due; raises the load error when there is none."""
        self.refresh_if_due()
        if self.knowledge_base is None:
            raise self.load_error or IndexNotBuilt(
                f"No index is loaded from {self.settings.index_dir}. Build it with {ingest_command(self.settings.index_dir)}."
            )
        return self.knowledge_base

    def ready(self) -> "KnowledgeBase | None":
        """The loaded KnowledgeBase when no check for a newer build is due (no disk access); else None: use current()."""
        if self.knowledge_base is None or time.monotonic() - self._last_check >= self.check_interval:
            return None
        return self.knowledge_base

    def refresh_if_due(self) -> None:
        """Pick up a newer build (or a first one) at most once per interval; one request checks, the others go on."""
        if time.monotonic() - self._last_check < self.check_interval:
            return
        if not self._lock.acquire(blocking=False):
            return
        try:
            if time.monotonic() - self._last_check < self.check_interval:
                return
            if self.knowledge_base is None:
                self.load()
                return
            self._last_check = time.monotonic()
            try:
                if self.knowledge_base.reload_if_changed():
                    self._reloaded()
            except KBError as exc:
                self._report(f"kept index build {self.knowledge_base.manifest.build_id}; the new one failed to load: {exc.message}")
            except Exception:
                log.exception("kept the serving index; reloading the new build failed unexpectedly")
        finally:
            self._lock.release()

    def reload_now(self) -> "KnowledgeBase":
        """Load the build the manifest names now, waiting for a check in progress; raises the KBError that stops it."""
        with self._lock:
            self._last_check = time.monotonic()
            if self.knowledge_base is None:
                self.load()
                if self.knowledge_base is None:
                    raise self.load_error or IndexNotBuilt(
                        f"No index is loaded from {self.settings.index_dir}. "
                        f"Build it with {ingest_command(self.settings.index_dir)}."
                    )
            elif self.knowledge_base.reload_if_changed():
                self._reloaded()
            return self.knowledge_base

    def _reloaded(self) -> None:
        self._last_reported = None
        settle_after_load()
        log.info("reloaded: now serving index build %s", self.knowledge_base.manifest.build_id)

    def embedder(self) -> "Embedder":
        """The serving model (shared, never loaded twice), or the configured one when no index is loaded yet."""
        if self.knowledge_base is not None:
            return self.knowledge_base.embedder
        from kb import core

        return core.get_embedder(self.settings)

    def _report(self, message: str) -> None:
        # The check runs every second; say each distinct problem once, not once a second.
        if message != self._last_reported:
            log.warning(message)
            self._last_reported = message
