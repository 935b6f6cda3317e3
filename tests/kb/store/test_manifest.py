"""kb.store.manifest: the typed manifest reads what builds have always written, writes it back byte for byte, says
what is missing, and is all the staleness check of `kb ingest` reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.build import build_index, index_is_stale
from kb.errors import IndexCorrupt, IndexNotBuilt
from kb.index import MANIFEST, build_dir, load_index, read_manifest
from kb.store.manifest import FORMAT_VERSION, Manifest, ModelInfo
from kb.testing import HashingEmbedder

# The manifest.json of a build made by the code before the manifest was typed (a front-matter note with a title
# and tags, a legacy encoding, an empty note and a skipped binary file).
OLD_MANIFEST = Path(__file__).parent / "data" / "manifest_v2.json"
NOTE = "# SQS\n\nSQS keeps messages 4 days by default, 14 days at most.\n\n# SNS\n\nSNS fans out to many subscribers.\n"


def _index_with(tmp_path: Path, manifest_text: str) -> Path:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / MANIFEST).write_text(manifest_text, encoding="utf-8")
    return index_dir


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "messaging.md").write_text(NOTE, encoding="utf-8")
    build_index(notes, tmp_path / "index", HashingEmbedder())
    return notes, tmp_path / "index"


def test_an_old_manifest_reads_into_typed_fields_and_writes_back_byte_for_byte(tmp_path: Path) -> None:
    text = OLD_MANIFEST.read_text(encoding="utf-8")
    manifest = read_manifest(_index_with(tmp_path, text))
    assert manifest.format_version == FORMAT_VERSION == 2
    assert manifest.model == ModelInfo(name="hashing-test-embedder", dimension=64)
    assert manifest.chunk_count == 3 and manifest.line_count == 3
    queues = manifest.files["queues.md"]
    assert (queues.title, queues.tags, queues.front_matter_lines) == ("Queues à la carte", ["sqs", "exam"], 4)
    assert manifest.files["latin1.md"].encoding == "cp1252" and manifest.files["latin1.md"].title is None
    assert [(p.file, p.level) for p in manifest.problems] == [
        ("blob.md", "skipped"), ("empty.txt", "notice"), ("latin1.md", "warning")
    ]
    assert manifest.fingerprint is not None and set(manifest.fingerprint.notes) == set(manifest.files) | {"blob.md"}
    assert manifest.to_json() == text  # the on-disk shape is unchanged: an absent title stays absent


def test_a_new_build_writes_the_same_json_it_reads(built: tuple[Path, Path]) -> None:
    _, index_dir = built
    manifest = read_manifest(index_dir)
    assert (index_dir / MANIFEST).read_text(encoding="utf-8") == manifest.to_json()
    copy = build_dir(index_dir, manifest.build_id) / MANIFEST
    assert Manifest.model_validate_json(copy.read_text(encoding="utf-8")) == manifest


@pytest.mark.parametrize("field", ["model", "chunk_count"])
def test_a_missing_field_is_index_corrupt_naming_it(tmp_path: Path, field: str) -> None:
    data = json.loads(OLD_MANIFEST.read_text(encoding="utf-8"))
    del data[field]
    with pytest.raises(IndexCorrupt, match=rf"incomplete \({field}: field required\).*kb ingest"):
        read_manifest(_index_with(tmp_path, json.dumps(data)))


def test_a_wrongly_typed_field_is_index_corrupt(tmp_path: Path) -> None:
    data = json.loads(OLD_MANIFEST.read_text(encoding="utf-8"))
    data["model"] = {"name": "x"}
    with pytest.raises(IndexCorrupt, match=r"model\.dimension: field required"):
        read_manifest(_index_with(tmp_path, json.dumps(data)))


def test_no_manifest_is_index_not_built(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuilt, match="kb ingest"):
        read_manifest(tmp_path)


def test_built_with_checks_name_and_dimension() -> None:
    manifest = Manifest.model_validate_json(OLD_MANIFEST.read_text(encoding="utf-8"))
    assert manifest.built_with(HashingEmbedder())
    assert not manifest.built_with(HashingEmbedder(dimension=32))
    assert not manifest.built_with(HashingEmbedder(name="all-MiniLM-L6-v2"))
    assert manifest.built_with("hashing-test-embedder") and not manifest.built_with("all-MiniLM-L6-v2")


def test_staleness_reads_the_manifest_only(built: tuple[Path, Path]) -> None:
    notes, index_dir = built
    directory = build_dir(index_dir, read_manifest(index_dir).build_id)
    for store in ("chunks.faiss", "lines.faiss"):
        (directory / store).unlink()
    shutil.rmtree(directory / "bm25")
    # Without the vector and lexical files the index cannot load, but the check never opens them.
    with pytest.raises(IndexCorrupt):
        load_index(index_dir)
    assert index_is_stale(notes, index_dir, "hashing-test-embedder") is None
    assert index_is_stale(notes, index_dir, "all-MiniLM-L6-v2") == "it was built with model 'hashing-test-embedder', not 'all-MiniLM-L6-v2'"
    (notes / "messaging.md").write_text(NOTE + "\n# SES\n\nSES sends email.\n", encoding="utf-8")
    assert index_is_stale(notes, index_dir, "hashing-test-embedder") == "the notes changed since it was built (1 changed)"


def test_staleness_of_a_missing_or_broken_index_says_so(built: tuple[Path, Path]) -> None:
    notes, index_dir = built
    shutil.rmtree(build_dir(index_dir, read_manifest(index_dir).build_id))
    assert "its build" in index_is_stale(notes, index_dir, "hashing-test-embedder") and "is missing" in index_is_stale(
        notes, index_dir, "hashing-test-embedder"
    )
    (index_dir / MANIFEST).write_text("{not json", encoding="utf-8")
    assert "cannot be used" in index_is_stale(notes, index_dir, "hashing-test-embedder")
    assert index_is_stale(notes, index_dir.parent / "elsewhere", "hashing-test-embedder").startswith("there is no index")
