"""Retrieval: the steps as pure functions over score arrays (fusion, small-to-big, service boost, focus, diversity),
and the Retriever that strings them into one ranking of a loaded build's chunks for a query."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Callable, Literal, Sequence

import numpy as np

from kb.chunk_views import ServiceIndex, word_set

if TYPE_CHECKING:
    from kb.catalogue import Catalogue
    from kb.config import Settings
    from kb.index import LoadedBuild

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
_CANDIDATES = 60
_LINE_CANDIDATES = 400
# How many chunks a store that is not in memory is asked for: far more than a page of results, and enough that a
# chunk lifted into the top by BM25 or its best line still gets its own dense score (see scores_from_best).
_DENSE_CANDIDATES = 400
_LEXICAL_CANDIDATES = 100
# A service's chunks are all scored exactly up to this many (a service of more is a corpus of millions).
_SERVICE_CANDIDATES = 2000


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


def scores_from_best(
    size: int, rows: np.ndarray, scores: np.ndarray, rest: float, worst: tuple[int, float] | None
) -> np.ndarray:
    """Every chunk's dense score from the rows a store scored (`rows`, `scores`) and its worst row: those exact,
    every other chunk `rest` (the lowest of the store's best: no chunk outside them scores more).

    Fusion scales dense scores to 0..1 by their minimum and maximum, so the worst chunk's own score keeps that scale
    the one the full product gives, and the chunks that can rank fuse with BM25 as if every score were known."""
    found = rows >= 0  # a store may find fewer rows than asked for
    dense = np.full(size, rest, dtype=np.float32)
    dense[rows[found]] = scores[found]
    if worst is not None:
        dense[worst[0]] = min(worst[1], float(dense.min()))
    return dense


def small_to_big(
    chunk_scores: np.ndarray, line_chunk: np.ndarray, line_scores: np.ndarray, line_weight: float
) -> np.ndarray:
    """A chunk's dense score mixed with its best line's: one line that matches well lifts its whole chunk."""
    best = chunk_scores.copy()
    if line_scores.size:
        np.maximum.at(best, line_chunk, line_scores)
    return (1.0 - line_weight) * chunk_scores + line_weight * best


def boost_services(scores: np.ndarray, services: ServiceIndex, wanted: set[str], boost: float) -> np.ndarray:
    """Add `boost` to chunks tagged with a service the question names (a nudge, never a filter)."""
    if not wanted or boost == 0:
        return scores
    return scores + boost * services.mask(wanted).astype(np.float32)


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
        words = word_set(token)
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


@dataclass(frozen=True)
class Focus:
    """The question as asked of the one service it is surely about (see focus_query)."""

    query: str
    vector: np.ndarray
    signals: Signals


@dataclass(frozen=True)
class Ranking:
    """The best chunks for a query, best first, as (position in the build, score), and the focused query if used."""

    ranked: list[tuple[int, float]]
    focus: Focus | None = None


class ServiceDescriptions:
    """The catalogue's service descriptions, embedded on first use and kept: which service a query is closest to."""

    def __init__(self, encode_texts: Callable[[list[str]], np.ndarray]) -> None:
        self._encode_texts = encode_texts
        self._vectors: tuple[list[str], np.ndarray] | None = None

    def guess(self, query_vector: np.ndarray, catalogue: Catalogue) -> ServiceGuess:
        """The service whose catalogue description the query is closest to (named or only described)."""
        if self._vectors is None:
            # A part of a service (IAM roles, S3 CORS) is what a question is about when it names it; from a
            # description alone, the service or product itself is the better guess.
            ids = [s.id for s in catalogue.services.values() if not s.part]
            texts = [f"{catalogue.services[i].full_name}: {catalogue.services[i].description}" for i in ids]
            self._vectors = (ids, self._encode_texts(texts))
        ids, vectors = self._vectors
        sims = vectors @ query_vector.reshape(-1)
        order = np.argsort(-sims)
        service = catalogue.get(ids[int(order[0])])
        kin = frozenset(catalogue.family(service.id)) | ({service.parent} if service.parent else frozenset())
        runner_up = next((float(sims[i]) for i in order[1:] if ids[int(i)] not in kin), 0.0)
        vocabulary = f"{service.name} {service.full_name} {service.description} aws amazon aws's amazon's"
        return ServiceGuess(
            service=service.id,
            kin=kin,
            similarity=float(sims[order[0]]),
            margin=float(sims[order[0]]) - runner_up,
            vocabulary=frozenset(word_set(vocabulary)),
        )


class Retriever:
    """Ranks the chunks of one loaded build for a query: signals -> fused scores -> focus -> demote -> filter ->
    top candidates -> diversify.

    `encode` maps one query to its (1, dimension) vector; `descriptions` guesses the service a query is about
    (None: no guess, so no description boost and no focus).
    """

    def __init__(
        self,
        build: LoadedBuild,
        encode: Callable[[str], np.ndarray],
        catalogue: Catalogue,
        weights: Weights,
        descriptions: ServiceDescriptions | None = None,
    ) -> None:
        self.build = build
        self.encode = encode
        self.catalogue = catalogue
        self.weights = weights
        self.descriptions = descriptions

    def signals(self, query: str, vector: np.ndarray | None = None, services: frozenset[str] = frozenset()) -> Signals:
        """What the query says about every chunk: dense, best lines, BM25, services named or described.

        `services`: chunks whose dense score must be exact besides those the query itself lifts (see `liftable`)."""
        index = self.build.index
        if vector is None:
            vector = self.encode(query)
        line_chunk = np.zeros(0, dtype=np.int32)
        line_scores = np.zeros(0, dtype=np.float32)
        if len(index.line_vectors):
            line_found, line_rows = index.line_vectors.search(vector, _LINE_CANDIDATES)
            line_chunk, line_scores = index.line_chunk[line_rows[0]], line_found[0]
        lexical = index.lexical.scores(query)
        catalogue = self.catalogue
        named = {f for s in catalogue.find_in_heading(query) for f in [s, *catalogue.children(s)]}
        guess = self.guess_service(vector)
        signals = Signals(
            dense=np.zeros(0, dtype=np.float32),
            line_chunk=line_chunk,
            line_scores=line_scores,
            lexical=lexical,
            named=named,
            described={s: guess.similarity for s in guess.kin} if guess and self.weights.describe_boost else {},
            guess=guess,
        )
        signals.dense = self.dense(vector, signals, services)
        return signals

    def dense(self, vector: np.ndarray, signals: Signals, services: frozenset[str] = frozenset()) -> np.ndarray:
        """Every chunk's cosine to the query vector: exact, or with the vectors in a store (Milvus), exact for every
        chunk the other signals may lift into the top (see scores_from_best)."""
        size = len(self.build.index.chunks)
        if self.build.vectors_in_memory or not size:
            # One matrix product over the stored vectors beats a FAISS search asked for all of them (which sorts
            # them all); the store finds the best lines in `signals`.
            return self.build.chunk_matrix @ vector.reshape(-1) if size else np.zeros(0, dtype=np.float32)
        store = self.build.index.chunk_vectors
        scores, rows = (found[0] for found in store.search(vector, _DENSE_CANDIDATES))
        top = scores[rows >= 0]
        rest = float(top.min()) if top.size else 0.0
        lifted = np.setdiff1d(self.liftable(signals, services), rows)
        if lifted.size:
            more_scores, more_rows = (found[0] for found in store.search(vector, len(lifted), allowed_rows=lifted))
            scores, rows = np.concatenate([scores, more_scores]), np.concatenate([rows, more_rows])
        # The worst chunk is the best for the query turned around.
        worst_scores, worst_rows = store.search(-vector, 1)
        worst = (int(worst_rows[0, 0]), -float(worst_scores[0, 0])) if worst_rows.size else None
        return scores_from_best(size, rows, scores, rest, worst)

    def liftable(self, signals: Signals, services: frozenset[str] = frozenset()) -> np.ndarray:
        """Chunks that may rank without a high dense score: the best by BM25, those of the best lines, and those
        of the services the query names or is surely about (boosted, and re-ranked by the focused query)."""
        order = np.argsort(-signals.lexical, kind="stable")[:_LEXICAL_CANDIDATES]
        services = set(services) | signals.named
        if signals.guess is not None and (signals.described or signals.guess.confident(self.weights)):
            services |= signals.guess.kin
        in_services = np.flatnonzero(self.build.chunk_services.mask(services))[:_SERVICE_CANDIDATES] if services else []
        return np.union1d(np.union1d(order[signals.lexical[order] > 0], signals.line_chunk), in_services).astype(np.int64)

    def guess_service(self, vector: np.ndarray) -> ServiceGuess | None:
        """The service the query is closest to by description; None when neither boost would use it."""
        if self.descriptions is None or (self.weights.describe_boost == 0 and self.weights.focus_boost == 0):
            return None
        return self.descriptions.guess(vector, self.catalogue)

    def focus(self, query: str, signals: Signals) -> Focus | None:
        """The query stripped of its service's name and description, when the service guess is sure."""
        guess = signals.guess
        if guess is None or not guess.confident(self.weights):
            return None
        return self.focused(query, guess)

    def focused(self, query: str, guess: ServiceGuess) -> Focus | None:
        """The query stripped of the guessed service's words, with its signals; None when nothing or all is left."""
        focused = focus_query(query, guess.vocabulary)
        if not focused or focused == query:
            return None
        vector = self.encode(focused)
        # The guessed service's chunks are re-ranked by the focused query's dense scores: they must be exact.
        return Focus(focused, vector, self.signals(focused, vector, services=guess.kin))

    def scores(self, signals: Signals, focused: Signals | None) -> np.ndarray:
        """Hybrid scores, with the guessed service's chunks lifted and re-ranked by the focused query, and link
        lists set below passages that say things."""
        weights, chunk_services = self.weights, self.build.chunk_services
        scores = combine(signals, chunk_services, weights)
        if focused is not None and signals.guess is not None and signals.guess.confident(weights):
            in_service = chunk_services.mask(signals.guess.kin)
            scores = apply_focus(scores, combine(focused, chunk_services, weights), in_service, weights)
        return demote(scores, self.build.link_lists, weights.link_list_penalty)

    def top(self, scores: np.ndarray, k: int, allowed: set[str] | None = None) -> list[tuple[int, float]]:
        """The k best chunks by score among the allowed services' (all when None), near copies dropped."""
        if allowed is not None:
            scores = np.where(self.build.chunk_services.mask(allowed), scores, -np.inf)
        # Diversity drops near copies, so it picks from more candidates than it keeps.
        order = [int(i) for i in np.argsort(-scores, kind="stable")[: max(_CANDIDATES, k * 3)] if np.isfinite(scores[i])]
        kept = diversify(order, self.build.word_sets, k)
        return [(i, float(scores[i])) for i in kept]

    def rank(
        self,
        query: str,
        k: int,
        *,
        mode: Mode = "hybrid",
        allowed: set[str] | None = None,
        vector: np.ndarray | None = None,
    ) -> Ranking:
        """The k best chunks for the query (`vector`: its vector when the caller already has it)."""
        if not self.build.index.chunks:
            return Ranking([], None)
        focus = None
        if mode == "bm25":
            scores = self.build.index.lexical.scores(query)
        else:
            signals = self.signals(query, vector)
            if mode == "dense":
                scores = combine(signals, self.build.chunk_services, self.weights, mode)
            else:
                focus = self.focus(query, signals)
                scores = self.scores(signals, focus.signals if focus else None)
        return Ranking(self.top(scores, k, allowed), focus)
