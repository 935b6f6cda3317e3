"""What a line of a note carries, shared by readers, the chunker and the coverage test."""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINKED_IMAGE = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)")
_FENCE = re.compile(r"^\s*(```|~~~)[\w+-]*\s*$")


def strip_images(line: str) -> str:
    """The line without markdown image links (Typora's local paths carry no words worth indexing)."""
    return _IMAGE.sub("", _LINKED_IMAGE.sub("", line))


def is_blank(line: str) -> bool:
    # NO-BREAK SPACE and other unicode spaces count as blank too.
    return not line.strip()


def is_fence(line: str) -> bool:
    return bool(_FENCE.match(line))


def is_image_only(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    rest = strip_images(stripped).strip(" \t-*#>")
    return rest == "" and stripped != rest


def is_content(line: str) -> bool:
    """A line that holds words a reader could want: not blank, not only an image, not only a fence marker."""
    return not (is_blank(line) or is_fence(line) or is_image_only(line))
