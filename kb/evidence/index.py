"""The segments of one index build, cut once and kept with the build, and which of them each service is in."""

from __future__ import annotations

import hashlib
import os
import pickle
from collections import defaultdict
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.catalogue import get_catalogue
from kb.evidence.segment import NoteLine, Segment
from kb.evidence.sentences import segment_file
from kb.evidence.tables import table_blocks

if TYPE_CHECKING:
    from kb.index import LoadedBuild


# A build's saved cut: evidence-<key>.pickle in its folder (see segment_index).
_CUT_PREFIX, _CUT_SUFFIX = "evidence-", ".pickle"


@dataclass
class SegmentIndex:
    """Every segment of one build, where each service's segments are, and what is derived from them per service."""

    segments: list[Segment]
    by_service: dict[str, list[int]]  # service id -> positions of segments naming or inheriting it
    listings: dict[str, tuple[list[tuple[Segment, set[str]]], set[str]]] = field(default_factory=dict)
    # A table row's name ("Max IOPS", "Can be a boot volume?") -> its vector: what the row states, by meaning,
    # where the row's own line vector mixes every column. Filled on first use by compare (it needs the embedder).
    label_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    # (file, line of a table row) -> (line, text) of its table's header row
    table_headers: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)
    chunk_matrix: np.ndarray | None = None


def _note_lines(state: LoadedBuild) -> dict[str, list[NoteLine]]:
    index = state.index
    rows: dict[tuple[str, int], int] = {}
    for row, (chunk_index, number) in enumerate(zip(index.line_chunk.tolist(), index.line_numbers.tolist())):
        rows[(index.chunks[chunk_index].chunk.file, int(number))] = row
    by_file: dict[str, list[NoteLine]] = defaultdict(list)
    for position, stored in enumerate(index.chunks):
        chunk = stored.chunk
        path = tuple(chunk.heading_path)
        for offset, text in enumerate(chunk.text.split("\n")):
            number = chunk.start_line + offset
            by_file[chunk.file].append(NoteLine(number, text, position, path, rows.get((chunk.file, number), -1)))
    for lines in by_file.values():
        lines.sort(key=lambda line: line.number)
    return by_file


def segment_index(state: LoadedBuild) -> SegmentIndex:
    """The build's segments, cut on first use and kept with the build (one cut however many threads ask).

    The cut is also saved in the build's folder, so the next process on the same build (a `kb ask` from the shell)
    reads it instead of cutting again (2-3 s on a CPU); the file's name changes with the catalogue and this layer's
    code, so a stale cut is never read."""
    return state.view(_read_or_cut)


def read_ahead(state: LoadedBuild) -> None:
    """Read the build's saved cut now, when there is one (a caller's background thread): a first answer then finds
    the segments read and listed by line (0.1 s each of a cold `kb ask`). Without a saved cut nothing is done:
    cutting is seconds of work that a process which only searches should not pay for."""
    if _cut_path(state).exists():
        sentence_subjects(state)


def _cut_path(state: LoadedBuild) -> Path:
    return Path(state.index.directory) / f"{_CUT_PREFIX}{_cut_key()}{_CUT_SUFFIX}"


def _read_or_cut(state: LoadedBuild) -> SegmentIndex:
    path = _cut_path(state)
    parts = _read_cut(path)
    if parts is None:
        parts = _cut(state)
        _write_cut(path, parts)
    segments, by_service, table_headers = parts
    return SegmentIndex(segments, by_service, chunk_matrix=state.chunk_matrix, table_headers=table_headers)


_Cut = tuple[list[Segment], dict[str, list[int]], dict[tuple[str, int], tuple[int, str]]]


def _cut(state: LoadedBuild) -> _Cut:
    catalogue = get_catalogue()
    segments: list[Segment] = []
    table_headers: dict[tuple[str, int], tuple[int, str]] = {}
    for file, lines in sorted(_note_lines(state).items()):
        segments.extend(segment_file(file, lines, catalogue))
        for block in table_blocks(lines):
            header = lines[block[0]]
            table_headers.update({(file, lines[i].number): (header.number, header.text) for i in block[1:]})
    by_service: dict[str, list[int]] = defaultdict(list)
    for position, segment in enumerate(segments):
        for service_id in dict.fromkeys(segment.named + segment.subject):
            by_service[service_id].append(position)
    return segments, dict(by_service), table_headers


@cache
def _cut_key() -> str:
    """Changes with the catalogue and with the code that cuts the notes."""
    from kb.catalogue import catalogue_sha256

    digest = hashlib.sha256(catalogue_sha256().encode())
    for module in ("segment.py", "sentences.py", "tables.py", "text.py", "lineage.py", "index.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()[:16]


# Segments are saved as plain tuples of their fields: unpickling 10k objects one by one took twice as long, and a
# `kb ask` from the shell waits for it.
_SEGMENT_FIELDS = tuple(f.name for f in fields(Segment))


def _read_cut(path: Path) -> _Cut | None:
    try:
        with path.open("rb") as handle:
            rows, by_service, table_headers = pickle.load(handle)
        return [Segment(*row) for row in rows], by_service, table_headers
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None


def _write_cut(path: Path, parts: _Cut) -> None:
    segments, by_service, table_headers = parts
    rows = [tuple(getattr(segment, name) for name in _SEGMENT_FIELDS) for segment in segments]
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        with partial.open("wb") as handle:
            pickle.dump((rows, by_service, table_headers), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)  # a read-only index: the next process cuts again
        return
    # A cut made by older code is never read again (its name has the old code's key); it would only take room.
    for stale in path.parent.glob(f"{_CUT_PREFIX}*{_CUT_SUFFIX}"):
        if stale != path:
            stale.unlink(missing_ok=True)


def sentence_subjects(state: LoadedBuild) -> dict[tuple[str, int], list[Segment]]:
    """(file, line) -> the segments of that line, for asking what a quoted sentence is about."""
    return state.view(_segments_by_line)


def _segments_by_line(state: LoadedBuild) -> dict[tuple[str, int], list[Segment]]:
    by_line: dict[tuple[str, int], list[Segment]] = defaultdict(list)
    for segment in segment_index(state).segments:
        by_line[(segment.file, segment.line)].append(segment)
    return dict(by_line)
