"""Finds the catalogue's names in text: a tree of their characters walked from each word start.

A regular expression of the catalogue's 1,500 names did the same, but compiling it is pure Python and took 0.1-0.3 s
of every cold `kb ask` (the interpreter's lock held all the while, so the model loading beside it waited too).
Building this tree takes a few milliseconds, and a walk from a word start stops at the first letter no name has.

What it finds, as that expression did: at a position not after a letter or digit, an optional "AWS " or "Amazon "
(any case) and then a name, its words separated in the text by any run of spaces and underscores (none too), an
optional plural "s" after it, and no letter or digit after that. Of the names that fit at one position, the one
listed first in `names` wins; the scan goes on after the match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_SEPARATORS = " _"
_PREFIXES = ("aws", "amazon")
_SEPARATOR = ""  # the key, in the tree, of the step between two words of a name (no character is empty)
_END = None  # the key of a node's rank when a name ends there


class _Tree:
    """Names as nested dicts of characters; a node holds `_END` -> the best rank of a name ending there."""

    def __init__(self) -> None:
        self.root: dict = {}

    def add(self, words: list[str], rank: int) -> None:
        node = self.root
        for number, word in enumerate(words):
            if number:
                node = node.setdefault(_SEPARATOR, {})
            for char in word:
                node = node.setdefault(char, {})
        node[_END] = min(rank, node.get(_END, rank))

    def ends(self, text: str, start: int, fold: bool) -> Iterator[tuple[int, int]]:
        """(end, rank) of every name of the tree that the text spells from `start`."""
        pending = [(self.root, start)]
        while pending:
            node, at = pending.pop()
            if _END in node:
                yield at, node[_END]
            if _SEPARATOR in node:
                after = at
                while after < len(text) and text[after] in _SEPARATORS:
                    after += 1
                pending.append((node[_SEPARATOR], after))
            if at < len(text):
                char = text[at].lower() if fold else text[at]
                if char in node:
                    pending.append((node[char], at + 1))


class NameFinder:
    """The spans of names in a text. `names` are (name, case_sensitive) in order of preference; a name's words are
    split on spaces and hyphens, and the text is expected folded the same way (hyphens to spaces)."""

    def __init__(self, names: Iterable[tuple[str, bool]]) -> None:
        self._folded = _Tree()  # names matched in any case
        self._exact = _Tree()
        for rank, (name, case_sensitive) in enumerate(names):
            words = [w for w in re.split(r"[\s\-]+", name.strip()) if w]
            if not words or any(w[0] in _SEPARATORS for w in words):
                raise ValueError(f"name {name!r} has no words, or a word that starts with a separator")
            if case_sensitive:
                self._exact.add(words, rank)
            else:
                self._folded.add([w.lower() for w in words], rank)
        firsts = set(self._folded.root) | {c.upper() for c in self._folded.root} | set(self._exact.root)
        firsts |= {p[0] for p in _PREFIXES} | {p[0].upper() for p in _PREFIXES}
        firsts.discard(_SEPARATOR)
        # Word starts whose first character begins some name or a prefix: the only places a match can begin.
        self._starts = re.compile(rf"(?<![^\W_])[{''.join(re.escape(c) for c in sorted(firsts))}]")

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each name found, left to right, none overlapping."""
        found: list[tuple[int, int]] = []
        resume = 0
        for start in (m.start() for m in self._starts.finditer(text)):
            if start < resume:
                continue
            end = self._after_prefix(text, start)
            if end is None:
                end = self._name_at(text, start)
            if end is not None:
                found.append((start, end))
                resume = end
        return found

    def _after_prefix(self, text: str, start: int) -> int | None:
        for prefix in _PREFIXES:
            after = start + len(prefix)
            if text[start:after].lower() == prefix and after < len(text) and text[after] == " ":
                while after < len(text) and text[after] == " ":
                    after += 1
                return self._name_at(text, after)
        return None

    def _name_at(self, text: str, start: int) -> int | None:
        """Where the preferred name that fits at `start` ends (its plural "s" included), or None."""
        best: tuple[int, int] | None = None  # (rank, end)
        for tree, fold in ((self._folded, True), (self._exact, False)):
            for end, rank in tree.ends(text, start, fold):
                if best is not None and rank >= best[0]:
                    continue
                if end < len(text) and text[end] in "sS" and _boundary(text, end + 1):
                    best = (rank, end + 1)
                elif _boundary(text, end):
                    best = (rank, end)
        return None if best is None else best[1]


def _boundary(text: str, at: int) -> bool:
    """No letter or digit at `at` (an underscore or punctuation ends a name)."""
    return at >= len(text) or not text[at].isalnum()
