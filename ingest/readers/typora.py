"""Typora exports: markdown with a `[TOC]` directive and screenshots pasted as local Windows paths."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.readers.markdown import MarkdownReader

_TOC = re.compile(r"^\s*\[TOC\]\s*$", re.MULTILINE | re.IGNORECASE)
# Typora pastes screenshots as `![1604549225642](C:\Users\...\typora-user-images\...png)`.
_LOCAL_WINDOWS_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?[A-Za-z]:[\\/]")
_MIN_LOCAL_IMAGES = 3


class TyporaReader(MarkdownReader):
    """Typora's markdown, sectioned by its ATX headings exactly as `MarkdownReader` does, without labels.

    The export's traps are CommonMark's business: `#` lines inside fences (even mis-paired ones) are code,
    a heading indented by one space is still a heading, and a heading holding only an image is not one.
    """

    name = "typora"
    # Typora notes use real headings down to h6; a `Label:` line there is a list lead-in, not a sub-topic.
    find_labels = False

    def can_read(self, path: Path, text: str) -> bool:
        """True when the text has a `[TOC]` line or at least three images at local Windows paths."""
        if _TOC.search(text):
            return True
        return len(_LOCAL_WINDOWS_IMAGE.findall(text)) >= _MIN_LOCAL_IMAGES
