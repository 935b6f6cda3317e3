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
# Obsidian/Logseq links read as their words: ![[embed]], [[page]], [[page#heading|alias]] -> alias or page.
_WIKILINK = re.compile(r"!?\[\[([^\]|#^]*)(?:[#^][^\]|]*)?(?:\|([^\]]*))?\]\]")
# An Obsidian callout "> [!warning]- Title" reads as "> Warning: Title".
_CALLOUT = re.compile(r"^(\s*(?:>\s*)+)\[!(\w+)\][+-]?\s*")
_SENTENCE_GAP = re.compile(r"(?<=[.!?;])\s+")
_PARENT_WORDS = 20


def clean_for_embedding(line: str) -> str:
    """The words of a line as a model should read them: no images, tags, markdown markers or link targets."""
    line = strip_images(line)
    if "[" in line:
        line = _CALLOUT.sub(lambda m: f"{m.group(1)}{m.group(2).capitalize()}: ", line)
        line = _WIKILINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), line)
    line = _LINK.sub(r"\1", line)
    line = _HTML_TAG.sub(" ", line)
    line = _MD_NOISE.sub("", line)
    line = line.replace("\u25bc", " ").replace("\u25a1", " ").replace("\t", " | ")
    return _SPACES.sub(" ", line).strip()


def file_title(file_name: str, title: str | None = None) -> str:
    """A readable title from a note's name: 'aws-developer-notes.md' -> 'AWS developer notes'; a nested note's
    folders lead ('AWS/sub/storage.md' -> 'AWS > sub > storage'); a front-matter title replaces the file name."""
    *folders, base = file_name.split("/")
    if title is None:
        words = re.split(r"[-_ ]+", base.rsplit(".", 1)[0])
        title = " ".join(w.upper() if w.lower() in {"aws", "saa"} else w for w in words if w)
    return " > ".join([*folders, title])


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(file_name: str, text: str, occurrence: int = 0) -> str:
    """The file, the passage's text and which occurrence of that text in the file it is: an edit elsewhere in
    the file (lines added above it) keeps the id, an edit of the passage itself changes it."""
    key = f"{file_name}\x00{content_hash(text)}\x00{occurrence}"
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


def line_slices(line: str, token_counts: Callable[[str], int], budget: int) -> list[tuple[int, int]]:
    """[start, end) character spans of a line too long to embed whole: sentences grouped up to the budget,
    a sentence longer than the budget cut between words. Each span starts and ends on a non-space character."""
    sentences = [(m.start(), m.end()) for m in re.finditer(r"\S(?:.*?\S)?(?=\s*$|(?<=[.!?;])\s+)", line)]
    pieces: list[tuple[int, int]] = []
    for start, end in sentences:
        if token_counts(line[start:end]) <= budget:
            pieces.append((start, end))
            continue
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", line[start:end])]
        run_start, used = None, 0
        for w_start, w_end in words:
            tokens = token_counts(line[start + w_start : start + w_end])
            if run_start is not None and used + tokens > budget:
                pieces.append((run_start, last_end))
                run_start, used = None, 0
            if run_start is None:
                run_start = start + w_start
            used += tokens
            last_end = start + w_end
        if run_start is not None:
            pieces.append((run_start, last_end))
    spans: list[tuple[int, int]] = []
    used = 0
    for start, end in pieces:
        tokens = token_counts(line[start:end])
        if spans and used + tokens <= budget:
            spans[-1] = (spans[-1][0], end)
            used += tokens
        else:
            spans.append((start, end))
            used = tokens
    return spans


@dataclass(frozen=True)
class _SectionFrame:
    """What every chunk of one section shares: where it comes from, and the text its embedding and BM25 prefix."""

    file_name: str
    section: Section
    prefix: str  # "<file title> > <heading path>:" and the services the headings name
    path_text: str
    leaf: str  # the last two headings, the context of each line unit
    tags: list[str]

    def record(
        self, start: int, end: int, text: str, services: list[str], body: str, lines: list[LineUnit],
        start_char: int | None = None, end_char: int | None = None,
    ) -> ChunkRecord:
        """The chunk of `text` (lines start..end, or the slice start_char:end_char of line start) and its index texts."""
        tag_text = " ".join(f"#{t}" for t in self.tags)
        return ChunkRecord(
            chunk=Chunk(
                id=chunk_id(self.file_name, text),
                file=self.file_name,
                start_line=start,
                end_line=end,
                service=services,
                heading_path=self.section.heading_path,
                text=text,
                start_char=start_char,
                end_char=end_char,
                tags=self.tags,
            ),
            embed_text=f"{self.prefix} {body}".strip(),
            lexical_text=f"{self.path_text} {tag_text} {body}" if tag_text else f"{self.path_text} {body}",
            lines=lines,
        )


def chunk_section(
    file_name: str,
    lines: list[str],
    section: Section,
    tagger: ServiceTagger,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    title: str | None = None,
    tags: list[str] | None = None,
) -> list[ChunkRecord]:
    """The chunks of one section: whole-line windows within max_tokens, each keeping the heading path; a line
    too long for one window is cut into slices at sentence boundaries (start_char/end_char)."""
    content = [n for n in range(section.start_line, section.end_line + 1) if is_content(lines[n - 1])]
    if not content or content == [section.heading_line]:
        return []
    path_text = " > ".join(section.heading_path)
    heading_services = tagger.heading_services(section.heading_path)
    prefix = f"{file_title(file_name, title)} > {path_text}:" if path_text else f"{file_title(file_name, title)}:"
    budget = max(16, max_tokens - count_tokens(prefix) - 8)
    names = " (" + ", ".join(heading_services[:3]).replace("-", " ") + ")" if heading_services else ""
    frame = _SectionFrame(file_name, section, prefix + names, path_text, " > ".join(section.heading_path[-2:]), tags or [])
    cleaned = {n: clean_for_embedding(lines[n - 1]) for n in content}
    token_counts = [max(1, count_tokens(cleaned[n]) - 2) for n in content]
    parents = bullet_parents(lines, content, section.heading_line)
    records: list[ChunkRecord] = []
    for i, j in _window_spans(content, token_counts, budget):
        if j == i + 1 and token_counts[i] > budget and content[i] != section.heading_line:
            records.extend(_slice_records(frame, lines[content[i] - 1], content[i], tagger, count_tokens, budget,
                                          parents.get(content[i])))
            continue
        start, end = content[i], content[j - 1]
        if i == 0 and section.heading_line and section.heading_line < start:
            start = section.heading_line
        window_lines = content[i:j]
        line_units = [
            unit
            for n in window_lines
            if n != section.heading_line
            for unit in _line_units(n, lines[n - 1], cleaned[n], frame.leaf, parents.get(n))
        ]
        records.append(frame.record(
            start, end, "\n".join(lines[start - 1 : end]),
            tagger.tag(section.heading_path, (lines[n - 1] for n in window_lines)),
            " ".join(cleaned[n] for n in window_lines if n != section.heading_line),
            line_units,
        ))
    return records


def _slice_records(
    frame: _SectionFrame,
    line: str,
    number: int,
    tagger: ServiceTagger,
    count_tokens: Callable[[str], int],
    budget: int,
    parent: str | None,
) -> list[ChunkRecord]:
    """One chunk per slice of a line too long to embed whole; each slice's text is exactly line[start:end]."""
    services = tagger.tag(frame.section.heading_path, [line[:400]])
    counts = lambda text: max(1, count_tokens(clean_for_embedding(text)) - 2)  # noqa: E731
    records = []
    for start, end in line_slices(line, counts, budget):
        text = line[start:end]
        cleaned = clean_for_embedding(text)
        records.append(frame.record(number, number, text, services, cleaned,
                                    _line_units(number, text, cleaned, frame.leaf, parent), start, end))
    return records
