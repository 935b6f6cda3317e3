"""The bm25s backend's lexical store: BM25 with English stemming and stop words, saved in the build's bm25/ folder."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from kb.errors import IndexCorrupt
from kb.lexical import tokenize
from kb.store.layout import index_dir_of, rebuild_hint

BM25_DIR = "bm25"


class BM25Store:
    """A LexicalStore: BM25 over the chunks' lexical texts, in chunk order."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size
        self._vocab = set(retriever.vocab_dict) if getattr(retriever, "vocab_dict", None) else None

    @classmethod
    def build(cls, texts: list[str]) -> "BM25Store":
        """An in-memory store over texts (what `write` saves)."""
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(tokenize(texts) if texts else [[]], show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for this query (zeros when no query word is in the vocabulary)."""
        tokens = tokenize([query])[0]
        if self._vocab is not None:
            tokens = [t for t in tokens if t in self._vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    @classmethod
    def write(cls, directory: Path, texts: list[str]) -> None:
        cls.build(texts)._retriever.save(str(directory / BM25_DIR), show_progress=False)

    @classmethod
    def open(cls, directory: Path, size: int) -> "BM25Store":
        bm25s = _bm25s_for_reading()
        try:
            return cls(bm25s.BM25.load(str(directory / BM25_DIR), show_progress=False, verbosity=0), size)
        except Exception as exc:
            raise IndexCorrupt(
                f"The lexical index in {directory} is unreadable ({exc}). {rebuild_hint(index_dir_of(directory))}"
            ) from exc

    @classmethod
    def drop(cls, directory: Path) -> None:
        """Nothing to do: the bm25/ folder goes with the build folder."""


def _bm25s_for_reading() -> ModuleType:
    """bm25s, imported without scipy when nothing has imported scipy yet.

    bm25s treats scipy as optional and uses it only to build the score matrix (its numpy path builds the same one);
    loading a saved index and scoring read plain numpy arrays. Importing scipy.sparse is about 0.2 s of a cold
    `kb ask`, so a process that only reads an index does without it.
    """
    if "bm25s" in sys.modules or "scipy" in sys.modules:
        return importlib.import_module("bm25s")
    hidden = {name: sys.modules.get(name) for name in ("scipy", "scipy.sparse")}
    sys.modules.update(dict.fromkeys(hidden))  # a None entry makes `import scipy` raise ImportError
    try:
        return importlib.import_module("bm25s")
    finally:
        for name in hidden:
            del sys.modules[name]
