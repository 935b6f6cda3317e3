"""One model thread that encodes queries from many request threads, in shared batches."""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from typing import Callable

import numpy as np


class QueryBatcher:
    """Encodes one query per call from many threads, in shared batches, on one model thread of its own.

    The model thread encodes every query waiting when it becomes free (up to `max_batch`), in arrival order: one
    client waits for nothing, and under load queries that arrived together share one model call. Running the
    model on one thread, rather than on whichever request thread found it free, keeps its scratch memory in one
    malloc arena instead of one per request thread (with torch, 16 request threads grew the server by 300 MB),
    and no request thread waits on another's batch. The thread starts on the first query and ends after
    `idle_s` without one.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = 32, idle_s: float = 30.0) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._idle_s = idle_s
        self._pending: deque[tuple[str, Future]] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def encode_one(self, text: str) -> np.ndarray:
        """The query's vector, shape (1, dimension)."""
        future: Future = Future()
        with self._wake:
            self._pending.append((text, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="query-encoder", daemon=True)
                self._thread.start()
            else:
                self._wake.notify()
        return future.result().reshape(1, -1)

    def _serve(self) -> None:
        while True:
            with self._wake:
                if not self._pending:
                    self._wake.wait(self._idle_s)
                    if not self._pending:
                        self._thread = None  # under the lock: the next query starts a new thread
                        return
                batch = [self._pending.popleft() for _ in range(min(self._max_batch, len(self._pending)))]
            try:
                vectors = self._encode([text for text, _ in batch])
            except BaseException as exc:  # the callers raise it; the thread goes on serving
                for _, waiting in batch:
                    waiting.set_exception(exc)
            else:
                for (_, waiting), vector in zip(batch, vectors):
                    waiting.set_result(vector)
