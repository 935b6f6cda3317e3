"""The registry of note-shape readers; the first whose can_read() says yes reads the file."""

from __future__ import annotations

from pathlib import Path

from ingest.readers.base import Reader

_READERS: list[Reader] | None = None


def all_readers() -> list[Reader]:
    """Readers from the most specific shape to the most general; the last one reads anything."""
    global _READERS
    if _READERS is None:
        from ingest.readers.html_markdown import HtmlMarkdownReader
        from ingest.readers.typora import TyporaReader
        from ingest.readers.notion_text import NotionTextReader
        from ingest.readers.bullet_text import BulletTextReader
        from ingest.readers.markdown import MarkdownReader
        from ingest.readers.plain import PlainTextReader

        _READERS = [
            HtmlMarkdownReader(),
            TyporaReader(),
            NotionTextReader(),
            BulletTextReader(),
            MarkdownReader(),
            PlainTextReader(),
        ]
    return _READERS


def reader_for(path: Path, text: str) -> Reader:
    """The reader for this text's shape."""
    for reader in all_readers():
        if reader.can_read(path, text):
            return reader
    raise AssertionError("PlainTextReader reads anything")
