"""Fakes for fast tests: a deterministic hashing embedder that needs no model."""

from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Bag-of-words hashed into a fixed number of dimensions: same text, same vector; shared words, closer vectors."""

    def __init__(self, dimension: int = 64, name: str = "hashing-test-embedder") -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = 256
        self.calls = 0
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        return 2 + int(len(_WORD.findall(text.lower())) * 1.3)
