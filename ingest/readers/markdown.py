"""Generic markdown notes: ATX `#` headings found by a CommonMark parse, plus `Label:` pseudo-headings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.lines import is_blank, is_content
from ingest.readers.base import make_section, split_lines
from kb.models import Section

_LABEL_MAX_WORDS = 6
_LABEL_MAX_CHARS = 50


@dataclass(frozen=True)
class Heading:
    """A real ATX heading: its 1-based line, its level (1-6) and its cleaned title."""

    line: int
    level: int
    title: str


@dataclass(frozen=True)
class SectionStart:
    """Where a section opens: its first line, its heading path and the heading's line (None if unheaded)."""

    line: int
    heading_path: list[str]
    heading_line: int | None


@dataclass(frozen=True)
class ParsedMarkdown:
    """What a CommonMark parse tells the readers: real ATX headings and where top-level paragraphs start."""

    headings: list[Heading]
    paragraph_starts: set[int]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def clean_title(inline: Token | None) -> str:
    """The words of a heading's inline token: no `#`, emphasis, link syntax, images or trailing colon."""
    if inline is None or not inline.children:
        return ""
    words = []
    for child in inline.children:
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
    # Unbalanced `**` survives the parse as literal text; it is never part of a title.
    title = "".join(words).replace("**", "")
    return title.strip().rstrip(":").strip()


def clean_inline_text(raw: str) -> str:
    """`clean_title` for a line of markdown that is not a heading token (e.g. a pseudo-heading label)."""
    tokens = _parser().parseInline(raw.strip())
    return clean_title(tokens[0] if tokens else None)


def _is_real_title(title: str) -> bool:
    # A tab inside the title means a tab-separated table row that happens to start with `# `.
    return bool(title) and "\t" not in title


def parse(lines: list[str]) -> ParsedMarkdown:
    """The CommonMark block structure of `lines`, with 1-based line numbers as `split_lines` counts them."""
    headings: list[Heading] = []
    paragraph_starts: set[int] = set()
    # Parsing the "\n"-joined lines keeps the parser's line numbers equal to splitlines() numbering, even
    # when the text holds separators that splitlines() honours and CommonMark does not (U+2028, \x85...).
    tokens = _parser().parse("\n".join(lines))
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        start = token.map[0] + 1
        if token.type == "paragraph_open" and token.level == 0:
            paragraph_starts.add(start)
        # Setext headings (`---` under a line) are not headings in these notes, only ATX ones are.
        elif token.type == "heading_open" and token.markup.startswith("#"):
            title = clean_title(tokens[index + 1])
            if _is_real_title(title):
                headings.append(Heading(line=start, level=int(token.tag[1]), title=title))
    return ParsedMarkdown(headings, paragraph_starts)


def has_atx_heading(text: str) -> bool:
    """True when CommonMark finds at least one real ATX heading outside code."""
    return bool(parse(split_lines(text)).headings)


def _is_label(lines: list[str], number: int, heading_lines: set[int]) -> bool:
    line = lines[number - 1]
    stripped = line.strip()
    # Labels sit at column 0; an indented line is more likely a stray piece of a list.
    if not stripped.endswith(":") or line[0].isspace():
        return False
    if len(stripped) > _LABEL_MAX_CHARS or len(stripped.split()) > _LABEL_MAX_WORDS:
        return False
    return number == 1 or is_blank(lines[number - 2]) or (number - 1) in heading_lines


def section_starts(headings: list[Heading], labels: dict[int, str]) -> list[SectionStart]:
    """Section openings in line order: each heading's path is the stack of open headings of lower level,
    and each label opens a sub-section one level under the current heading until the next label or heading."""
    starts: list[SectionStart] = []
    stack: list[Heading] = []
    by_line: dict[int, Heading | str] = {heading.line: heading for heading in headings}
    by_line.update(labels)
    for line in sorted(by_line):
        item = by_line[line]
        if isinstance(item, Heading):
            while stack and stack[-1].level >= item.level:
                stack.pop()
            stack.append(item)
            starts.append(SectionStart(line, [open_heading.title for open_heading in stack], line))
        else:
            starts.append(SectionStart(line, [open_heading.title for open_heading in stack] + [item], line))
    return starts


def build_sections(lines: list[str], starts: list[SectionStart]) -> list[Section]:
    """Sections that each run from their start to the line before the next start (the last one to the end),
    preceded by an unheaded section (path []) for the lines before the first start when they hold content."""
    if not lines:
        return []
    first = starts[0].line if starts else len(lines) + 1
    sections = []
    if any(is_content(line) for line in lines[: first - 1]):
        sections.append(make_section(lines, [], 1, first - 1, None))
    ends = [start.line - 1 for start in starts[1:]] + [len(lines)]
    for start, end in zip(starts, ends):
        sections.append(make_section(lines, start.heading_path, start.line, end, start.heading_line))
    return sections


class MarkdownReader:
    """Markdown with ATX headings; short `Label:` lines after a blank line are pseudo-headings."""

    name = "markdown"
    find_labels = True

    def can_read(self, path: Path, text: str) -> bool:
        """True when the text has at least one real ATX heading outside code."""
        return has_atx_heading(text)

    def sections(self, text: str) -> list[Section]:
        """One section per heading (and per label when `find_labels`), in file order, covering every content line."""
        lines = split_lines(text)
        parsed = parse(lines)
        headings = parsed.headings
        labels: dict[int, str] = {}
        if self.find_labels:
            heading_lines = {heading.line for heading in headings}
            # Only a line that starts a top-level paragraph can be a label: never code, a list item or a quote.
            for number in sorted(parsed.paragraph_starts):
                if _is_label(lines, number, heading_lines):
                    title = clean_inline_text(lines[number - 1])
                    if title:
                        labels[number] = title
        return build_sections(lines, section_starts(headings, labels))
