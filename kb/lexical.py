"""The lexical side of retrieval: bm25s with English stemming and stop words."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

# Keep AWS-ish tokens whole: "s3", "ec2", "x-ray" pieces, "256kb", "fifo".
_TOKEN_PATTERN = r"(?u)\b\w+\b"
_SPLIT_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _prepare(text: str) -> str:
    # "ChangeMessageVisibility" should match "change message visibility" too.
    return text + " " + _SPLIT_CAMEL.sub(" ", text) if _SPLIT_CAMEL.search(text) else text


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lowercased, stemmed tokens without English stop words."""
    import bm25s

    return bm25s.tokenize(
        [_prepare(t) for t in texts],
        token_pattern=_TOKEN_PATTERN,
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )


class LexicalIndex:
    """BM25 over the chunks' lexical texts, in chunk order."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size
        self._vocab = set(retriever.vocab_dict) if getattr(retriever, "vocab_dict", None) else None

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(tokenize(texts) if texts else [[]], show_progress=False)
        return cls(retriever, len(texts))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False, verbosity=0), size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for this query (zeros when no query word is in the vocabulary)."""
        tokens = tokenize([query])[0]
        if self._vocab is not None:
            tokens = [t for t in tokens if t in self._vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
