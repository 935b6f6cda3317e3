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
