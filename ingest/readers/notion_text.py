"""Reader for Notion's plain-text export: "Section I" parts, chapter lines and "▼" toggle topics.

Only the toggles carry a marker. Part and chapter lines are bare text (aws-saa-notes.txt: 61 "IAM & CLI",
1503 "Amazon S3"), but the table of contents at the top names them all in order, so the body's
chapter lines are found by matching the TOC's names one after another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ingest.lines import is_blank
from ingest.readers.base import split_lines
from ingest.readers.spans import SectionStart, sections_from_starts
from kb.models import Section

_TOGGLE = re.compile(r"^\s*(?:-\s+)?▼")
_PART = re.compile(r"^Section\s+[IVXLC\d]+$")
_LINK = re.compile(r"^\[(.+)\]\([^)]*\)$")
_MIN_TOGGLES = 3
_TOC_PATH = ["Contents"]


@dataclass(frozen=True)
class _TableOfContents:
    first_line: int  # 1-based
    body_line: int  # 1-based: where the first part line repeats and the body starts
    entries: list[str]  # part and chapter names, in order


class NotionTextReader:
    """Sections of a Notion text export, with paths [part, chapter, topic]."""

    name = "notion-text"

    def can_read(self, path: Path, text: str) -> bool:
        """True when at least three lines are "▼" toggles."""
        return sum(1 for line in split_lines(text) if _TOGGLE.match(line)) >= _MIN_TOGGLES

    def sections(self, text: str) -> list[Section]:
        """One section for the table of contents, then one per part line, chapter line and "▼" topic."""
        lines = split_lines(text)
        toc = _table_of_contents(lines)
        starts: list[SectionStart] = []
        if toc:
            starts.append(SectionStart(toc.first_line, _TOC_PATH, None))
        starts.extend(_body_starts(lines, toc))
        return sections_from_starts(lines, starts)


def topic_title(line: str) -> str:
    """The topic's title: the toggle line without "▼", "□", "✓", bold markers or the final period."""
    title = _TOGGLE.sub("", line, count=1).replace("**", "").strip()
    title = title.lstrip("□✓ ").rstrip(". ")
    return title or line.strip()


def _name(line: str) -> str:
    text = line.strip()
    link = _LINK.match(text)
    return link.group(1) if link else text


def _table_of_contents(lines: list[str]) -> _TableOfContents | None:
    first = next((index for index, line in enumerate(lines) if _PART.match(line.strip())), None)
    if first is None:
        return None
    part = lines[first].strip()
    body = next((index for index in range(first + 1, len(lines)) if lines[index].strip() == part), None)
    if body is None:
        return None
    entries = [_name(line) for line in lines[first:body] if not is_blank(line)]
    return _TableOfContents(first + 1, body + 1, entries)


def _body_starts(lines: list[str], toc: _TableOfContents | None) -> list[SectionStart]:
    entries = toc.entries if toc else []
    next_entry = 0
    part: str | None = None
    chapter: str | None = None
    starts: list[SectionStart] = []
    for index in range((toc.body_line - 1) if toc else 0, len(lines)):
        line = lines[index]
        name = _name(line)
        # Expect the TOC's names strictly in order, so a stray body line "Other" or "EC2" is not a chapter;
        # a part line always counts and resynchronises, in case a chapter name never appears in the body.
        if _PART.match(name):
            part, chapter = name, None
            if name in entries[next_entry:]:
                next_entry = entries.index(name, next_entry) + 1
            path = [part]
        elif next_entry < len(entries) and name == entries[next_entry]:
            chapter = name
            next_entry += 1
            path = [p for p in (part, chapter) if p]
        elif _TOGGLE.match(line):
            path = [p for p in (part, chapter) if p] + [topic_title(line)]
        else:
            continue
        starts.append(SectionStart(index + 1, path, index + 1))
    return starts
