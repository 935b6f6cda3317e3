"""Replicas on one Milvus without a shared folder, on Milvus Lite: a build written through one index folder is
fetched into another (empty) one and serves the same; a replica follows the next build; a damaged build in Milvus
is refused while the replica keeps serving; old builds' files leave Milvus with their collections.

Milvus Lite lets one process open its file, so the writer's client is closed before the replica opens the file
(as a second machine would); the two index folders stand for two machines."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

import kb.store.milvus_files as milvus_files  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.core import KnowledgeBase  # noqa: E402
from kb.errors import IndexCorrupt  # noqa: E402
from kb.store.milvus_files import PAD, MilvusBuildFiles, _encoded_parts  # noqa: E402
from kb.store.milvus_store import MilvusPlace, close_clients  # noqa: E402
from kb.testing import HashingEmbedder  # noqa: E402
from tests.kb.store.test_milvus_backend import KINESIS_NOTE, QUERIES, build, milvus_settings  # noqa: E402, F401

BUILD_FILES = ["chunks.jsonl", "lines.json", "manifest.json"]


@pytest.fixture
def replica_settings(milvus_settings: Settings, tmp_path: Path) -> Settings:
    """A second, empty index folder on the same Milvus Lite file: another machine's `kb serve`."""
    return milvus_settings.model_copy(update={"index_dir": tmp_path / "replica-index"})


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts of 200 characters: the small test notes' files then span several parts, as real builds' files do.
    monkeypatch.setattr(milvus_files, "PART_CHARS", 200)


def top_ten(knowledge_base: KnowledgeBase) -> list[list[str]]:
    return [[hit.id for hit in knowledge_base.search(query, k=10).results] for query in QUERIES]


def shared(settings: Settings) -> MilvusBuildFiles:
    return MilvusBuildFiles(MilvusPlace.of(settings))


def stored_builds(settings: Settings) -> set[str]:
    files = shared(settings)
    rows = files.place.index_client(settings.index_dir).query(files.files_collection, filter="part == 0", output_fields=["build"])
    return {row["build"] for row in rows}


def parts_of(settings: Settings, build_id: str, name: str) -> list[dict]:
    files = shared(settings)
    rows = files.place.index_client(settings.index_dir).query(
        files.files_collection, filter=f'build == "{build_id}" and name == "{name}"', output_fields=["*"]
    )
    return sorted(rows, key=lambda row: row["part"])


def test_a_build_written_through_one_folder_serves_the_same_from_an_empty_one(
    milvus_settings: Settings, replica_settings: Settings
) -> None:
    written = build(milvus_settings)
    close_clients()  # the writer is gone; the replica opens the Milvus Lite file afresh
    replica = KnowledgeBase(replica_settings, embedder=HashingEmbedder())
    assert replica.manifest.build_id == written.build_id
    folder, fetched = (s.index_dir / "builds" / written.build_id for s in (milvus_settings, replica_settings))
    assert sorted(p.name for p in fetched.iterdir()) == BUILD_FILES
    for name in BUILD_FILES:
        assert (fetched / name).read_bytes() == (folder / name).read_bytes(), name
    assert (replica_settings.index_dir / "manifest.json").read_bytes() == (milvus_settings.index_dir / "manifest.json").read_bytes()
    assert len(parts_of(milvus_settings, written.build_id, "chunks.jsonl")) > 1
    assert top_ten(replica) == top_ten(KnowledgeBase(milvus_settings, embedder=HashingEmbedder()))
    assert not list(replica_settings.index_dir.glob(".fetch-*"))


def test_a_replica_follows_the_build_milvus_names(milvus_settings: Settings, replica_settings: Settings) -> None:
    first = build(milvus_settings)
    replica = KnowledgeBase(replica_settings, embedder=HashingEmbedder())
    assert replica.reload_if_changed() is False
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    second = build(milvus_settings)
    assert shared(replica_settings).serving(replica_settings.index_dir) == second.build_id
    assert replica.reload_if_changed()
    assert replica.manifest.build_id == second.build_id
    assert replica.search("kinesis records 24 hours", k=1).results[0].file == "kinesis.md"
    third = build(milvus_settings)
    assert replica.reload_if_changed() and replica.manifest.build_id == third.build_id
    # The replica's folder keeps the serving build and the one before it, as the writer's does.
    builds = sorted(p.name for p in (replica_settings.index_dir / "builds").iterdir())
    assert builds == sorted([second.build_id, third.build_id]) and first.build_id not in builds


def _missing_part(settings: Settings, build_id: str) -> str:
    rows = parts_of(settings, build_id, "chunks.jsonl")
    shared(settings).place.index_client(settings.index_dir).delete(shared(settings).files_collection, ids=[rows[1]["key"]])
    return f"part 2 of {len(rows)} of its file chunks.jsonl is missing"


def _other_bytes(settings: Settings, build_id: str) -> str:
    """lines.json's parts replaced by well-formed parts of other bytes, under the old sha256."""
    files = shared(settings)
    client = files.place.index_client(settings.index_dir)
    rows = parts_of(settings, build_id, "lines.json")
    client.delete(files.files_collection, ids=[row["key"] for row in rows])
    forged = _encoded_parts(b'{"chunk": [], "line": [], "part": [], "hash": []}')
    client.insert(files.files_collection, [
        {**rows[0], "key": f"{build_id}/lines.json/{number}", "part": number, "parts": len(forged), "data": text, "pad": PAD}
        for number, text in enumerate(forged)
    ])
    return "its file lines.json does not match its sha256"


def _missing_file(settings: Settings, build_id: str) -> str:
    files = shared(settings)
    files.place.index_client(settings.index_dir).delete(files.files_collection, filter=f'build == "{build_id}" and name == "manifest.json"')
    return "it holds 2 of its 3 files"


@pytest.mark.parametrize("damage", [_missing_part, _other_bytes, _missing_file], ids=["missing part", "sha256", "missing file"])
def test_a_damaged_build_in_milvus_is_a_clear_error_and_the_replica_keeps_serving(
    milvus_settings: Settings, replica_settings: Settings, damage
) -> None:
    first = build(milvus_settings)
    replica = KnowledgeBase(replica_settings, embedder=HashingEmbedder())
    before = top_ten(replica)
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    second = build(milvus_settings)
    what = damage(milvus_settings, second.build_id)
    with pytest.raises(IndexCorrupt) as caught:
        replica.reload_if_changed()
    assert what in caught.value.message and second.build_id in caught.value.message
    assert "Rebuild it with" in caught.value.message
    assert replica.manifest.build_id == first.build_id and top_ten(replica) == before
    # Nothing of the damaged build is left in the replica's folder, and its manifest still names the first build.
    assert sorted(p.name for p in (replica_settings.index_dir / "builds").iterdir()) == [first.build_id]
    assert not list(replica_settings.index_dir.glob(".fetch-*"))
    # A fresh replica refuses it the same way.
    with pytest.raises(IndexCorrupt, match="cannot be read"):
        KnowledgeBase(replica_settings.model_copy(update={"index_dir": replica_settings.index_dir.parent / "fresh"}), embedder=HashingEmbedder())
    # The writer's next build is whole again, and the replica follows it.
    third = build(milvus_settings)
    assert replica.reload_if_changed() and replica.manifest.build_id == third.build_id


def test_old_builds_files_leave_milvus_with_their_collections(milvus_settings: Settings) -> None:
    first = build(milvus_settings)
    assert stored_builds(milvus_settings) == {first.build_id}
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    second = build(milvus_settings)
    assert stored_builds(milvus_settings) == {first.build_id, second.build_id}  # the previous build stays
    third = build(milvus_settings)
    assert stored_builds(milvus_settings) == {second.build_id, third.build_id}
    # A build folder removed by hand: its files go with the next build, as its collections do.
    shutil.rmtree(milvus_settings.index_dir / "builds" / second.build_id)
    fourth = build(milvus_settings)
    assert stored_builds(milvus_settings) == {third.build_id, fourth.build_id}


def test_a_writer_whose_folder_fell_behind_catches_up_before_it_builds(
    milvus_settings: Settings, replica_settings: Settings
) -> None:
    first = build(milvus_settings)
    replica_writes = replica_settings.model_copy()
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    second = build(replica_writes)  # a rebuild through the replica's empty folder
    # It fetched the serving build first: that build was its previous one, kept, and its vectors reused.
    assert second.reused > 0 and 0 < second.reembedded <= 3
    third = build(milvus_settings)  # back on the first folder, which is now behind
    assert shared(milvus_settings).serving(milvus_settings.index_dir) == third.build_id
    assert third.reembedded == 0
    assert stored_builds(milvus_settings) == {second.build_id, third.build_id}
    assert first.build_id not in stored_builds(milvus_settings)


def test_a_watching_server_follows_milvus_and_keeps_serving_through_a_damaged_build(
    milvus_settings: Settings, replica_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from api.serving import Serving
    from tests.api.test_serving import _wait_for_build

    build(milvus_settings)
    # A token Milvus Lite ignores: no message may show it.
    settings = replica_settings.model_copy(update={"index_check_s": 0.1, "milvus_token": SecretStr("notes_kb:s3cret-token")})
    serving = Serving(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))
    serving.watch()
    try:
        (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
        second = build(milvus_settings)
        assert _wait_for_build(serving, second.build_id), "the watcher did not fetch the new build"
        with caplog.at_level(logging.INFO):
            # The third build is damaged before the watcher can see it: a check between its publishing and the
            # damage would rightly take it whole (a race the test, not the watcher, had).
            serving.stop_watching()
            third = build(milvus_settings)
            _missing_part(milvus_settings, third.build_id)
            serving.watch()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(third.build_id in r.getMessage() for r in caplog.records):
                time.sleep(0.05)
        assert serving.knowledge_base.manifest.build_id == second.build_id
        assert serving._watcher is not None and serving._watcher.is_alive()
    finally:
        serving.stop_watching()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"kept index build {second.build_id}" in logged and "is missing" in logged
    assert "s3cret" not in logged
