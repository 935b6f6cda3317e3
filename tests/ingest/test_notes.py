"""Reading a notes folder: which files are notes (recursive, hidden, .kbignore, suffixes) and how their bytes decode."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from ingest.notes import NoteFile, decode_note, parse_suffixes, read_note, scan_notes
from kb.models import FileProblem


def write(root: Path, name: str, data: bytes | str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


def test_a_vault_is_read_recursively_with_relative_names(tmp_path: Path) -> None:
    write(tmp_path, "top.md", "# Top\n")
    write(tmp_path, "AWS/sub/storage.md", "# S3\n")
    write(tmp_path, "AWS/sub/deeper/deep.markdown", "# Deep\n")
    write(tmp_path, "plain.TXT", "text\n")
    write(tmp_path, "old.text", "text\n")
    scan = scan_notes(tmp_path)
    assert list(scan.paths) == ["AWS/sub/deeper/deep.markdown", "AWS/sub/storage.md", "old.text", "plain.TXT", "top.md"]
    assert scan.skipped == []


def test_hidden_app_folders_and_files_are_ignored_silently(tmp_path: Path) -> None:
    write(tmp_path, "note.md", "# Note\n")
    write(tmp_path, ".obsidian/workspace.json", "{}")
    write(tmp_path, ".obsidian/plugins/x/README.md", "# plugin readme\n")
    write(tmp_path, ".trash/deleted.md", "# gone\n")
    write(tmp_path, ".git/HEAD", "ref: refs/heads/main\n")
    write(tmp_path, "sub/.hidden.md", "# hidden\n")
    scan = scan_notes(tmp_path)
    assert list(scan.paths) == ["note.md"]
    assert scan.skipped == []


def test_other_files_are_listed_once_as_skipped_with_the_reason(tmp_path: Path) -> None:
    write(tmp_path, "note.md", "# Note\n")
    write(tmp_path, "attachments/diagram.png", b"\x89PNG\r\n")
    write(tmp_path, "README", "no extension\n")
    write(tmp_path, "guide.rst", "Guide\n=====\n")
    scan = scan_notes(tmp_path)
    reasons = {p.file: p.reason for p in scan.skipped}
    assert set(reasons) == {"attachments/diagram.png", "README", "guide.rst"}
    assert "a .png file" in reasons["attachments/diagram.png"]
    assert "without an extension" in reasons["README"]
    assert all(p.level == "skipped" and ".md" in p.reason for p in scan.skipped)


def test_kbignore_uses_gitignore_syntax(tmp_path: Path) -> None:
    write(tmp_path, ".kbignore", "drafts/\n*.tmp.md\n!keep.tmp.md\n/templates\n")
    write(tmp_path, "note.md", "# Note\n")
    write(tmp_path, "drafts/idea.md", "# Idea\n")
    write(tmp_path, "sub/drafts/other.md", "# Other\n")
    write(tmp_path, "scratch.tmp.md", "# Scratch\n")
    write(tmp_path, "keep.tmp.md", "# Keep\n")
    write(tmp_path, "templates/daily.md", "# Template\n")
    write(tmp_path, "templates/image.png", b"png")
    scan = scan_notes(tmp_path)
    assert list(scan.paths) == ["keep.tmp.md", "note.md"]
    assert scan.skipped == []  # ignored files are not "skipped": the user asked for them to be left out


def test_suffixes_are_configurable(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# A\n")
    write(tmp_path, "b.org", "* B\n")
    scan = scan_notes(tmp_path, parse_suffixes("org, .MD"))
    assert list(scan.paths) == ["a.md", "b.org"]
    assert parse_suffixes(None) == (".md", ".markdown", ".txt", ".text")


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("utf-16"),  # with a BOM, in the machine's byte order
        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
        lambda t: t.encode("utf-32"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "utf-16-be", "utf-32"],
)
def test_unicode_files_decode_to_the_same_text(encode) -> None:
    text = "# Café notes\r\n\r\nSQS keeps messages 4 days — max 14\rlast line ✓\n"
    decoded = decode_note(encode(text))
    assert decoded.text == text and decoded.bad_lines == [] and not decoded.guessed
    assert decoded.text.splitlines()[3] == "last line ✓"  # a lone CR ends a line too
    assert encode(text).decode(decoded.codec) == text  # the codec the API re-reads the file with


def test_a_latin1_file_is_read_in_the_encoding_found_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.md", "# Zoë Müller\n\nCafé notes: S3 Glacier stores archives.\n".encode("latin-1"))
    note = read_note(path, "latin.md")
    assert isinstance(note, NoteFile)
    assert note.text.splitlines()[0] == "# Zoë Müller" and note.encoding == "cp1252"
    assert [p.level for p in note.problems] == ["warning"]
    assert "Windows-1252" in note.problems[0].reason and "save it as UTF-8" in note.problems[0].reason


def test_a_cyrillic_legacy_file_is_detected() -> None:
    raw = "Заметки про Amazon S3: хранилище объектов, классы хранения и жизненный цикл.\n".encode("cp1251")
    decoded = decode_note(raw)
    assert decoded.codec == "cp1251" and decoded.text.startswith("Заметки про Amazon S3")


def test_one_bad_byte_keeps_the_file_and_names_its_line(tmp_path: Path) -> None:
    raw = "# Notes — UTF-8\n\nline three\n".encode() + b"bad \xff byte here\n" + "café\n".encode()
    note = read_note(write(tmp_path, "mixed.md", raw), "mixed.md")
    assert isinstance(note, NoteFile)
    lines = note.text.splitlines()
    assert lines[3] == "bad \ufffd byte here" and lines[4] == "café" and len(lines) == 5
    (problem,) = note.problems
    assert problem.level == "bad_lines" and problem.lines == [4] and problem.line == 4 and problem.loses_text


def test_bad_bytes_after_crlf_and_cr_lines_are_numbered_as_splitlines_numbers_them() -> None:
    raw = "é one\r\ntwo\rthree\n".encode() + b"\xfe four\r\nfive \xc3\n"
    decoded = decode_note(raw)
    assert decoded.text.splitlines()[3].endswith("four") and decoded.bad_lines == [4, 5]


def test_an_empty_file_is_an_empty_note_with_a_notice(tmp_path: Path) -> None:
    note = read_note(write(tmp_path, "empty.md", b""), "empty.md")
    assert isinstance(note, NoteFile) and note.text == ""
    assert [(p.level, p.loses_text) for p in note.problems] == [("notice", False)]


def test_binary_files_are_skipped_and_utf16_without_a_bom_is_read(tmp_path: Path) -> None:
    binary = read_note(write(tmp_path, "x.md", b"# x\n\x00\x01\x02\xff"), "x.md")
    assert isinstance(binary, FileProblem) and binary.level == "skipped" and "binary" in binary.reason
    utf16 = read_note(write(tmp_path, "y.md", "# Notes\nSQS\n".encode("utf-16-le")), "y.md")
    assert isinstance(utf16, NoteFile) and utf16.text == "# Notes\nSQS\n"
    assert [p.level for p in utf16.problems] == ["warning"]
