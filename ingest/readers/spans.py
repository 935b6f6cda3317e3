"""Turning the lines where sections start into sections that cover the whole file."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.lines import is_blank
from ingest.readers.base import make_section
from kb.models import Section


@dataclass(frozen=True)
class SectionStart:
    """Where a section opens: a 1-based line, its heading path, and its heading line if it has one."""

    line: int
    heading_path: list[str]
    heading_line: int | None


def sections_from_starts(lines: list[str], starts: list[SectionStart]) -> list[Section]:
    """One section per start, each running to the line before the next start, trailing blank lines dropped.

    Content before the first start becomes a section with an empty heading path, so every non-blank
    line of the file lies in exactly one section. `starts` must be in file order.
    """
    sections: list[Section] = []
    first_start = starts[0].line if starts else len(lines) + 1
    preamble = _trimmed(lines, 1, first_start - 1, trim_leading=True)
    if preamble:
        sections.append(make_section(lines, [], preamble[0], preamble[1], None))
    for index, start in enumerate(starts):
        stop = starts[index + 1].line - 1 if index + 1 < len(starts) else len(lines)
        span = _trimmed(lines, start.line, stop, trim_leading=start.heading_line is None)
        if span:
            sections.append(make_section(lines, start.heading_path, span[0], span[1], start.heading_line))
    return sections


def _trimmed(lines: list[str], start: int, end: int, *, trim_leading: bool) -> tuple[int, int] | None:
    while end >= start and is_blank(lines[end - 1]):
        end -= 1
    while trim_leading and start <= end and is_blank(lines[start - 1]):
        start += 1
    return (start, end) if start <= end else None
