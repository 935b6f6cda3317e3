"""Index builds: manifest, incremental re-embedding, atomic swap, lock, bad note files, killed builds."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.build import build_index, index_is_stale
from kb.store.writer import index_lock
from kb.errors import IndexBusy, IndexCorrupt, IndexNotBuilt
from kb.index import MANIFEST, build_dir, load_index, read_manifest
from kb.store.faiss_store import CHUNK_VECTORS
from kb.testing import HashingEmbedder
from tests.conftest import SHIPPED_NOTES

NOTE_A = """## SQS:

4 days message retention by default

max 14 days retention

## SNS:

SNS - one message to many receivers, fan out
"""
NOTE_B = """Lambda notes

AWS Lambda

  • Max execution time is 15 minutes
  • Memory from 128 MB to 10 GB
"""


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    directory = tmp_path / "notes"
    directory.mkdir()
    (directory / "a.md").write_text(NOTE_A, encoding="utf-8")
    (directory / "b.txt").write_text(NOTE_B, encoding="utf-8")
    return directory


def test_build_writes_a_self_describing_index(notes, tmp_index):
    report = build_index(notes, tmp_index, HashingEmbedder())
    manifest = read_manifest(tmp_index)
    assert manifest.chunk_count == report.chunks > 0
    assert manifest.model.name == "hashing-test-embedder" and manifest.model.dimension == 64
    assert set(manifest.files) == {"a.md", "b.txt"}
    assert all(len(info.sha256) == 64 for info in manifest.files.values())
    assert manifest.built_at
    loaded = load_index(tmp_index)
    assert len(loaded.chunks) == report.chunks
    assert len(loaded.chunk_vectors) == report.chunks
    assert index_is_stale(notes, tmp_index, "hashing-test-embedder") is None


def test_no_change_rebuild_embeds_nothing(notes, tmp_index):
    build_index(notes, tmp_index, HashingEmbedder())
    again = HashingEmbedder()
    report = build_index(notes, tmp_index, again)
    assert report.reembedded == 0
    assert again.encoded == []


def test_one_file_edit_reembeds_only_its_changed_chunks(notes, tmp_index):
    first = HashingEmbedder()
    build_index(notes, tmp_index, first)
    before = load_index(tmp_index)
    (notes / "a.md").write_text(NOTE_A.replace("max 14 days", "maximum of 14 days"), encoding="utf-8")
    assert index_is_stale(notes, tmp_index, "hashing-test-embedder") == "the notes changed since it was built (1 changed)"
    second = HashingEmbedder()
    report = build_index(notes, tmp_index, second)
    assert 0 < report.reembedded <= 2  # the SQS chunk and its edited line
    assert all("14 days" in text for text in second.encoded)
    after = load_index(tmp_index)
    ids_b = lambda index: {c.chunk.id for c in index.chunks if c.chunk.file == "b.txt"}  # noqa: E731
    assert ids_b(before) == ids_b(after)  # untouched file: same chunk ids, so its citation links survive


def test_previous_build_is_removed_only_after_the_swap(notes, tmp_index):
    first = build_index(notes, tmp_index, HashingEmbedder())
    second = build_index(notes, tmp_index, HashingEmbedder())
    third = build_index(notes, tmp_index, HashingEmbedder())
    assert read_manifest(tmp_index).build_id == third.build_id
    assert build_dir(tmp_index, second.build_id).is_dir()  # a reader mid-load of the previous build still finds it
    assert not build_dir(tmp_index, first.build_id).exists()


def test_second_rebuild_is_refused_while_one_runs(notes, tmp_index):
    with index_lock(tmp_index):
        with pytest.raises(IndexBusy, match="Another rebuild"):
            build_index(notes, tmp_index, HashingEmbedder())


def test_odd_notes_are_read_and_reported_and_binary_files_skipped(notes, tmp_index):
    (notes / "latin1.md").write_bytes("## Caf\xe9 cr\xe8me\n\nline two, na\xefve r\xe9sum\xe9\n".encode("latin-1"))
    (notes / "empty.txt").write_text("   \n", encoding="utf-8")
    (notes / "binary.md").write_bytes(b"## x\n\x00\x01\x02")
    report = build_index(notes, tmp_index, HashingEmbedder())
    problems = {p.file: p for p in report.problems}
    assert set(problems) == {"latin1.md", "empty.txt", "binary.md"}
    assert problems["latin1.md"].level == "warning" and "not UTF-8: read as" in problems["latin1.md"].reason
    assert problems["empty.txt"].level == "notice" and "empty" in problems["empty.txt"].reason
    assert problems["binary.md"].level == "skipped" and "binary" in problems["binary.md"].reason
    assert problems["binary.md"].line == 2
    assert set(read_manifest(tmp_index).files) == {"a.md", "b.txt", "latin1.md", "empty.txt"}
    texts = [c.chunk.text for c in load_index(tmp_index).chunks if c.chunk.file == "latin1.md"]
    assert any("Café crème" in t for t in texts)


def test_missing_and_corrupt_indexes_say_how_to_fix(notes, tmp_index):
    with pytest.raises(IndexNotBuilt, match="kb ingest"):
        load_index(tmp_index)
    build_index(notes, tmp_index, HashingEmbedder())
    faiss_file = build_dir(tmp_index, read_manifest(tmp_index).build_id) / CHUNK_VECTORS
    faiss_file.write_bytes(faiss_file.read_bytes()[:50])
    with pytest.raises(IndexCorrupt, match="kb ingest"):
        load_index(tmp_index)
    (tmp_index / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="unreadable"):
        load_index(tmp_index)
    (tmp_index / MANIFEST).write_text(json.dumps({"build_id": "x", "format_version": 99}), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="format version"):
        load_index(tmp_index)


def _kb(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kb.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.slow
def test_cli_names_the_bad_line_of_a_file_and_indexes_the_rest(notes, tmp_index):
    (notes / "bad.md").write_bytes("## ok \u2014 caf\u00e9\n\nfine line\n".encode() + b"\xff\xfe broken\n")
    proc = _kb("ingest", "--notes", str(notes), "--index", str(tmp_index))
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert "bad lines bad.md: 1 line with bytes that are not UTF-8" in stderr and ": 4" in stderr
    assert "indexed 3 files" in stdout
    assert set(read_manifest(tmp_index).files) == {"a.md", "b.txt", "bad.md"}
    # A no-change run reports the same problem and exits the same way.
    proc = _kb("ingest", "--notes", str(notes), "--index", str(tmp_index))
    again_out, again_err = proc.communicate(timeout=300)
    assert proc.returncode == 1, again_err
    assert "up to date" in again_err and "bad lines bad.md" in again_err


@pytest.mark.slow
def test_build_killed_midway_leaves_the_previous_index_serving(notes, tmp_index, tmp_path):
    from kb.config import Settings
    from kb.embedder import get_embedder

    build_index(notes, tmp_index, get_embedder(Settings()))
    before = read_manifest(tmp_index)
    big_notes = tmp_path / "big"
    shutil.copytree(SHIPPED_NOTES, big_notes)
    rng = random.Random(7)
    for delay in sorted(rng.uniform(1.0, 12.0) for _ in range(3)):
        proc = _kb("ingest", "--notes", str(big_notes), "--index", str(tmp_index))
        time.sleep(delay)
        if proc.poll() is not None:
            pytest.fail(f"the full build finished in under {delay:.1f} s; kill points must be earlier")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert read_manifest(tmp_index) == before
        loaded = load_index(tmp_index)
        assert len(loaded.chunks) == before.chunk_count
    # Leftovers of the killed builds do not stop the next one, which cleans them up.
    report = build_index(notes, tmp_index, get_embedder(Settings()))
    assert report.reembedded == 0
    leftovers = [p.name for p in (tmp_index / "builds").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_reader_that_breaks_the_contract_falls_back_to_plain_text(notes, tmp_index, monkeypatch):
    from kb.models import Section

    class Broken:
        name = "broken"

        def can_read(self, path, text):
            return True

        def sections(self, text):
            return [Section(heading_path=["x"], start_line=1, end_line=1, text="not the line")]

    monkeypatch.setattr("ingest.build.reader_for", lambda path, text: Broken())
    report = build_index(notes, tmp_index, HashingEmbedder())
    assert report.chunks > 0
    assert all(info["reader"].startswith("plain (the broken reader failed") for info in report.per_file.values())
    for stored in load_index(tmp_index).chunks:
        lines = (notes / stored.chunk.file).read_text(encoding="utf-8").splitlines()
        assert stored.chunk.text == "\n".join(lines[stored.chunk.start_line - 1 : stored.chunk.end_line])
