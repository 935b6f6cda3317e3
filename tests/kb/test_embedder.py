"""The query batcher: answers every caller with its own vector, also from many threads at once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from kb.query_batcher import QueryBatcher
from kb.testing import HashingEmbedder


def test_each_caller_gets_its_own_vector_under_concurrency():
    embedder = HashingEmbedder()
    batcher = QueryBatcher(embedder.encode)
    texts = [f"question number {i} about sqs" for i in range(64)]
    results: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        results[i] = batcher.encode_one(texts[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    expected = HashingEmbedder().encode(texts)
    for i in range(len(texts)):
        assert results[i].shape == (1, embedder.dimension)
        assert np.allclose(results[i][0], expected[i])
    assert embedder.calls <= len(texts)


def test_an_encoder_failure_reaches_the_caller():
    def broken(texts):
        raise RuntimeError("model exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        QueryBatcher(broken).encode_one("x")


def test_the_model_runs_on_one_thread_of_its_own():
    callers: set[str] = set()
    encoders: set[str] = set()
    embedder = HashingEmbedder()

    def encode(texts):
        encoders.add(threading.current_thread().name)
        return embedder.encode(texts)

    batcher = QueryBatcher(encode)

    def ask(i: int) -> None:
        callers.add(threading.current_thread().name)
        batcher.encode_one(f"question {i}")

    threads = [threading.Thread(target=ask, args=(i,), name=f"request-{i}") for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # One malloc arena for the model's scratch memory, whatever the number of request threads.
    assert len(encoders) == 1 and not encoders & callers


def test_the_model_thread_ends_when_idle_and_comes_back_with_the_next_query():
    embedder = HashingEmbedder()
    batcher = QueryBatcher(embedder.encode, idle_s=0.05)
    first = batcher.encode_one("sqs retention")
    deadline = time.monotonic() + 5
    while batcher._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert batcher._thread is None
    assert np.allclose(batcher.encode_one("sqs retention"), first)


def test_a_failed_batch_does_not_stop_the_next_query():
    calls = []

    def flaky(texts):
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("model exploded")
        return HashingEmbedder().encode(texts)

    batcher = QueryBatcher(flaky)
    with pytest.raises(RuntimeError, match="exploded"):
        batcher.encode_one("x")
    assert batcher.encode_one("sqs").shape == (1, HashingEmbedder().dimension)
