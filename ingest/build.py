"""Building the index directory: read notes, chunk, embed what changed, write a new build, swap it in atomically."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from ingest.chunker import ChunkRecord, ServiceTagger, chunk_id, chunk_section, content_hash
from ingest.frontmatter import parse_front_matter
from ingest.notes import DEFAULT_SUFFIXES, NoteFile, notes_fingerprint, read_note, scan_notes
from ingest.readers import reader_for
from ingest.readers.base import make_section, section_problems, split_lines
from ingest.readers.plain import PlainTextReader
from kb.embedder import Embedder
from kb.errors import KBError
from kb.models import FileProblem, Section
from kb.store import Backend
from kb.store.layout import MANIFEST, build_dir
from kb.store.manifest import FileInfo, Fingerprint, Manifest, ModelInfo, read_manifest
from kb.store.reader import StoredChunk, load_index
from kb.store.writer import BuildContents, BuildWriter

Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    """What a rebuild did, for the CLI summary and the admin API."""

    build_id: str
    index_dir: Path
    files: int = 0
    sections: int = 0
    chunks: int = 0
    lines: int = 0
    reembedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    problems: list[FileProblem] = field(default_factory=list)
    per_file: dict[str, dict] = field(default_factory=dict)

    @property
    def skipped_files(self) -> bool:
        return bool(self.problems)

    def summary(self) -> dict:
        return {
            "build_id": self.build_id,
            "index_dir": str(self.index_dir),
            "files": self.files,
            "sections": self.sections,
            "chunks": self.chunks,
            "lines": self.lines,
            "reembedded": self.reembedded,
            "reused": self.reused,
            "seconds": round(self.seconds, 2),
            "problems": [p.model_dump() for p in self.problems],
        }


def _previous_vectors(index_dir: Path, embedder: Embedder, backend: Backend) -> dict[str, np.ndarray]:
    """embed-text hash -> vector from the serving build, when it was made by the same model."""
    try:
        old = load_index(index_dir, backend)
    except KBError:
        return {}
    if not old.manifest.built_with(embedder):
        return {}
    cache = dict(zip((c.embed_hash for c in old.chunks), old.chunk_vectors.vectors()))
    cache.update(zip(old.line_hashes, old.line_vectors.vectors()))
    return cache


def _embed_long_aware(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Vectors for texts; a text longer than the model reads is embedded in pieces and averaged, never cut."""
    limit = getattr(embedder, "max_tokens", 256) - 2
    pieces: list[str] = []
    owners: list[int] = []
    for i, text in enumerate(texts):
        # Every word piece covers at least one character, so a text no longer than the limit in characters
        # fits: most texts skip the second tokenisation.
        if len(text) + 2 <= limit:  # + [CLS] and [SEP], which count_tokens counts
            pieces.append(text)
            owners.append(i)
            continue
        words = text.split()
        if embedder.count_tokens(text) <= limit or len(words) < 2:
            pieces.append(text)
            owners.append(i)
            continue
        step = max(8, int(len(words) * limit / embedder.count_tokens(text) * 0.9))
        for start in range(0, len(words), step):
            pieces.append(" ".join(words[start : start + step]))
            owners.append(i)
    order = sorted(range(len(pieces)), key=lambda p: len(pieces[p]))  # similar lengths batch faster
    vectors = np.zeros((len(pieces), embedder.dimension), dtype=np.float32)
    if pieces:
        vectors[order] = embedder.encode([pieces[p] for p in order])
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    np.add.at(out, np.asarray(owners), vectors)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def embed_missing(
    embedder: Embedder, texts: list[str], cache: dict[str, np.ndarray], progress: Progress | None, batch: int = 256
) -> tuple[np.ndarray, int]:
    """Vectors for all texts, embedding only those whose hash is not cached; returns (vectors, count embedded)."""
    hashes = [content_hash(t) for t in texts]
    missing = sorted({h: t for h, t in zip(hashes, texts) if h not in cache}.items(), key=lambda ht: len(ht[1]))
    for start in range(0, len(missing), batch):
        part = missing[start : start + batch]
        for (h, _), vector in zip(part, _embed_long_aware(embedder, [t for _, t in part])):
            cache[h] = vector
        if progress:
            progress("embedding", min(start + batch, len(missing)), len(missing))
    if progress and not missing:
        progress("embedding", 0, 0)
    vectors = np.stack([cache[h] for h in hashes]) if hashes else np.zeros((0, embedder.dimension), dtype=np.float32)
    return vectors.astype(np.float32), len(missing)


def _without_front_matter(lines: list[str], sections: list[Section], end_line: int) -> list[Section]:
    """Sections cut to start after the front matter, so no passage ever holds it (whatever the reader did)."""
    out = []
    for section in sections:
        if section.end_line <= end_line:
            continue
        if section.start_line <= end_line:
            heading = section.heading_line if section.heading_line and section.heading_line > end_line else None
            section = make_section(lines, section.heading_path, end_line + 1, section.end_line, heading)
        out.append(section)
    return out


def chunk_notes(
    notes: list[NoteFile], embedder: Embedder, max_tokens: int
) -> tuple[list[ChunkRecord], dict[str, dict], int]:
    """Every chunk of every note, with per-file statistics and the number of sections read.

    Front matter is metadata: the reader sees its lines as blank, its title names the file in the embedded
    heading path and its tags go with every passage. Problems found here are added to each note's problems.
    """
    from kb.catalogue import get_catalogue

    catalogue = get_catalogue()
    tagger = ServiceTagger(catalogue.find_in_heading, catalogue.find_in_text)
    records: list[ChunkRecord] = []
    per_file: dict[str, dict] = {}
    total_sections = 0
    for note in notes:
        lines = split_lines(note.text)
        front = parse_front_matter(lines)
        if front.problem and not any(front.problem == p.reason for p in note.problems):
            note.problems.append(FileProblem(file=note.name, level="notice", reason=front.problem, line=1))
        reader_text = note.text
        if front.end_line or "\r" in note.text:
            # Readers see plain LF lines; front matter lines are blank to them, so no section holds them.
            reader_text = "\n".join([""] * front.end_line + lines[front.end_line :])
        reader = reader_for(note.path, reader_text)
        sections = reader.sections(reader_text)
        reader_name = reader.name
        broken = section_problems(reader_text, sections)
        if broken:
            # A reader that mis-cites a user's file must not lose or misquote lines: read it as plain text instead.
            fallback = PlainTextReader()
            sections = fallback.sections(reader_text)
            reader_name = f"{fallback.name} (the {reader.name} reader failed: {broken[0]})"
        if front.end_line:
            sections = _without_front_matter(lines, sections, front.end_line)
        file_records = [
            record
            for section in sections
            for record in chunk_section(
                note.name, lines, section, tagger, embedder.count_tokens, max_tokens, title=front.title, tags=front.tags
            )
        ]
        # The id comes from the file, the text and which occurrence of that text it is, never from line numbers.
        seen: dict[str, int] = {}
        for record in file_records:
            occurrence = seen.get(record.chunk.text, 0)
            seen[record.chunk.text] = occurrence + 1
            record.chunk.id = chunk_id(note.name, record.chunk.text, occurrence)
        total_sections += len(sections)
        per_file[note.name] = {
            "sha256": note.sha256,
            "reader": reader_name,
            "encoding": note.encoding,
            "lines": len(lines),
            "sections": len(sections),
            "chunks": len(file_records),
        }
        if front.end_line:
            per_file[note.name]["front_matter_lines"] = front.end_line
        if front.title:
            per_file[note.name]["title"] = front.title
        if front.tags:
            per_file[note.name]["tags"] = front.tags
        records.extend(file_records)
    return records, per_file, total_sections


def read_notes(notes_dir: Path, suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> tuple[list[NoteFile], list[FileProblem]]:
    """Every readable note of the folder (recursively) and the files skipped, with why."""
    scan = scan_notes(notes_dir, suffixes)
    notes: list[NoteFile] = []
    problems = list(scan.skipped)
    for name, path in scan.paths.items():
        note = read_note(path, name)
        (problems.append(note) if isinstance(note, FileProblem) else notes.append(note))
    return notes, problems


def all_problems(notes: list[NoteFile], skipped: list[FileProblem]) -> list[FileProblem]:
    """Skipped files and the problems of notes that were read, in file order (the same list on every run)."""
    problems = skipped + [p for note in notes for p in note.problems]
    order = {"skipped": 0, "bad_lines": 1, "warning": 2, "notice": 3}
    return sorted(problems, key=lambda p: (p.file, order[p.level], p.line or 0))


def check_notes_dir(notes_dir: Path) -> None:
    """KBError when notes_dir is not a folder, saying what it is instead."""
    if notes_dir.is_file():
        raise KBError(f"{notes_dir} is a file; --notes (KB_NOTES_DIR) wants the folder that holds your notes.")
    if not notes_dir.is_dir():
        raise KBError(f"The notes folder {notes_dir} does not exist.")


def build_index(
    notes_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    max_tokens: int = 200,
    wait: bool = False,
    progress: Progress | None = None,
    suffixes: tuple[str, ...] = DEFAULT_SUFFIXES,
    backend: Backend | None = None,
) -> BuildReport:
    """Rebuild index_dir from notes_dir; the serving index changes only in the final atomic manifest swap.

    `backend`: the stores to write the build with (the configured one when None)."""
    started = time.perf_counter()
    check_notes_dir(notes_dir)
    with BuildWriter(index_dir, backend, wait=wait) as writer:
        report = BuildReport(build_id=writer.build_id, index_dir=index_dir)
        fingerprint = build_fingerprint(notes_dir, max_tokens, suffixes)
        notes, skipped = read_notes(notes_dir, suffixes)
        if progress:
            progress("reading", len(notes), len(notes) + len(skipped))
        records, report.per_file, report.sections = chunk_notes(notes, embedder, max_tokens)
        report.problems = all_problems(notes, skipped)
        report.files, report.chunks = len(notes), len(records)

        cache = _previous_vectors(index_dir, embedder, writer.backend)
        line_texts = [unit.embed_text for r in records for unit in r.lines]
        texts = [r.embed_text for r in records] + line_texts
        vectors, report.reembedded = embed_missing(embedder, texts, cache, progress)
        report.reused = len(set(map(content_hash, texts))) - report.reembedded
        report.lines = len(line_texts)
        contents = BuildContents(
            chunks=[StoredChunk(r.chunk, content_hash(r.embed_text)) for r in records],
            lines={
                "chunk": [i for i, r in enumerate(records) for _ in r.lines],
                "line": [unit.line for r in records for unit in r.lines],
                "part": [unit.part for r in records for unit in r.lines],
                "hash": [content_hash(t) for t in line_texts],
            },
            chunk_vectors=vectors[: len(records)],
            line_vectors=vectors[len(records) :],
            lexical_texts=[r.lexical_text for r in records],
        )
        writer.commit(
            Manifest(
                build_id=writer.build_id,
                built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                model=ModelInfo(name=embedder.name, dimension=embedder.dimension),
                chunk_max_tokens=max_tokens,
                notes_dir=str(notes_dir.resolve()),
                note_suffixes=list(suffixes),
                files={name: FileInfo.model_validate(info) for name, info in report.per_file.items()},
                chunk_count=len(records),
                line_count=len(line_texts),
                problems=report.problems,
                fingerprint=fingerprint,
            ),
            contents,
        )
        report.seconds = time.perf_counter() - started
        if progress:
            progress("done", report.chunks, report.chunks)
        return report


# Bump when chunking or tagging changes what a build holds, so `kb ingest` knows an old index is stale.
PIPELINE_VERSION = 4


def build_fingerprint(notes_dir: Path, max_tokens: int, suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> Fingerprint:
    """What a build depends on besides the model: the notes' bytes, the catalogue, the chunking settings."""
    from kb.catalogue import catalogue_sha256

    return Fingerprint(
        notes=notes_fingerprint(notes_dir, suffixes),
        catalogue=catalogue_sha256(),
        chunk_max_tokens=max_tokens,
        pipeline=PIPELINE_VERSION,
        suffixes=list(suffixes),
    )


def _what_changed(before: dict[str, str], after: dict[str, str]) -> str:
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    changed = [n for n in after if n in before and before[n] != after[n]]
    parts = [f"{len(names)} {label}" for names, label in ((changed, "changed"), (added, "added"), (removed, "removed")) if names]
    return ", ".join(parts) or "the file list changed"


def index_is_stale(
    notes_dir: Path,
    index_dir: Path,
    model_name: str,
    max_tokens: int = 200,
    suffixes: tuple[str, ...] = DEFAULT_SUFFIXES,
) -> str | None:
    """Why the index needs a rebuild (missing, other model, notes changed), or None when it is current.

    Reads the manifest only: a damaged vector or lexical file shows when the index is loaded, not here."""
    if not (index_dir / MANIFEST).exists():
        return f"there is no index at {index_dir} yet"
    try:
        manifest = read_manifest(index_dir)
    except KBError as exc:
        return f"the index at {index_dir} cannot be used ({exc.message})"
    if not build_dir(index_dir, manifest.build_id).is_dir():
        return f"the index at {index_dir} cannot be used (its build {manifest.build_id} is missing)"
    if not manifest.built_with(model_name):
        return f"it was built with model {manifest.model.name!r}, not {model_name!r}"
    built = manifest.fingerprint or Fingerprint()
    current = build_fingerprint(notes_dir, max_tokens, suffixes)
    if built.notes != current.notes:
        return f"the notes changed since it was built ({_what_changed(built.notes, current.notes)})"
    if built != current:
        return "the service catalogue, the note suffixes or the chunking changed since it was built"
    return None
