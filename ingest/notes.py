"""Reading a notes folder from disk: which files are notes, their decoded text, and what could not be read.

A note's name is its path relative to the notes folder with forward slashes (`AWS/sub/storage.md`): that name is
what citations, the API, the UI and the manifest show.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from kb.models import FileProblem

DEFAULT_SUFFIXES: tuple[str, ...] = (".md", ".markdown", ".txt", ".text")
# Kept for callers that name the set; the configurable one is KB_NOTE_SUFFIXES.
NOTE_SUFFIXES = set(DEFAULT_SUFFIXES)
IGNORE_FILE = ".kbignore"

# UTF-32 first: its little-endian BOM starts with UTF-16's.
_BOMS: tuple[tuple[bytes, str, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be", "UTF-16"),
)
_MAX_BAD_OFFSETS = 200
_LABELS = {"cp1252": "Windows-1252 (Latin-1)", "cp1251": "Windows-1251 (Cyrillic)"}


@dataclass
class NoteFile:
    """One readable note: its name in the folder, its text as decoded, and what was not read as written."""

    name: str
    path: Path
    text: str
    sha256: str
    encoding: str = "utf-8-sig"
    problems: list[FileProblem] = field(default_factory=list)


@dataclass
class NoteScan:
    """The notes of a folder (name -> path, sorted by name) and the files that are not notes."""

    paths: dict[str, Path]
    skipped: list[FileProblem]


@dataclass
class Decoded:
    """A file's text, the Python codec that reproduces it (with errors="replace"), and the lines with bad bytes."""

    text: str
    codec: str
    label: str
    bad_lines: list[int]
    guessed: bool = False


class NotText(Exception):
    """The bytes are not text in any encoding notes-kb reads."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def parse_suffixes(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """'.md, txt' -> ('.md', '.txt'); None -> the default suffixes."""
    if value is None:
        return DEFAULT_SUFFIXES
    items = value.split(",") if isinstance(value, str) else list(value)
    cleaned = tuple(sorted({("." + s.strip().lstrip(".")).lower() for s in items if s.strip().lstrip(".")}))
    return cleaned or DEFAULT_SUFFIXES


def _ignore_spec(notes_dir: Path):
    """The .kbignore at the folder's root as a gitignore matcher, or None."""
    path = notes_dir / IGNORE_FILE
    if not path.is_file():
        return None
    import pathspec

    lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def scan_notes(notes_dir: Path, suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> NoteScan:
    """Every note file under notes_dir, recursively; hidden files and folders and .kbignore matches are left out,
    and each other file that is not a note (by suffix) is listed once as skipped, with the reason."""
    spec = _ignore_spec(notes_dir)
    wanted = {s.lower() for s in suffixes}
    paths: dict[str, Path] = {}
    skipped: list[FileProblem] = []
    for root, dirs, files in os.walk(notes_dir):
        rel_root = Path(root).relative_to(notes_dir).as_posix()
        prefix = "" if rel_root == "." else rel_root + "/"
        # Hidden folders belong to apps (.obsidian, .git, .trash) and never hold notes the user means to index.
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not (spec and spec.match_file(f"{prefix}{d}/"))
        )
        for file_name in sorted(files):
            name = prefix + file_name
            if file_name.startswith(".") or (spec and spec.match_file(name)):
                continue
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                skipped.append(FileProblem(file=shown, reason="the file name is not valid UTF-8; rename the file"))
                continue
            suffix = Path(file_name).suffix.lower()
            if suffix not in wanted:
                kind = f"a {suffix} file" if suffix else "a file without an extension"
                skipped.append(
                    FileProblem(
                        file=name,
                        reason=f"not a note: {kind}; notes-kb reads {', '.join(sorted(wanted))} (KB_NOTE_SUFFIXES)",
                    )
                )
                continue
            paths[name] = Path(root) / file_name
    return NoteScan(paths=dict(sorted(paths.items())), skipped=sorted(skipped, key=lambda p: p.file))


def note_paths(notes_dir: Path, suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> list[Path]:
    """The note files under notes_dir (recursively, not hidden, not ignored), sorted by their name in the folder."""
    return list(scan_notes(notes_dir, suffixes).paths.values())


def _line_starts(text: str) -> list[int]:
    """Character offsets where each line starts, as str.splitlines() numbers lines."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _bad_lines(body: bytes, codec: str, text: str) -> list[int]:
    """1-based lines of text that hold a character decoded from bytes the codec rejects (at most 200 reported)."""
    offsets: list[int] = []
    position, chars = 0, 0
    while len(offsets) < _MAX_BAD_OFFSETS:
        try:
            chars += len(body[position:].decode(codec))
            break
        except UnicodeDecodeError as exc:
            chars += len(body[position : position + exc.start].decode(codec, errors="replace"))
            offsets.append(chars)
            chars += 1  # errors="replace" puts one U+FFFD for each rejected run
            position += exc.end
    if not offsets:
        return []
    starts = _line_starts(text)
    return sorted({bisect.bisect_right(starts, offset) for offset in offsets})


def _utf16_without_bom(raw: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit where UTF-16 puts them for mostly-ASCII text, else None."""
    if len(raw) % 2 or len(raw) < 4:
        return None
    even_nuls, odd_nuls = raw[0::2].count(0), raw[1::2].count(0)
    half = len(raw) // 2
    if odd_nuls > 0.6 * half and even_nuls < 0.1 * half:
        return "utf-16-le"
    if even_nuls > 0.6 * half and odd_nuls < 0.1 * half:
        return "utf-16-be"
    return None


def _legacy_codec(raw: bytes) -> str:
    """The 8-bit encoding a file that is not UTF-8 is most likely in.

    Notes in a Western language hold a few accented letters among ASCII words; Windows-1252 (a superset of
    Latin-1 for text) reads them, and charset-normalizer guesses badly on short texts of that kind (a 90-byte
    German line comes out as cp775). Text that is mostly non-ASCII (Cyrillic, Greek...) is left to it.
    """
    high = sum(1 for b in raw if b > 0x7F)
    letters = sum(1 for b in raw if 0x41 <= (b | 0x20) <= 0x7A) + high
    if high <= 0.3 * max(letters, 1):
        return "cp1252"  # its five undefined bytes, if present, are reported as bad lines
    from charset_normalizer import from_bytes

    # UTF-16/32 without NUL bytes is not a real reading: those files were handled before.
    matches = [m for m in from_bytes(raw) if not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches or matches[0].encoding in ("utf_8", "ascii"):
        return "utf-8"
    return codecs.lookup(matches[0].encoding).name


def decode_note(raw: bytes) -> Decoded:
    """The text of a note file: UTF-8 (BOM or not), UTF-16/32 with a BOM, else the legacy encoding detected.

    A few undecodable bytes do not lose the file: each becomes U+FFFD and its line is reported.
    Raises NotText for binary files.
    """
    for bom, codec, body_codec, label in _BOMS:
        if raw.startswith(bom):
            body = raw[len(bom) :]
            text = body.decode(body_codec, errors="replace")
            return Decoded(text, codec, label + " with a BOM", _bad_lines(body, body_codec, text))
    if b"\x00" in raw:
        utf16 = _utf16_without_bom(raw)
        if utf16:
            text = raw.decode(utf16, errors="replace")
            return Decoded(text, utf16, utf16.upper() + " without a BOM", _bad_lines(raw, utf16, text), guessed=True)
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise NotText("binary file (contains NUL bytes), not a text note", line)
    try:
        return Decoded(raw.decode("utf-8"), "utf-8-sig", "UTF-8", [])
    except UnicodeDecodeError:
        pass
    as_utf8 = raw.decode("utf-8", errors="replace")
    # Valid multi-byte UTF-8 sequences almost never occur by chance in a legacy 8-bit file: a file that has them
    # is UTF-8 with a few bad bytes, and only those lines are damaged.
    if any(ch > "\x7f" and ch != "\ufffd" for ch in as_utf8):
        return Decoded(as_utf8, "utf-8-sig", "UTF-8", _bad_lines(raw, "utf-8", as_utf8))
    codec = _legacy_codec(raw)
    if codec == "utf-8":
        return Decoded(as_utf8, "utf-8-sig", "UTF-8", _bad_lines(raw, "utf-8", as_utf8))
    text = raw.decode(codec, errors="replace")
    return Decoded(text, codec, _LABELS.get(codec, codec), _bad_lines(raw, codec, text), guessed=True)


def read_note(path: Path, name: str | None = None) -> NoteFile | FileProblem:
    """The note's decoded text with any warnings about how it was read, or the problem that makes it unusable."""
    name = name or path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return FileProblem(file=name, reason=f"unreadable: {exc.strerror or exc}")
    try:
        decoded = decode_note(raw)
    except NotText as exc:
        return FileProblem(file=name, reason=exc.reason, line=exc.line)
    problems: list[FileProblem] = []
    if not decoded.text.strip():
        problems.append(FileProblem(file=name, level="notice", reason="empty file: indexed as an empty note"))
    if decoded.guessed:
        problems.append(
            FileProblem(
                file=name,
                level="warning",
                reason=f"not UTF-8: read as {decoded.label}, the encoding it appears to be; save it as UTF-8 to be sure",
            )
        )
    if decoded.bad_lines:
        shown = ", ".join(map(str, decoded.bad_lines[:20])) + (" ..." if len(decoded.bad_lines) > 20 else "")
        count = len(decoded.bad_lines)
        problems.append(
            FileProblem(
                file=name,
                level="bad_lines",
                reason=f"{count} line{'s' if count > 1 else ''} with bytes that are not {decoded.label} "
                f"(shown as \ufffd; the rest of the file is indexed): {shown}",
                line=decoded.bad_lines[0],
                lines=decoded.bad_lines,
            )
        )
    return NoteFile(
        name=name,
        path=path,
        text=decoded.text,
        sha256=hashlib.sha256(raw).hexdigest(),
        encoding=decoded.codec,
        problems=problems,
    )


def notes_fingerprint(notes_dir: Path, suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> dict[str, str]:
    """Name -> sha256 of its bytes for every note file, plus the other files seen, to tell whether an index is stale."""
    scan = scan_notes(notes_dir, suffixes)
    out: dict[str, str] = {}
    for name, path in scan.paths.items():
        try:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[name] = "unreadable"
    for problem in scan.skipped:
        out[problem.file] = "skipped"
    ignore = notes_dir / IGNORE_FILE
    if ignore.is_file():
        out[IGNORE_FILE] = hashlib.sha256(ignore.read_bytes()).hexdigest()
    return out
