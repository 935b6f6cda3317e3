"""Reading note files from disk: decoded text, or a clear reason why a file was skipped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from kb.models import FileProblem

NOTE_SUFFIXES = {".md", ".markdown", ".txt", ".text"}


@dataclass
class NoteFile:
    name: str
    path: Path
    text: str
    sha256: str


def note_paths(notes_dir: Path) -> list[Path]:
    """The note files of a directory (markdown and text files, not hidden), sorted by name."""
    return sorted(
        p for p in notes_dir.iterdir() if p.suffix.lower() in NOTE_SUFFIXES and not p.name.startswith(".") and not p.is_dir()
    )


def read_note(path: Path) -> NoteFile | FileProblem:
    """The note's text (UTF-8, an optional BOM dropped), or the problem that makes it unusable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return FileProblem(file=path.name, reason=f"unreadable: {exc.strerror or exc}")
    if not raw.strip():
        return FileProblem(file=path.name, reason="empty file")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return FileProblem(file=path.name, reason="binary file (contains NUL bytes), not a text note", line=line)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return FileProblem(
            file=path.name,
            reason=f"not UTF-8 (byte 0x{raw[exc.start]:02x} at line {line}); save it as UTF-8 and rebuild",
            line=line,
        )
    return NoteFile(name=path.name, path=path, text=text, sha256=hashlib.sha256(raw).hexdigest())


def notes_fingerprint(notes_dir: Path) -> dict[str, str]:
    """File name -> sha256 of its bytes, for every note file (used to tell whether an index is stale)."""
    out: dict[str, str] = {}
    for path in note_paths(notes_dir):
        try:
            out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[path.name] = "unreadable"
    return out
