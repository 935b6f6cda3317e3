"""The fallback reader: any text, as paragraphs under the short lines that look like headings."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.lines import is_blank
from ingest.readers.base import split_lines
from ingest.readers.spans import SectionStart, sections_from_starts
from kb.models import Section

_MAX_HEADING_WORDS = 8
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s")


class PlainTextReader:
    """Reads anything: one section per heading-like line and the paragraphs after it."""

    name = "plain"

    def can_read(self, path: Path, text: str) -> bool:
        """Always True: this is the reader of last resort."""
        return True

    def sections(self, text: str) -> list[Section]:
        """Sections that together hold every non-blank line; text before the first heading has an empty path."""
        lines = split_lines(text)
        starts = [
            SectionStart(index + 1, [lines[index].strip()], index + 1)
            for index in range(len(lines))
            if is_heading(lines, index)
        ]
        return sections_from_starts(lines, starts)


def is_heading(lines: list[str], index: int) -> bool:
    """Whether lines[index] (0-based) is a heading: a one-line paragraph of at most eight words, without a
    final period, that is not a list item or a table row, followed by a blank line and then more text."""
    line = lines[index]
    text = line.strip()
    if not text or text.endswith(".") or "\t" in line or _LIST_ITEM.match(line):
        return False
    if len(text.split()) > _MAX_HEADING_WORDS:
        return False
    starts_paragraph = index == 0 or is_blank(lines[index - 1])
    ends_paragraph = index + 1 < len(lines) and is_blank(lines[index + 1])
    more_text_follows = any(not is_blank(rest) for rest in lines[index + 2 :])
    return starts_paragraph and ends_paragraph and more_text_follows
