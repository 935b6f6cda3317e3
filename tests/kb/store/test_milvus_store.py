"""kb/store/milvus_store.py on Milvus Lite: a build's stores written, opened, searched and dropped, against FAISS's
flat search and bm25s on the same vectors and texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from kb.config import Settings  # noqa: E402
from kb.errors import IndexCorrupt  # noqa: E402
from kb.store.bm25_store import BM25Store  # noqa: E402
from kb.store.milvus_store import (  # noqa: E402
    MilvusLexicalStores,
    MilvusPlace,
    MilvusVectorStores,
    backend_uri,
    close_clients,
    shown_uri,
)
from tests.api.conftest import NOTES  # noqa: E402

DIMENSION = 16
# Paragraphs of the inline test notes: each is one "chunk" of the lexical store.
TEXTS = [paragraph.strip() for note in NOTES.values() for paragraph in note.split("\n\n") if paragraph.strip()]


@pytest.fixture
def place(tmp_path: Path):
    """A Milvus Lite file of its own for each test, closed afterwards (the file stays locked while open)."""
    yield MilvusPlace(uri=str(tmp_path / "milvus.db"))
    close_clients()


def unit_vectors(rows: int, seed: int = 7) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build_folder(tmp_path: Path, build_id: str = "20261207T100000-abcdef12") -> Path:
    """A build folder as the writer makes one: written as <id>.tmp, renamed into place afterwards."""
    folder = tmp_path / "index" / "builds" / f"{build_id}.tmp"
    folder.mkdir(parents=True)
    return folder


def test_vectors_are_written_read_back_and_searched_as_faiss_flat_search_does(tmp_path: Path, place: MilvusPlace) -> None:
    import faiss

    vectors = unit_vectors(300)
    stores = MilvusVectorStores(place)
    written = build_folder(tmp_path)
    stores.write(written, "lines", vectors)
    folder = written.rename(written.with_name(written.name.removesuffix(".tmp")))
    store = stores.open(folder, "lines", expected_rows=300, dimension=DIMENSION)
    assert len(store) == 300 and store.dimension == DIMENSION
    np.testing.assert_allclose(store.vectors(), vectors, atol=1e-6)

    flat = faiss.IndexFlatIP(DIMENSION)
    flat.add(vectors)
    queries = unit_vectors(3, seed=11)
    scores, rows = store.search(queries, 20)
    faiss_scores, faiss_rows = flat.search(queries, 20)
    np.testing.assert_array_equal(rows, faiss_rows)
    np.testing.assert_allclose(scores, faiss_scores, atol=1e-5)

    # The service filter: only the allowed rows, still best first.
    allowed = np.arange(0, 300, 7)
    scores, rows = store.search(queries[:1], 10, allowed_rows=allowed)
    expected = allowed[np.argsort(-(vectors[allowed] @ queries[0]), kind="stable")[:10]]
    np.testing.assert_array_equal(rows[0], expected)
    assert set(rows[0]) <= set(allowed)
    # Fewer allowed rows than k: only those come back.
    assert store.search(queries[:1], 10, allowed_rows=np.array([5, 9]))[1][0].tolist() in ([5, 9], [9, 5])


def test_bm25_in_milvus_ranks_chunks_as_bm25s_does(tmp_path: Path, place: MilvusPlace) -> None:
    stores = MilvusLexicalStores(place)
    folder = build_folder(tmp_path)
    stores.write(folder, TEXTS)
    store = stores.open(folder, len(TEXTS))
    reference = BM25Store.build(TEXTS)
    for query in ("SQS message retention days", "visibility timeout", "Lambda batches of SQS messages", "Glacier lifecycle"):
        milvus, bm25s = store.scores(query), reference.scores(query)
        assert milvus.shape == bm25s.shape == (len(TEXTS),)
        # The same chunks match, in the same order (the scales differ by Milvus's own normalisation).
        np.testing.assert_array_equal(milvus > 0, bm25s > 0)
        assert np.argsort(-milvus, kind="stable")[: int((bm25s > 0).sum())].tolist() == np.argsort(-bm25s, kind="stable")[: int((bm25s > 0).sum())].tolist(), query
    assert not store.scores("the and of").any()  # stop words only: no score, as with bm25s
    assert not store.scores("kubernetes").any()


def test_a_missing_or_short_collection_is_index_corrupt_saying_how_to_rebuild(tmp_path: Path, place: MilvusPlace) -> None:
    folder = build_folder(tmp_path)
    with pytest.raises(IndexCorrupt, match="kb ingest"):
        MilvusVectorStores(place).open(folder, "chunks", expected_rows=3, dimension=DIMENSION)
    MilvusVectorStores(place).write(folder, "chunks", unit_vectors(3))
    with pytest.raises(IndexCorrupt, match="holds 3 vectors of dimension 16, the manifest expects 4"):
        MilvusVectorStores(place).open(folder, "chunks", expected_rows=4, dimension=DIMENSION)
    MilvusLexicalStores(place).write(folder, TEXTS[:2])
    with pytest.raises(IndexCorrupt, match="holds 2 chunks"):
        MilvusLexicalStores(place).open(folder, 5)


def test_drop_removes_a_builds_collections_and_leaves_the_others(tmp_path: Path, place: MilvusPlace) -> None:
    old, new = build_folder(tmp_path, "old-build"), build_folder(tmp_path, "new-build")
    vector_stores, lexical_stores = MilvusVectorStores(place), MilvusLexicalStores(place)
    for folder in (old, new):
        vector_stores.write(folder, "chunks", unit_vectors(4))
        lexical_stores.write(folder, TEXTS[:4])
    client = place.client(old)
    assert len([c for c in client.list_collections() if c.startswith("notes_kb_")]) == 4
    # The garbage collector drops a temporary folder's collections by its folder name, .tmp or not.
    vector_stores.drop(old, "chunks")
    lexical_stores.drop(old)
    assert sorted(client.list_collections()) == ["notes_kb_new_build_bm25", "notes_kb_new_build_chunks"]
    assert len(vector_stores.open(new, "chunks", 4, DIMENSION)) == 4


def test_an_empty_build_has_empty_stores(tmp_path: Path, place: MilvusPlace) -> None:
    folder = build_folder(tmp_path)
    MilvusVectorStores(place).write(folder, "lines", np.zeros((0, DIMENSION), dtype=np.float32))
    MilvusLexicalStores(place).write(folder, [])
    store = MilvusVectorStores(place).open(folder, "lines", 0, DIMENSION)
    assert store.vectors().shape == (0, DIMENSION)
    assert store.search(unit_vectors(1), 5)[1].shape == (1, 0)
    assert MilvusLexicalStores(place).open(folder, 0).scores("sqs").shape == (0,)


def test_the_uri_and_token_settings() -> None:
    settings = Settings(milvus_uri="https://admin:hunter2@milvus.example:19530/", milvus_token="root:Milvus")
    place = MilvusPlace.of(settings)
    assert place.token == "root:Milvus" and "root:Milvus" not in repr(place)
    assert "Milvus" not in repr(settings) and "root:Milvus" not in settings.model_dump_json()
    assert shown_uri(settings.milvus_uri) == "https://milvus.example:19530/"
    assert shown_uri("/var/lib/notes/milvus.db") == "/var/lib/notes/milvus.db"
    # No URI: a Milvus Lite file in the index folder.
    assert MilvusPlace().resolved_uri(Path("/srv/index")) == str(Path("/srv/index/milvus.db").resolve())
    assert place.resolved_uri(Path("/srv/index")) == settings.milvus_uri
    assert backend_uri(settings) == "https://milvus.example:19530/"
    assert MilvusPlace(prefix="team_a").collection(Path("/srv/index/builds/20261207T1-ab.tmp"), "lines") == "team_a_20261207T1_ab_lines"


def test_a_new_build_drops_the_collections_of_a_failed_build_whose_folder_is_gone(tmp_path: Path, place: MilvusPlace) -> None:
    import shutil

    serving, failed = build_folder(tmp_path, "20261207T100000-aaaaaaaa"), build_folder(tmp_path, "20261207T100100-bbbbbbbb")
    MilvusVectorStores(place).write(serving, "chunks", unit_vectors(4))
    MilvusVectorStores(place).write(failed, "chunks", unit_vectors(4))
    # Another index folder's collections in the same Milvus, under a prefix that starts with this one's.
    MilvusVectorStores(MilvusPlace(place.uri, prefix="notes_kb_team")).write(failed, "chunks", unit_vectors(4))
    shutil.rmtree(failed)  # what a failed reindex leaves: its folder removed, its collection not
    MilvusVectorStores(place).write(build_folder(tmp_path, "20261207T100200-cccccccc"), "chunks", unit_vectors(4))
    assert sorted(place.client(serving).list_collections()) == [
        "notes_kb_20261207T100000_aaaaaaaa_chunks",
        "notes_kb_20261207T100200_cccccccc_chunks",
        "notes_kb_team_20261207T100100_bbbbbbbb_chunks",
    ]


def test_a_milvus_lite_file_open_in_another_process_is_index_busy_saying_what_to_do(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kb.errors import IndexBusy

    lite = tmp_path / "milvus.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from pymilvus import MilvusClient; c = MilvusClient({str(lite)!r}); print('open', flush=True); input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(IndexBusy, match="one process") as raised:
            MilvusVectorStores(MilvusPlace(uri=str(lite))).write(build_folder(tmp_path), "chunks", unit_vectors(2))
        assert "POST /admin/reindex" in raised.value.message and "http://host:19530" in raised.value.message
    finally:
        holder.communicate("\n", timeout=30)
        close_clients()
