"""The Reader protocol: one small module per note shape."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from kb.models import Section


@runtime_checkable
class Reader(Protocol):
    """Turns the text of one note shape into sections with exact line spans."""

    name: str

    def can_read(self, path: Path, text: str) -> bool:
        """True when the text has this reader's shape (decided by content, never by file name)."""
        ...

    def sections(self, text: str) -> list[Section]:
        """Sections in file order; each `text` is exactly lines start_line..end_line of `text`."""
        ...


def split_lines(text: str) -> list[str]:
    """The file's lines as citations number them: str.splitlines(), so line n is lines[n - 1]."""
    return text.splitlines()


def make_section(lines: list[str], heading_path: list[str], start: int, end: int, heading_line: int | None) -> Section:
    """A Section over 1-based inclusive lines start..end of `lines`, its text taken from exactly those lines."""
    return Section(
        heading_path=heading_path,
        start_line=start,
        end_line=end,
        heading_line=heading_line,
        text="\n".join(lines[start - 1 : end]),
    )


def section_problems(text: str, sections: list[Section]) -> list[str]:
    """What breaks the reader contract: order, overlap, inexact text, a heading not first, content left out."""
    from ingest.lines import is_content

    lines = split_lines(text)
    problems: list[str] = []
    previous_end = 0
    for section in sections:
        if not previous_end < section.start_line <= section.end_line <= len(lines):
            problems.append(f"section {section.start_line}-{section.end_line} is out of order, overlaps or overruns")
        elif section.text != "\n".join(lines[section.start_line - 1 : section.end_line]):
            problems.append(f"section {section.start_line}-{section.end_line} text is not exactly its lines")
        if section.heading_line not in (None, section.start_line):
            problems.append(f"section {section.start_line}-{section.end_line} heading line {section.heading_line} is not first")
        previous_end = max(previous_end, section.end_line)
    covered = {n for s in sections for n in range(s.start_line, s.end_line + 1)}
    missing = [n for n, line in enumerate(lines, 1) if is_content(line) and n not in covered]
    if missing:
        problems.append(f"content lines in no section: {missing[:10]}")
    return problems
