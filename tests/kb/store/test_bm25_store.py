"""kb.store.bm25_store: the bm25s backend's LexicalStore, written to a build folder and opened again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.errors import IndexCorrupt
from kb.store.base import LexicalStore
from kb.store.bm25_store import BM25_DIR, BM25Store

TEXTS = [
    "SQS keeps messages for 4 days by default, 14 days at most",
    "SNS fans a message out to many subscribers",
    "Lambda runs for at most 15 minutes; ChangeMessageVisibility extends an SQS message's timeout",
]


@pytest.fixture
def store(tmp_path: Path) -> BM25Store:
    BM25Store.write(tmp_path, TEXTS)
    assert (tmp_path / BM25_DIR).is_dir()
    return BM25Store.open(tmp_path, len(TEXTS))


def test_scores_one_per_chunk_in_chunk_order(store: BM25Store) -> None:
    assert isinstance(store, LexicalStore)
    scores = store.scores("days kept")
    assert scores.shape == (3,) and scores.dtype == np.float32
    assert scores[0] > 0 and scores[1] == scores[2] == 0
    assert int(np.argmax(store.scores("subscribers fan out"))) == 1


def test_the_opened_store_scores_as_the_one_built_in_memory(store: BM25Store) -> None:
    built = BM25Store.build(TEXTS)
    for query in ("sqs message", "visibility", "minutes lambda", "change message visibility"):
        np.testing.assert_array_equal(store.scores(query), built.scores(query))
    assert store.scores("visibility")[2] > 0  # a CamelCase API name is found by its words


def test_a_query_of_unknown_or_stop_words_scores_zero(store: BM25Store) -> None:
    np.testing.assert_array_equal(store.scores("zebra quokka"), np.zeros(3, dtype=np.float32))
    np.testing.assert_array_equal(store.scores("the of and"), np.zeros(3, dtype=np.float32))


def test_an_unreadable_store_is_index_corrupt(tmp_path: Path) -> None:
    with pytest.raises(IndexCorrupt, match="lexical index.*unreadable"):
        BM25Store.open(tmp_path, 3)


def test_a_process_that_only_reads_scores_the_same_without_importing_scipy(store: BM25Store, tmp_path: Path) -> None:
    """bm25s uses scipy only to build; a reading process (a cold `kb ask`) skips its 0.2 s import."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from kb.store.bm25_store import BM25Store\n"
        f"store = BM25Store.open(__import__('pathlib').Path({str(tmp_path)!r}), {len(TEXTS)})\n"
        "scores = store.scores('sqs message visibility').tolist()\n"
        "print(json.dumps({'scipy': 'scipy' in sys.modules, 'scores': scores}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    read = json.loads(done.stdout)
    assert read["scipy"] is False
    np.testing.assert_allclose(read["scores"], store.scores("sqs message visibility"), rtol=1e-6)
    import scipy.sparse  # noqa: F401 - the hidden import did not leave scipy unimportable in this process either
