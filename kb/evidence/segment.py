"""The quotable piece of a note line (a sentence, a bullet, a heading or a table cell), and the line it comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass

@dataclass
class NoteLine:
    """One line of a note file as the index holds it."""

    number: int
    text: str
    chunk: int
    heading_path: tuple[str, ...]
    vector_row: int = -1


@dataclass
class Segment:
    """A quotable piece of one line: a sentence, a bullet, a heading or a table cell."""

    file: str
    line: int
    chunk: int
    quote: str  # verbatim substring of the line
    kind: str  # prose | heading | table
    named: tuple[str, ...] = ()  # service ids the segment names, in order (a table cell: its column's service)
    subject: tuple[str, ...] = ()  # service ids inherited from the heading, paragraph opener or parent bullet
    label: str = ""  # a table cell's row or column name ("Max IOPS")
    vector_row: int = -1
    column: str = ""  # a table cell's column header as written ("One Zone-IA")
    shared_column: bool = False  # the cell's service heads more than one column (its value is one of several)
    context: str = ""  # the heading and the paragraph-opening line it sits under ("ELB - stickiness")
    heads: str = ""  # that label or paragraph-opening line alone ("Kinesis Data Streams"), as written

    @property
    def text(self) -> str:
        """What keyword patterns read: the quote, with a table cell's attribute name in front."""
        return f"{self.label}: {self.quote}" if self.label else self.quote


_MARKUP_EDGE = re.compile(r"^(?:\s|\*\*|__|`|#+\s|[-*+•▼□]\s|</?[a-zA-Z][^>]*>|!\[[^\]]*\]\([^)]*\))+|(?:\s|\*\*|__|`|</?[a-zA-Z][^>]*>|!\[[^\]]*\]\([^)]*\))+$")


def trim_markup(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) of text past surrounding markup and spaces, so the quote reads cleanly (still verbatim)."""
    piece = text[start:end]
    lead = _MARKUP_EDGE.match(piece)
    if lead and lead.end() < len(piece):
        start += lead.end()
        piece = text[start:end]
    for tail in _MARKUP_EDGE.finditer(piece):
        if tail.end() == len(piece) and tail.start() > 0:
            end = start + tail.start()
            break
    return start, end


# The evidence layer's name for it: one quotable sentence of the notes.
NoteSentence = Segment
