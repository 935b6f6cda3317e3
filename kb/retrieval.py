"""Retrieval steps as pure functions over score arrays: fusion, small-to-big, service boost, focus, diversity."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from kb.config import Settings

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


def boost_services(scores: np.ndarray, services: ServiceIndex, wanted: set[str], boost: float) -> np.ndarray:
    """Add `boost` to chunks tagged with a service the question names (a nudge, never a filter)."""
    if not wanted or boost == 0:
        return scores
    return scores + boost * services.mask(wanted).astype(np.float32)


def word_set(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def diversify(order: Sequence[int], word_sets: Sequence[set[str]], k: int, threshold: float = 0.7) -> list[int]:
    """The first k of `order`, skipping any passage whose words (word_set of its text) nearly repeat one kept."""
    kept: list[int] = []
    kept_words: list[set[str]] = []
    for index in order:
        words = word_sets[index]
        if any(jaccard(words, other) >= threshold for other in kept_words):
            continue
        kept.append(index)
        kept_words.append(words)
        if len(kept) == k:
            break
    return kept


@dataclass
class Signals:
    """Everything a query tells about each chunk, computed once, combined by `combine` under some weights."""

    dense: np.ndarray
    line_chunk: np.ndarray
    line_scores: np.ndarray
    lexical: np.ndarray
    named: set[str]
    described: dict[str, float]
    guess: "ServiceGuess | None" = None


@dataclass(frozen=True)
class Weights:
    """How signals are mixed: the Settings fields of the same names, read by `Weights.of`.

    No defaults of its own: the product's values are the Settings defaults, and a test or a bench that wants
    others builds a Settings with them, so no caller ranks with values the product never uses.
    """

    dense_weight: float
    line_weight: float
    service_boost: float
    describe_boost: float
    describe_floor: float
    focus_floor: float
    focus_margin: float
    focus_boost: float
    focus_mix: float
    link_list_penalty: float

    @classmethod
    def of(cls, settings: Settings) -> "Weights":
        """The weights these settings hold."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class ServiceGuess:
    """The catalogue service whose description the question is closest to, with its kin (variants and parent).

    `margin` is how much closer it is than the nearest service outside that kin: a guess that barely wins is
    no guess.
    """

    service: str
    kin: frozenset[str]
    similarity: float
    margin: float
    vocabulary: frozenset[str]  # words of its name and description

    def confident(self, weights: Weights) -> bool:
        return weights.focus_boost > 0 and self.similarity >= weights.focus_floor and self.margin >= weights.focus_margin


# Words that carry the question's intent; never stripped even when a service's description uses them.
_ASKING = frozenset(
    "how what which why when where who whom whose does do did is are was were can could should would will i my me "
    "it its we our you your".split()
)


def focus_query(query: str, vocabulary: frozenset[str]) -> str:
    """The query without the words that only name or describe its service, so what it asks about stands out.

    "How often does AWS's columnar petabyte-scale data warehouse back itself up?" asks Redshift about backups;
    once Redshift is known, "How often does back itself up?" ranks Redshift's own lines by the question asked.
    """
    kept = []
    for token in query.split():
        words = set(_WORD.findall(token.lower()))
        if words and words <= vocabulary and not words & _ASKING:
            continue
        kept.append(token)
    return " ".join(kept)


def apply_focus(scores: np.ndarray, focused: np.ndarray, in_service: np.ndarray, weights: Weights) -> np.ndarray:
    """Lift the guessed service's chunks, ranked half by the whole question and half by the focused one."""
    lifted = weights.focus_mix * focused + (1.0 - weights.focus_mix) * scores + weights.focus_boost
    return np.where(in_service, np.maximum(scores, lifted), scores)


def demote(scores: np.ndarray, mask: np.ndarray, penalty: float) -> np.ndarray:
    """Scores lowered by `penalty` where mask is true (passages that rarely answer, such as link lists)."""
    return scores - penalty * mask.astype(np.float32) if penalty else scores


def described_bonus(services: ServiceIndex, described: dict[str, float], boost: float, floor: float) -> np.ndarray:
    """A bonus for chunks of the service a question describes without naming it (similarity above `floor`)."""
    bonus = np.zeros(services.size, dtype=np.float32)
    if boost == 0:
        return bonus
    for service, sim in described.items():
        rows = services.members.get(service)
        if sim > floor and rows is not None:
            bonus[rows] = np.maximum(bonus[rows], boost * (sim - floor) / (1.0 - floor))
    return bonus


def combine(signals: Signals, chunk_services: ServiceIndex, weights: Weights, mode: str = "hybrid") -> np.ndarray:
    """One score per chunk from the query's signals."""
    if mode == "bm25":
        return signals.lexical
    dense = small_to_big(signals.dense, signals.line_chunk, signals.line_scores, weights.line_weight)
    if mode == "dense":
        return dense
    scores = fuse_weighted(dense, signals.lexical, weights.dense_weight)
    scores = boost_services(scores, chunk_services, signals.named, weights.service_boost)
    return scores + described_bonus(chunk_services, signals.described, weights.describe_boost, weights.describe_floor)
