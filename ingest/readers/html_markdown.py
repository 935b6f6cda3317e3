"""Markdown whose headings are HTML `<hN>` tag lines, with bold lines and short parent bullets as sub-topics.

Read line by line on purpose: CommonMark's HTML-block rule turns an `<h2>` line and everything up to the
next blank line into one raw block, which would hide the bullets that carry the structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.lines import is_blank, is_fence
from ingest.readers.base import split_lines
from ingest.readers.markdown import SectionStart, build_sections, clean_inline_text
from kb.models import Section

_HTML_HEADING = re.compile(r"^\s*<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>\s*$", re.IGNORECASE)
_BOLD_LINE = re.compile(r"^\*\*([^*]+)\*\*\s*$")
_STAR_BULLET = re.compile(r"^( *)\* (.*)$")
_ANY_BULLET = re.compile(r"^( *)(?:[-*+]|\d+[.)]) ")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w")
_BULLET_TITLE_MAX_WORDS = 8
_MIN_HTML_HEADINGS = 2


@dataclass
class _Outline:
    """The open headings at some line: HTML headings by level, then a bold line, a bullet and a sub-bullet."""

    html: list[tuple[int, str]]
    bold: str | None = None
    bullet: str | None = None
    sub_bullet: str | None = None

    def path(self) -> list[str]:
        pseudo = [self.bold, self.bullet, self.sub_bullet]
        return [title for _, title in self.html] + [title for title in pseudo if title]


def _html_heading(line: str) -> tuple[int, str] | None:
    match = _HTML_HEADING.match(line)
    if not match:
        return None
    return int(match.group(1)), _TAG.sub("", match.group(2)).strip()


def _outside_code(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index, line) for each line that is neither a fence marker nor inside a fenced block."""
    in_code = False
    for index, line in enumerate(lines):
        if is_fence(line):
            in_code = not in_code
        elif not in_code:
            yield index, line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _starts_paragraph(lines: list[str], index: int) -> bool:
    line = lines[index]
    return index > 0 and is_blank(lines[index - 1]) and not is_blank(line) and not line[0].isspace()


def _has_children(lines: list[str], index: int) -> bool:
    """True when a bullet deeper than the one at lines[index] follows before a bullet at its depth or shallower."""
    depth = _indent(lines[index])
    for line in lines[index + 1 :]:
        bullet = _ANY_BULLET.match(line)
        if bullet:
            return len(bullet.group(1)) > depth
        if _html_heading(line) or _BOLD_LINE.match(line):
            return False
    return False


def _bullet_title(lines: list[str], index: int) -> str | None:
    """The cleaned text of a `*` bullet that qualifies as a sub-topic: it has children and its text is short."""
    match = _STAR_BULLET.match(lines[index])
    if not match or not _has_children(lines, index):
        return None
    # Only the bullet's first line is weighed: a wrapped (lazy-continued) bullet is long anyway.
    words = [word for word in match.group(2).split() if _WORD.search(word)]
    if len(words) > _BULLET_TITLE_MAX_WORDS:
        return None
    return clean_inline_text(match.group(2)) or None


def _section_starts(lines: list[str]) -> list[SectionStart]:
    """Where sections open: HTML headings (a stack on level), bold lines under them, then sub-topic bullets."""
    starts: list[SectionStart] = []
    outline = _Outline(html=[])
    for index, line in _outside_code(lines):
        number = index + 1
        heading = _html_heading(line)
        bold = _BOLD_LINE.match(line)
        bullet = _STAR_BULLET.match(line)
        if heading:
            level, title = heading
            outline = _Outline(html=[(lvl, ttl) for lvl, ttl in outline.html if lvl < level] + [(level, title)])
            starts.append(SectionStart(number, outline.path(), number))
        elif bold:
            outline = _Outline(html=outline.html, bold=clean_inline_text(line) or None)
            starts.append(SectionStart(number, outline.path(), number))
        # Nested `*` bullets step in by two spaces in this shape; one space of slack tolerates sloppy indents.
        elif bullet and len(bullet.group(1)) <= 1:
            closes = outline.bullet is not None
            outline.bullet = _bullet_title(lines, index)
            outline.sub_bullet = None
            if outline.bullet or closes:
                # A plain top-level bullet after a sub-topic goes back to the enclosing heading's section.
                starts.append(SectionStart(number, outline.path(), number if outline.bullet else None))
        elif bullet and outline.bullet and len(bullet.group(1)) in (2, 3):
            closes = outline.sub_bullet is not None
            outline.sub_bullet = _bullet_title(lines, index)
            if outline.sub_bullet or closes:
                starts.append(SectionStart(number, outline.path(), number if outline.sub_bullet else None))
        elif outline.bullet and _starts_paragraph(lines, index):
            # A new unindented paragraph after a blank line ends the bullet list (a lazy line does not).
            outline.bullet = outline.sub_bullet = None
            starts.append(SectionStart(number, outline.path(), None))
    return starts


class HtmlMarkdownReader:
    """Markdown sectioned by `<h1>`..`<h6>` lines; `**Bold**` lines and short parent bullets open sub-sections."""

    name = "html-markdown"

    def can_read(self, path: Path, text: str) -> bool:
        """True when at least two lines are `<hN>...</hN>` headings and there is no ATX heading outside code."""
        # Scanned by line, not by CommonMark, which would hide a `#` line glued under an `<hN>` line.
        lines = [line for _, line in _outside_code(split_lines(text))]
        if any(_ATX_HEADING.match(line) for line in lines):
            return False
        return sum(1 for line in lines if _html_heading(line)) >= _MIN_HTML_HEADINGS

    def sections(self, text: str) -> list[Section]:
        """One section per HTML heading, bold pseudo-heading and sub-topic bullet, in file order."""
        lines = split_lines(text)
        return build_sections(lines, _section_starts(lines))

