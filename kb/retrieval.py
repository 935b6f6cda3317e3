"""Retrieval steps as pure functions over score arrays: fusion, small-to-big, service boost, diversity."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scores scaled to 0..1 (all zeros when they are all equal)."""
    if scores.size == 0:
        return scores.astype(np.float32)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def fuse_weighted(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """Weighted sum of min-max normalised dense and lexical scores (dense trusted more: BM25 is weak on rewording)."""
    return dense_weight * minmax(dense) + (1.0 - dense_weight) * minmax(lexical)


def fuse_rrf(rankings: Sequence[Sequence[int]], size: int, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion of several rankings (lists of chunk indices, best first) into one score per chunk."""
    scores = np.zeros(size, dtype=np.float32)
    for ranking in rankings:
        for rank, index in enumerate(ranking):
            scores[index] += 1.0 / (k + rank + 1)
    return scores


def small_to_big(
    chunk_scores: np.ndarray, line_chunk: np.ndarray, line_scores: np.ndarray, line_weight: float
) -> np.ndarray:
    """A chunk's dense score mixed with its best line's: one line that matches well lifts its whole chunk."""
    best = chunk_scores.copy()
    if line_scores.size:
        np.maximum.at(best, line_chunk, line_scores)
    return (1.0 - line_weight) * chunk_scores + line_weight * best


def boost_services(
    scores: np.ndarray, chunk_services: Sequence[Sequence[str]], wanted: set[str], boost: float
) -> np.ndarray:
    """Add `boost` to chunks tagged with a service the question names (a nudge, never a filter)."""
    if not wanted or boost == 0:
        return scores
    bonus = np.array([boost if wanted.intersection(services) else 0.0 for services in chunk_services], dtype=np.float32)
    return scores + bonus


def word_set(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def diversify(order: Sequence[int], texts: Sequence[str], k: int, threshold: float = 0.7) -> list[int]:
    """The first k of `order`, skipping any passage whose words nearly repeat a passage already kept."""
    kept: list[int] = []
    kept_words: list[set[str]] = []
    for index in order:
        words = word_set(texts[index])
        if any(jaccard(words, other) >= threshold for other in kept_words):
            continue
        kept.append(index)
        kept_words.append(words)
        if len(kept) == k:
            break
    return kept
