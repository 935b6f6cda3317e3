"""The query batcher: answers every caller with its own vector, also from many threads at once."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kb.embedder import QueryBatcher
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
