"""Sections -> citable chunks: windows of whole lines that fit the embedding model, tagged with services."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ingest.lines import is_content, strip_images
from kb.answer import split_sentences
from kb.outline import parent_lines, strip_bullet
from kb.models import Chunk, Section

_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_MD_NOISE = re.compile(r"(\*\*|__|`+|^\s{0,3}#{1,6}\s+|\\(?=[_*$]))", re.MULTILINE)
_LINK = re.compile(r"\[([^\]]*)\]\((?:#|[^)]*)\)")
_SPACES = re.compile(r"[ \t\u00a0]+")
_PARENT_WORDS = 20


def clean_for_embedding(line: str) -> str:
    """The words of a line as a model should read them: no images, tags, markdown markers or link targets."""
    line = strip_images(line)
    line = _LINK.sub(r"\1", line)
    line = _HTML_TAG.sub(" ", line)
    line = _MD_NOISE.sub("", line)
    line = line.replace("\u25bc", " ").replace("\u25a1", " ").replace("\t", " | ")
    return _SPACES.sub(" ", line).strip()


def file_title(file_name: str) -> str:
    """A readable title from a note's file name: 'aws-developer-notes.md' -> 'AWS developer notes'."""
    stem = file_name.rsplit(".", 1)[0]
    words = re.split(r"[-_ ]+", stem)
    return " ".join(w.upper() if w.lower() in {"aws", "saa"} else w for w in words if w)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(file_name: str, start_line: int, end_line: int, text: str) -> str:
    """Stable across rebuilds that do not touch these lines of this file."""
    key = f"{file_name}\x00{start_line}\x00{end_line}\x00{content_hash(text)}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass
class LineUnit:
    """One sentence of one line of a chunk, embedded on its own so that a single matching fact can lift its chunk.

    A line holding several sentences gives one unit per sentence (`part` numbers them, as split_sentences does).
    """

    line: int
    part: int
    embed_text: str


@dataclass
class ChunkRecord:
    """A chunk plus what the index needs to embed and rank it (kept out of the public model)."""

    chunk: Chunk
    embed_text: str
    lexical_text: str
    lines: list[LineUnit] = field(default_factory=list)


class ServiceTagger:
    """Finds the services a chunk is about: named by its nearest heading, else by its own lines."""

    def __init__(self, find_in_heading: Callable[[str], list[str]], find_in_text: Callable[[str], list[str]]) -> None:
        self._find_in_heading = find_in_heading
        self._find_in_text = find_in_text

    def heading_services(self, heading_path: list[str]) -> list[str]:
        # The deepest heading that names a service wins: a section under a service inherits it.
        for title in reversed(heading_path):
            found = self._find_in_heading(title)
            if found:
                return found
        return []

    def tag(self, heading_path: list[str], lines: Iterable[str]) -> list[str]:
        services = list(self.heading_services(heading_path))
        # A line that opens with a service name ("SNS - one message to many receivers") is about it too.
        for line in lines:
            opening = " ".join(clean_for_embedding(line).lstrip("-*•0123456789.) ").split()[:4])
            for service_id in self._find_in_text(opening):
                if service_id not in services:
                    services.append(service_id)
        return services


def bullet_parents(lines: list[str], numbers: list[int], skip: int | None) -> dict[int, str]:
    """For each indented line, the words (cleaned for the model) of the bullet it sits under (kb.outline).

    "Can ONLY be created when creating a table" says nothing alone; under "Local Secondary Index (LSI):" it
    answers when an LSI can be made. Only lines of `numbers` (one section, in order) count, never `skip`
    (the heading, which the context holds already).
    """
    parents: dict[int, str] = {}
    for n, parent in parent_lines(lines, numbers, skip).items():
        words = strip_bullet(clean_for_embedding(lines[parent - 1])).split()
        if words:
            parents[n] = " ".join(words[:_PARENT_WORDS])
    return parents


def _line_units(number: int, line: str, cleaned: str, leaf: str, parent: str | None = None) -> list[LineUnit]:
    context = " > ".join(part for part in (leaf, parent) if part)
    context = f"{context}: " if context else ""
    sentences = split_sentences(line)
    if len(sentences) <= 1:
        return [LineUnit(number, 0, context + cleaned)] if len(cleaned) >= 3 else []
    return [LineUnit(number, part, context + clean_for_embedding(s)) for part, s in enumerate(sentences)]


def _window_spans(line_numbers: list[int], token_counts: list[int], budget: int) -> list[tuple[int, int]]:
    """Index ranges [i, j) over content lines whose summed tokens fit the budget (a too-long line stands alone)."""
    spans: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, tokens in enumerate(token_counts):
        if i > start and used + tokens > budget:
            spans.append((start, i))
            start, used = i, 0
        used += tokens
    if line_numbers:
        spans.append((start, len(line_numbers)))
    return spans


def chunk_section(
    file_name: str,
    lines: list[str],
    section: Section,
    tagger: ServiceTagger,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[ChunkRecord]:
    """The chunks of one section: whole-line windows within max_tokens, each keeping the heading path."""
    content = [n for n in range(section.start_line, section.end_line + 1) if is_content(lines[n - 1])]
    if not content or content == [section.heading_line]:
        return []
    path_text = " > ".join(section.heading_path)
    heading_services = tagger.heading_services(section.heading_path)
    prefix = f"{file_title(file_name)} > {path_text}:" if path_text else f"{file_title(file_name)}:"
    budget = max(16, max_tokens - count_tokens(prefix) - 8)
    cleaned = {n: clean_for_embedding(lines[n - 1]) for n in content}
    token_counts = [max(1, count_tokens(cleaned[n]) - 2) for n in content]
    parents = bullet_parents(lines, content, section.heading_line)
    records: list[ChunkRecord] = []
    for i, j in _window_spans(content, token_counts, budget):
        start, end = content[i], content[j - 1]
        if i == 0 and section.heading_line and section.heading_line < start:
            start = section.heading_line
        text = "\n".join(lines[start - 1 : end])
        window_lines = [n for n in content[i:j]]
        services = tagger.tag(section.heading_path, (lines[n - 1] for n in window_lines))
        body = " ".join(cleaned[n] for n in window_lines if n != section.heading_line)
        names = ""
        if heading_services:
            names = " (" + ", ".join(heading_services[:3]).replace("-", " ") + ")"
        embed_text = f"{prefix}{names} {body}".strip()
        leaf = " > ".join(section.heading_path[-2:])
        line_units = [
            unit
            for n in window_lines
            if n != section.heading_line
            for unit in _line_units(n, lines[n - 1], cleaned[n], leaf, parents.get(n))
        ]
        records.append(
            ChunkRecord(
                chunk=Chunk(
                    id=chunk_id(file_name, start, end, text),
                    file=file_name,
                    start_line=start,
                    end_line=end,
                    service=services,
                    heading_path=section.heading_path,
                    text=text,
                ),
                embed_text=embed_text,
                lexical_text=f"{path_text} {body}",
                lines=line_units,
            )
        )
    return records
