"""The Milvus backend past one box, on Milvus Lite: aliases that follow the serving build, readers (replicas) that
follow a rebuild, and a loaded build that holds no vector matrix while search, ask and compare answer as with FAISS."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

import kb.store.rows as rows_module  # noqa: E402
from ingest.build import build_index  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.core import KnowledgeBase  # noqa: E402
from kb.index import FetchedRows  # noqa: E402
from kb.store import backend  # noqa: E402
from kb.store.milvus_store import MilvusLexicalStore, MilvusPlace, MilvusVectorStore  # noqa: E402
from kb.testing import HashingEmbedder  # noqa: E402
from tests.conftest import SHIPPED_NOTES  # noqa: E402
from tests.kb.compare.test_table import NOTE_DEV, NOTE_SAA  # noqa: E402
from tests.kb.store.test_milvus_backend import KINESIS_NOTE, build, collections, fail_a_rebuild, milvus_settings  # noqa: E402, F401

STORES = ("chunks", "lines", "bm25")


def aliases(settings: Settings) -> dict[str, str | None]:
    """Each store's alias and the collection it names."""
    place = MilvusPlace.of(settings)
    client = place.client(settings.index_dir / "builds" / "any")
    return {name: place.aliased(client, name) for name in STORES}


def collections_of(build_id: str) -> dict[str, str]:
    return {name: f"notes_kb_{build_id.replace('-', '_')}_{name}" for name in STORES}


def through_aliases(settings: Settings, knowledge_base: KnowledgeBase, query: str) -> None:
    """A search through the aliases finds what the loaded build's own stores find."""
    index = knowledge_base.build.index
    place = MilvusPlace.of(settings)
    client = place.client(index.directory)
    vector = knowledge_base.encode_query(query)
    for name, store in (("chunks", index.chunk_vectors), ("lines", index.line_vectors)):
        aliased = MilvusVectorStore(client, place.named(name), store.dimension, len(store))
        for found, expected in zip(aliased.search(vector, 5), store.search(vector, 5)):
            np.testing.assert_array_equal(found, expected)
    lexical = MilvusLexicalStore(client, place.named("bm25"), len(index.chunks))
    np.testing.assert_array_equal(lexical.scores(query), index.lexical.scores(query))


def test_the_aliases_follow_each_build_and_the_old_collections_go(milvus_settings: Settings) -> None:
    first = build(milvus_settings)
    assert aliases(milvus_settings) == collections_of(first.build_id)
    assert MilvusPlace.of(milvus_settings).live_build(milvus_settings.index_dir) == first.build_id
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    second = build(milvus_settings)
    assert aliases(milvus_settings) == collections_of(second.build_id)  # moved, not created again
    knowledge_base = KnowledgeBase(milvus_settings, embedder=HashingEmbedder())
    through_aliases(milvus_settings, knowledge_base, "kinesis records 24 hours")
    through_aliases(milvus_settings, knowledge_base, "sqs message retention")
    # The build before the serving one stays for readers mid-load; the one before that goes, aliases untouched.
    assert set(collections_of(first.build_id).values()) <= set(collections(milvus_settings))
    third = build(milvus_settings)
    assert aliases(milvus_settings) == collections_of(third.build_id)
    assert sorted(collections(milvus_settings)) == sorted([*collections_of(second.build_id).values(), *collections_of(third.build_id).values()])
    assert MilvusPlace.of(milvus_settings).live_build(milvus_settings.index_dir) == third.build_id


def test_a_build_that_fails_before_the_swap_leaves_the_aliases_and_old_collections_serving(
    milvus_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build(milvus_settings)
    knowledge_base = KnowledgeBase(milvus_settings, embedder=HashingEmbedder())

    fail_a_rebuild(milvus_settings, monkeypatch)
    assert aliases(milvus_settings) == collections_of(first.build_id)
    through_aliases(milvus_settings, knowledge_base, "sqs message retention")


def test_a_writer_stopped_between_the_swap_and_the_alias_move_is_finished_by_the_next_build(
    milvus_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    first = build(milvus_settings)
    stopped = dataclasses.replace(backend(milvus_settings), publish=None)  # swaps the manifest, moves no alias
    second = build_index(milvus_settings.notes_dir, milvus_settings.index_dir, HashingEmbedder(), backend=stopped)
    assert aliases(milvus_settings) == collections_of(first.build_id)
    with caplog.at_level(logging.WARNING):
        # The manifest rules what a server loads; an alias on an older build of the folder is no fault.
        assert KnowledgeBase(milvus_settings, embedder=HashingEmbedder()).manifest.build_id == second.build_id
    assert not caplog.records
    third = build(milvus_settings)  # moves the aliases to the serving build before it drops the first
    assert aliases(milvus_settings) == collections_of(third.build_id)
    assert not any(first.build_id.replace("-", "_") in name for name in collections(milvus_settings))


def test_an_alias_on_another_folders_collection_is_a_warning_naming_the_prefix(
    milvus_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    build(milvus_settings)
    client = MilvusPlace.of(milvus_settings).client(milvus_settings.index_dir / "builds" / "any")
    client.create_collection("elsewhere_chunks", dimension=4)
    client.alter_alias("elsewhere_chunks", "notes_kb_chunks")
    with caplog.at_level(logging.WARNING):
        KnowledgeBase(milvus_settings, embedder=HashingEmbedder())
    assert any("KB_MILVUS_PREFIX" in record.getMessage() and "elsewhere_chunks" in record.getMessage() for record in caplog.records)


def test_two_readers_on_one_milvus_both_follow_a_rebuild(milvus_settings: Settings) -> None:
    # Milvus Lite lets one process open its file, so the two replicas are two facades in this process: each loads
    # the builds on its own, as a `kb serve` on a Milvus server does.
    build(milvus_settings)
    replicas = [KnowledgeBase(milvus_settings, embedder=HashingEmbedder()) for _ in range(2)]
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    rebuilt = build(milvus_settings)
    for replica in replicas:
        assert replica.reload_if_changed()
        assert replica.manifest.build_id == rebuilt.build_id
        assert replica.search("kinesis records 24 hours", k=1).results[0].file == "kinesis.md"
    assert [h.id for h in replicas[0].search("sqs retention", k=5).results] == [h.id for h in replicas[1].search("sqs retention", k=5).results]


def _answers(knowledge_base: KnowledgeBase) -> list:
    return [
        [h.id for h in knowledge_base.search("how big can an object in S3 be", k=5).results],
        [h.id for h in knowledge_base.search("lambda timeout", k=5, service="lambda").results],
        knowledge_base.ask("How long can a Lambda function run?").model_dump(),
        knowledge_base.ask("What is the maximum size of an S3 object?").model_dump(),
        knowledge_base.compare(["RDS", "Aurora"]).model_dump(),
        knowledge_base.compare(["SQS", "SNS", "Kinesis Data Streams"], ["retention", "message size"]).model_dump(),
    ]


def test_a_milvus_build_holds_no_vector_matrix_yet_searches_asks_and_compares_as_faiss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "aws-advanced-topics.md").write_text((SHIPPED_NOTES / "aws-advanced-topics.md").read_text(encoding="utf-8"))
    (notes / "dev.md").write_text(NOTE_DEV, encoding="utf-8")
    (notes / "saa.txt").write_text(NOTE_SAA, encoding="utf-8")
    monkeypatch.setattr(rows_module, "BLOCK_ROWS", 16)
    monkeypatch.setattr(rows_module, "CACHE_BLOCKS", 8)
    on_milvus = Settings(notes_dir=notes, index_dir=tmp_path / "milvus-index", backend="milvus", milvus_uri=str(tmp_path / "milvus.db"))
    on_faiss = Settings(notes_dir=notes, index_dir=tmp_path / "faiss-index")
    for settings in (on_milvus, on_faiss):
        build(settings)
    milvus_kb, faiss_kb = (KnowledgeBase(s, embedder=HashingEmbedder()) for s in (on_milvus, on_faiss))
    lines, chunks = milvus_kb.build.line_matrix, milvus_kb.build.chunk_matrix
    assert isinstance(lines, FetchedRows) and isinstance(chunks, FetchedRows)
    assert isinstance(faiss_kb.build.line_matrix, np.ndarray)
    assert len(lines) > 16 * 8  # more lines than the cache holds
    milvus_kb.search("how big can an object in S3 be")
    assert lines.fetched == chunks.fetched == 0  # Milvus ranked: search read no vector
    assert _answers(milvus_kb) == _answers(faiss_kb)
    # Ask and compare read the lines they quote from, a block at a time, never the whole build at once.
    assert 0 < lines.fetched and lines.cached_rows <= 16 * 8 < len(lines)
    assert chunks.cached_rows <= 16 * 8
