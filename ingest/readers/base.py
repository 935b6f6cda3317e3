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
