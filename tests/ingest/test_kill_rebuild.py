"""Rebuild robustness: a build killed with SIGKILL at random points of its file work, and very large notes.

tests/ingest/test_build.py::test_build_killed_midway_leaves_the_previous_index_serving kills the real `kb ingest`
at random times (slow: the model). Here a build with the hashing embedder runs in a child process that kills itself
at the n-th file operation it makes in the index directory (seen through a Python audit hook), so the kill points
cover every stage: reading the previous build, writing the new one, fsync, the rename, the manifest swap, cleanup.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.build import build_index
from kb.config import PROJECT_ROOT, Settings
from kb.index import MANIFEST, load_index, read_manifest
from kb.testing import HashingEmbedder

NOTES = {
    "queues.md": "# Messaging\n\n## Amazon SQS\n\nSQS keeps messages for 4 days by default, 14 days at most.\n\n"
    "## Amazon SNS\n\nSNS pushes messages to many subscribers.\n",
    "compute.txt": "Lambda notes\n\nAWS Lambda\n\n  • Max execution time is 15 minutes\n  • Memory from 128 MB to 10 GB\n",
}

# The child: build_index with the hashing embedder, killed (SIGKILL, no cleanup of any kind) at the n-th file
# operation under the index directory, or at the first one whose description starts with the text given; with 0
# it is not killed and lists the operations.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    notes, index, kill = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    kill_at = int(kill) if kill.isdigit() else None
    root = str(index.resolve())
    events = []

    def hook(event, args):
        if event not in ("open", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "shutil.rmtree"):
            return
        if not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.path.abspath(os.fsdecode(args[0]))
        if not path.startswith(root):
            return
        events.append(f"{event} {os.path.relpath(path, root)}")
        sys.stderr.write(f"EVENT {events[-1]}\\n")  # before the operation runs: a kill here means it never did
        sys.stderr.flush()
        if len(events) == kill_at or (kill_at is None and events[-1].startswith(kill)):
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    from ingest.build import build_index
    from kb.testing import HashingEmbedder

    build_index(notes, index, HashingEmbedder())
    """
)
SWAP = f"os.rename .{MANIFEST}."  # os.replace of the new manifest over the old one


def events_of(result: subprocess.CompletedProcess) -> list[str]:
    """The file operations the child started, in order; when it was killed, the last one never ran."""
    return [line[len("EVENT ") :] for line in result.stderr.splitlines() if line.startswith("EVENT ")]


def run_child(notes_dir: Path, index_dir: Path, kill_at: int | str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(notes_dir), str(index_dir), str(kill_at)],
        env=env, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
    )


def write_notes(notes_dir: Path, notes: dict[str, str]) -> Path:
    notes_dir.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (notes_dir / name).write_text(text, encoding="utf-8")
    return notes_dir


def temp_files(index_dir: Path) -> list[str]:
    builds = index_dir / "builds"
    partial = [p.name for p in builds.iterdir() if p.name.endswith(".tmp")] if builds.is_dir() else []
    return partial + [p.name for p in index_dir.glob(f".{MANIFEST}.*.tmp")]


def assert_serves(index_dir: Path, notes_dir: Path) -> str:
    """The index loads as a complete build and answers a search, as a server start would; its build id."""
    from kb.core import KnowledgeBase

    manifest = read_manifest(index_dir)
    loaded = load_index(index_dir)
    assert len(loaded.chunks) == manifest.chunk_count == len(loaded.chunk_vectors)
    knowledge_base = KnowledgeBase(Settings(notes_dir=notes_dir, index_dir=index_dir), embedder=HashingEmbedder())
    assert knowledge_base.search("sqs messages", k=1).results
    return manifest.build_id


def test_a_build_killed_at_random_file_operations_never_breaks_the_index(tmp_path: Path) -> None:
    notes_dir = write_notes(tmp_path / "notes", NOTES)
    index_dir = tmp_path / "index"
    first = build_index(notes_dir, index_dir, HashingEmbedder()).build_id
    # Every build from now on has something new to embed, so a kill can land in any stage.
    (notes_dir / "streams.md").write_text("# Streaming\n\n## Amazon Kinesis\n\nKinesis keeps records 24 hours.\n")

    dry_run = run_child(notes_dir, tmp_path / "dry-run-index", 0)
    assert dry_run.returncode == 0, dry_run.stderr
    # The dry run builds from nothing; against an existing index the child does more (reading it, cleaning up).
    events = events_of(dry_run)
    assert any(e.startswith("os.rename builds/") for e in events) and any(e.endswith(MANIFEST) for e in events)

    rng = random.Random(1207)
    kill_points = sorted(set(rng.sample(range(1, len(events) + 12), 8)) | {1, 2, len(events) - 1, len(events)})
    serving = first
    outcomes = []
    for kill_at in kill_points:
        result = run_child(notes_dir, index_dir, kill_at)
        if result.returncode == 0:
            outcomes.append("finished")  # it made fewer operations than kill_at: the build completed
        else:
            assert result.returncode == -signal.SIGKILL, result.stderr
            outcomes.append("killed")
        # Killed before the manifest swap, the previous build serves; after it, the new one, complete.
        done = events_of(result) if result.returncode == 0 else events_of(result)[:-1]
        swapped = any(event.startswith(SWAP) for event in done)
        now = assert_serves(index_dir, notes_dir)
        assert (now != serving) == swapped, (kill_at, events_of(result)[-1])
        serving = now
    assert outcomes.count("killed") >= 8

    report = build_index(notes_dir, index_dir, HashingEmbedder())
    assert read_manifest(index_dir).build_id == report.build_id
    assert temp_files(index_dir) == []
    assert len(list((index_dir / "builds").iterdir())) <= 2  # the new build and the one before it
    assert assert_serves(index_dir, notes_dir) == report.build_id


@pytest.mark.parametrize(
    "moment",
    [
        "shutil.rmtree builds/",  # removing a build older than the previous one, before building
        "os.mkdir builds/",  # starting builds/<id>.tmp
        "os.rename builds/",  # renaming builds/<id>.tmp to builds/<id>
        f"open .{MANIFEST}.",  # writing the new manifest beside the serving one
        SWAP,  # the atomic swap itself (the kill comes just before os.replace runs)
    ],
)
def test_a_build_killed_around_the_swap_serves_the_previous_index(tmp_path: Path, moment: str) -> None:
    notes_dir = write_notes(tmp_path / "notes", NOTES)
    index_dir = tmp_path / "index"
    build_index(notes_dir, index_dir, HashingEmbedder())
    previous = build_index(notes_dir, index_dir, HashingEmbedder()).build_id  # two builds: cleanup has work to do
    (notes_dir / "streams.md").write_text("# Streaming\n\n## Amazon Kinesis\n\nKinesis keeps records 24 hours.\n")
    result = run_child(notes_dir, index_dir, moment)
    assert result.returncode == -signal.SIGKILL, (moment, result.stderr)
    assert events_of(result)[-1].startswith(moment)
    assert assert_serves(index_dir, notes_dir) == previous
    report = build_index(notes_dir, index_dir, HashingEmbedder())
    assert temp_files(index_dir) == [] and read_manifest(index_dir).build_id == report.build_id
    assert "streams.md" in read_manifest(index_dir).files
    assert assert_serves(index_dir, notes_dir) == report.build_id


# -- very large notes ------------------------------------------------------------------------------------------------

# The child reports its peak resident memory (ru_maxrss, KiB on Linux) after building the notes it is given.
MEMORY_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from ingest.build import build_index
    from kb.testing import HashingEmbedder

    notes, index = Path(sys.argv[1]), Path(sys.argv[2])
    report = build_index(notes, index, HashingEmbedder())
    print(json.dumps({"chunks": report.chunks, "lines": report.lines, "problems": len(report.problems),
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """
)


def build_in_child(notes_dir: Path, index_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(notes_dir), str(index_dir)],
        env=env, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def big_note(size: int) -> str:
    """A markdown note of about `size` bytes: many service sections of ordinary bullet lines."""
    rng = random.Random(5)
    words = "queue message retention days visibility timeout bucket object lifecycle function memory region".split()
    parts, total, n = [], 0, 0
    while total < size:
        n += 1
        lines = [f"## Amazon SQS part {n}", ""] + [
            "- " + " ".join(rng.choice(words) for _ in range(rng.randint(6, 18))) + f" {n}.{i}" for i in range(12)
        ] + [""]
        block = "\n".join(lines) + "\n"
        parts.append(block)
        total += len(block.encode())
    return "# Big notes\n\n" + "".join(parts)


def test_a_5_mb_note_and_a_100000_character_line_ingest_without_blowing_memory(tmp_path: Path, figures) -> None:
    baseline = build_in_child(write_notes(tmp_path / "small", NOTES), tmp_path / "small-index")

    big_dir = write_notes(tmp_path / "big", {"big.md": big_note(5 * 1024 * 1024)})
    # One line of exactly 100,000 characters: 15,000 words or so, the last of which (zebrafinal) is unique.
    tail = " zebrafinal"
    body = ("Glacier " + " ".join(f"w{i}" for i in range(20_000)))[: 100_000 - len(tail)]
    body = body[: body.rfind(" ")]
    filler = 100_000 - len(body) - len(tail)
    long_line = body + (" " + "y" * (filler - 1) if filler > 1 else " " * filler) + tail
    assert len(long_line) == 100_000
    (big_dir / "long-line.md").write_text(f"# Long\n\n## Amazon S3 Glacier\n\n{long_line}\n\nAfter the long line.\n")
    size = sum(p.stat().st_size for p in big_dir.iterdir())
    assert size >= 5 * 1024 * 1024

    big = build_in_child(big_dir, tmp_path / "big-index")
    assert big["problems"] == 0 and big["chunks"] > 1000
    growth_mb = (big["peak_kib"] - baseline["peak_kib"]) / 1024
    figures["peak memory over the imports, 5 MB note + 100,000-character line (hashing embedder)"] = (
        f"{growth_mb:.0f} MB for {size / 1e6:.1f} MB of notes ({big['chunks']} chunks, {big['lines']} line units)"
    )
    # Bounded by a small multiple of the notes, not by anything quadratic in them.
    assert growth_mb < 60 * size / 1e6, growth_mb

    # The long line is cut into slices, each exactly its characters of the line, in order and missing no word;
    # its last word can be found, in the last slice.
    index = load_index(tmp_path / "big-index")
    note_lines = (big_dir / "long-line.md").read_text().splitlines()
    number = note_lines.index(long_line) + 1
    slices = sorted(
        (c.chunk for c in index.chunks if c.chunk.file == "long-line.md" and c.chunk.start_line == number),
        key=lambda c: c.start_char,
    )
    assert len(slices) > 10
    assert all(c.end_line == number and c.text == long_line[c.start_char : c.end_char] for c in slices)
    assert " ".join(c.text for c in slices).split() == long_line.split()
    from kb.core import KnowledgeBase

    knowledge_base = KnowledgeBase(Settings(notes_dir=big_dir, index_dir=tmp_path / "big-index"), embedder=HashingEmbedder())
    found = knowledge_base.search("zebrafinal", k=3, mode="bm25").results
    assert found and found[0].id == slices[-1].id and found[0].end_char == len(long_line)
