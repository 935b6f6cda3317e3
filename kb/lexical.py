"""Lexical tokens: what BM25 (kb/store/bm25_store.py) and the answer's word overlaps count as words."""

from __future__ import annotations

import re
from functools import lru_cache

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
