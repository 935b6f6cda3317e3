"""What every search derives from a build's chunks once: which chunks each service tags, and each chunk's words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


class ServiceIndex:
    """Which chunks each service tags, so service boosts and filters are array operations."""

    def __init__(self, chunk_services: Sequence[Sequence[str]]) -> None:
        self.size = len(chunk_services)
        members: dict[str, list[int]] = {}
        for i, services in enumerate(chunk_services):
            for service in services:
                members.setdefault(service, []).append(i)
        self.members = {s: np.asarray(rows, dtype=np.int64) for s, rows in members.items()}

    def mask(self, services: Iterable[str]) -> np.ndarray:
        """True for chunks tagged with any of the services."""
        out = np.zeros(self.size, dtype=bool)
        for service in services:
            rows = self.members.get(service)
            if rows is not None:
                out[rows] = True
        return out


def word_set(text: str) -> set[str]:
    """The lowercase words and numbers of a text (what near-duplicate passages are told apart by)."""
    return set(_WORD.findall(text.lower()))


class WordSets(Sequence[set[str]]):
    """The word_set of each of some texts, each made when first asked for: a search reads those of its few best
    passages only, and making all of a build's up front was 0.06 s of a cold `kb ask`."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts
        self._sets: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, index):  # noqa: ANN001, ANN204 - Sequence's int and slice forms
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        words = self._sets.get(index)
        if words is None:
            words = self._sets[index] = word_set(self._texts[index])  # two threads at once make the same set
        return words
