"""The outline of a note's lines: how far each is indented, which line a nested one sits under, a short label for
a line that heads others (shown beside a quote so a fragment like "Can be created at will" keeps its subject), and
which lines are only links (pointers elsewhere, which neither answer nor should rank as answers)."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u25bc\u25a1]|\d+[.)]|#{1,6})\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LINK_WHOLE = re.compile(r"\[[^\]]*\]\([^)]*\)|<?https?://\S+")
_NOISE = re.compile(r"</?[a-zA-Z][^>]*>|\*\*|__|`+")


def indentation(line: str) -> int:
    """How far a line is indented (a tab counts 4; NO-BREAK SPACE counts, as some exports indent with it)."""
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def parent_lines(lines: Sequence[str], numbers: Iterable[int], skip: int | None = None) -> dict[int, int]:
    """For each indented line of `numbers` (1-based, in order), the nearest line above it, among `numbers`, that
    is indented less: the bullet it sits under. `skip` (a heading) is never a parent."""
    parents: dict[int, int] = {}
    stack: list[tuple[int, int]] = []  # (indentation, line number) of the open ancestors
    for n in numbers:
        if n == skip:
            continue
        depth = indentation(lines[n - 1])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[n] = stack[-1][1]
        stack.append((depth, n))
    return parents


def strip_bullet(line: str) -> str:
    """The line without its leading indentation and list marker ("- ", "• ", "12. ", "## ")."""
    return _BULLET.sub("", line)


def label(line: str, max_words: int = 12) -> str:
    """A line's words as a short label: no bullet, markup or link target, no closing colon, at most max_words;
    empty when the line has no word to show."""
    text = _NOISE.sub("", _LINK.sub(r"\1", strip_bullet(line)))
    words = text.replace("\t", " ").split()
    if not any(re.search(r"[^\W\d_]{2}", word) for word in words):
        return ""  # "{" or "---" heads a code block or a rule, not a topic
    cut = " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")
    return cut.rstrip(" :-–")


def words_besides_links(text: str) -> int:
    """How many words (of two letters or more) a text holds outside its links and bare URLs."""
    return len(re.findall(r"[^\W\d_]{2,}", _LINK_WHOLE.sub(" ", text)))


def is_link_line(line: str) -> bool:
    """A line that is a link and little else ("- [General Guidelines for Secondary Indexes](https://...)")."""
    return bool(_LINK_WHOLE.search(line)) and words_besides_links(line) < 3


def mostly_links(text: str) -> bool:
    """At least half of the text's lines are link lines: a list of pointers to elsewhere ("Lesson Links")."""
    # Most passages hold no link: a substring test (a build's 1,400 passages in 1 ms) spares them the pattern (25 ms)
    # and the reading line by line.
    if ("](" not in text and "http" not in text) or not _LINK_WHOLE.search(text):
        return False
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and 2 * sum(map(is_link_line, lines)) >= len(lines)
