"""A notes folder as people keep one, built end to end (hashing embedder): nested folders, CRLF with front matter,
Latin-1, UTF-16 with a BOM, one bad byte, an empty file, an app's hidden folder, a 1 MB note, a 100 KB line,
a .kbignore; every note indexed, every passage exactly its lines (or its slice of one line), problems on every run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.build import build_index
from kb.cli import app
from kb.config import Settings
from kb.index import load_index, read_manifest
from kb.testing import HashingEmbedder

FRONT = "---\r\ntitle: Route 53 on Windows\r\ntags: [dns, exam]\r\n---\r\n"
CRLF_BODY = "# Routing\r\n\r\nRoute 53 latency routing sends users to the fastest region.\r\n\r\nHealth checks run every 30 s.\r\n"
ENCODINGS = {
    "top.md": "utf-8",
    "AWS/sub/route53-windows.md": "utf-8",
    "AWS/latin1.md": "cp1252",
    "AWS/sub/deeper/utf16.md": "utf-16",
    "mixed.md": "utf-8",
    "empty.md": "utf-8",
    "big/generated.md": "utf-8",
    "big/longline.md": "utf-8",
}


def big_note(size: int) -> str:
    out, n = [], 0
    while sum(map(len, out)) < size:
        out.append(f"## Topic {n}\n\nIn lab run {n}, SQS keeps message {n} for {n % 14 + 1} days.\n- DynamoDB item {n} is at most 400 KB\n\n")
        n += 1
    return "".join(out)


def long_line(size: int) -> str:
    sentences, n = [], 0
    while sum(len(s) + 1 for s in sentences) < size:
        sentences.append(f"Kinesis shard {n} takes 1 MB/s of writes and word{n} is unique.")
        n += 1
    return " ".join(sentences)[:size].rstrip() + " needlefinal."


def make_vault(root: Path) -> Path:
    files: dict[str, bytes] = {
        "top.md": b"# Top\n\nS3 stores objects up to 5 TB.\n",
        "AWS/sub/route53-windows.md": (FRONT + CRLF_BODY).encode(),
        "AWS/latin1.md": "# Caf\u00e9 notes\n\nZo\u00eb M\u00fcller: Glacier keeps archives na\u00efvely cheap.\n".encode("cp1252"),
        "AWS/sub/deeper/utf16.md": "# Lambda\n\nLambda runs up to 15 minutes.\n".encode("utf-16"),
        "mixed.md": "# Mixed \u2014 UTF-8\n\nfine line\n".encode() + b"one bad \xff byte\n" + "after it, caf\u00e9\n".encode(),
        "empty.md": b"",
        "big/generated.md": big_note(1024 * 1024).encode(),
        "big/longline.md": ("# Long\n\n" + long_line(100_000) + "\n\nAfter the long line.\n").encode(),
        ".obsidian/workspace.md": b"# not a note\n",
        ".obsidian/app.json": b"{}",
        "drafts/wip.md": b"# ignored by .kbignore\n",
        "attachments/diagram.png": b"\x89PNG\r\n\x1a\n",
        ".kbignore": b"drafts/\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("vault")
    notes, index = make_vault(root / "notes"), root / "index"
    report = build_index(notes, index, HashingEmbedder())
    return notes, index, report


def file_lines(notes: Path, name: str) -> list[str]:
    return (notes / name).read_bytes().decode(ENCODINGS[name], errors="replace").splitlines()


def test_every_note_is_indexed_under_its_path_in_the_folder(vault) -> None:
    notes, index, report = vault
    manifest = read_manifest(index)
    assert set(manifest.files) == set(ENCODINGS)
    chunk_files = {c.chunk.file for c in load_index(index).chunks}
    assert chunk_files == set(ENCODINGS) - {"empty.md"}
    assert manifest.files["AWS/sub/deeper/utf16.md"].encoding == "utf-16"
    assert manifest.files["AWS/latin1.md"].encoding == "cp1252"


def test_every_passage_is_exactly_its_lines_or_its_slice(vault) -> None:
    notes, index, _ = vault
    cache: dict[str, list[str]] = {}
    for stored in load_index(index).chunks:
        c = stored.chunk
        if c.file not in cache:
            cache[c.file] = file_lines(notes, c.file)
        lines = cache[c.file]
        if c.start_char is None:
            assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line]), (c.file, c.start_line)
        else:
            assert c.start_line == c.end_line and c.text == lines[c.start_line - 1][c.start_char : c.end_char]


def test_front_matter_is_metadata_not_a_passage(vault) -> None:
    _, index, _ = vault
    chunks = [c.chunk for c in load_index(index).chunks if c.chunk.file == "AWS/sub/route53-windows.md"]
    assert chunks and all(c.start_line >= 5 for c in chunks)  # lines 1-4 are the front matter
    assert all("title:" not in c.text for c in chunks)
    assert all(c.tags == ["dns", "exam"] for c in chunks)
    assert any(c.text.startswith("# Routing") and c.start_line == 5 for c in chunks)
    info = read_manifest(index).files["AWS/sub/route53-windows.md"]
    assert (info.title, info.tags, info.front_matter_lines) == ("Route 53 on Windows", ["dns", "exam"], 4)


def test_problems_name_the_skipped_file_the_bad_line_the_encoding_and_the_empty_note(vault) -> None:
    _, index, report = vault
    problems = {(p.file, p.level): p for p in report.problems}
    assert set(problems) == {
        ("attachments/diagram.png", "skipped"),
        ("mixed.md", "bad_lines"),
        ("AWS/latin1.md", "warning"),
        ("empty.md", "notice"),
    }
    assert problems[("mixed.md", "bad_lines")].lines == [4]
    assert read_manifest(index).problems == report.problems


def test_the_big_note_and_the_long_line_are_searchable_with_exact_citations(vault) -> None:
    notes, index, _ = vault
    from kb.core import KnowledgeBase

    kb = KnowledgeBase(Settings(notes_dir=notes, index_dir=index), embedder=HashingEmbedder())
    hit = kb.search("needlefinal", k=1, mode="bm25").results[0]
    line = file_lines(notes, "big/longline.md")[hit.start_line - 1]
    assert hit.file == "big/longline.md" and hit.end_char == len(line) and hit.text == line[hit.start_char :]
    assert len(hit.text) < 2000
    hit = kb.search("lab run 9000", k=1, mode="bm25").results[0]
    assert hit.file == "big/generated.md" and "lab run 9000," in hit.text
    passage = kb.passage(kb.search("Glacier archives", k=1, mode="bm25").results[0].id, context=2)
    assert passage.passage.file == "AWS/latin1.md" and "Zoë Müller" in passage.passage.text


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def small_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr("kb.embedder.get_embedder", lambda settings: HashingEmbedder())
    monkeypatch.setattr("kb.model_folder.resolve_model", lambda model: ("hashing-test-embedder", None))
    notes = tmp_path / "notes"
    for name, data in {
        "a.md": b"# SQS\n\nSQS keeps messages 4 days.\n",
        "sub/b.md": b"# SNS\n\nSNS fans out.\n",
        "mixed.md": "# M \u2014 x\n\n".encode() + b"bad \xff\n",
        "empty.md": b"",
        "notes.pdf": b"%PDF-1.4",
    }.items():
        (notes / name).parent.mkdir(parents=True, exist_ok=True)
        (notes / name).write_bytes(data)
    return notes, tmp_path / "index"


def test_a_no_change_run_reports_the_same_problems_and_exit_code(small_vault) -> None:
    notes, index = small_vault
    first = run_cli("ingest", "--notes", str(notes), "--index", str(index), "--json")
    assert first.exit_code == 1, first.output
    assert f"building a new index at {index}" in first.stderr
    again = run_cli("ingest", "--notes", str(notes), "--index", str(index), "--json")
    assert again.exit_code == 1, again.output
    assert "up to date" in again.stderr
    assert json.loads(again.stdout)["problems"] == json.loads(first.stdout)["problems"]
    for text in (first.stderr, again.stderr):
        assert "skipped notes.pdf: not a note" in text and "bad lines mixed.md" in text and "note empty.md: empty" in text
    (notes / "mixed.md").write_bytes(b"# M\n\nfixed\n")
    (notes / "notes.pdf").unlink()
    fixed = run_cli("ingest", "--notes", str(notes), "--index", str(index))
    assert fixed.exit_code == 0, fixed.output  # an empty note alone does not fail a run
    assert "rebuilding the index" in fixed.stderr and "1 changed, 1 removed" in fixed.stderr


def test_progress_lines_appear_when_stderr_is_not_a_terminal(small_vault) -> None:
    notes, index = small_vault
    result = run_cli("ingest", "--notes", str(notes), "--index", str(index))
    assert "reading: 4 of 5 files are notes" in result.stderr
    assert "embedding: " in result.stderr and "texts/s" in result.stderr


def test_a_file_given_as_notes_folder_is_bad_usage(small_vault) -> None:
    notes, index = small_vault
    result = run_cli("ingest", "--notes", str(notes / "a.md"), "--index", str(index))
    assert result.exit_code == 2
    assert "is a file; --notes (KB_NOTES_DIR) wants the folder" in result.stderr
    result = run_cli("chunks", "--notes", str(notes), "--file", "nope.md")
    assert result.exit_code == 2 and "no note file 'nope.md'" in result.stderr


def test_chunks_names_nested_files_and_reports_their_problems(small_vault) -> None:
    notes, _ = small_vault
    result = run_cli("chunks", "--notes", str(notes), "--file", "sub/b.md", "--json")
    assert result.exit_code == 0 and {c["file"] for c in json.loads(result.stdout)} == {"sub/b.md"}
    result = run_cli("chunks", "--notes", str(notes), "--file", "mixed.md", "--json")
    assert result.exit_code == 1 and "bad lines mixed.md" in result.stderr
    result = run_cli("chunks", "--notes", str(notes), "--file", "empty.md")
    assert result.exit_code == 0 and "note empty.md: empty file" in result.stderr


def test_a_passage_keeps_its_id_across_an_edit_above_it(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    body = "# Aurora\n\nAurora Serverless v2 scales in steps of 0.5 ACU.\n\n# VPC\n\nGateway endpoints are free.\n"
    (notes / "topics.md").write_text(body)
    build_index(notes, tmp_path / "index", HashingEmbedder())
    from kb.core import KnowledgeBase

    kb = KnowledgeBase(Settings(notes_dir=notes, index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    before = next(c.chunk for c in kb.build.index.chunks if "Gateway endpoints" in c.chunk.text)
    (notes / "topics.md").write_text("# Added\n\nTwo new lines above.\n\n" + body)
    build_index(notes, tmp_path / "index", HashingEmbedder())
    kb.reload_if_changed()
    after = kb.passage(before.id, context=0).passage
    assert after.text == before.text and after.start_line == before.start_line + 4
    from kb.errors import NotFound

    (notes / "topics.md").write_text(body.replace("are free", "cost nothing"))
    build_index(notes, tmp_path / "index", HashingEmbedder())
    kb.reload_if_changed()
    with pytest.raises(NotFound, match="index was rebuilt since the id was given: search again"):
        kb.passage(before.id)
