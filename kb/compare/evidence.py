"""A cell's evidence: the candidate segments for one service and aspect, how each scores, and which ones the cell cites."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from kb.catalogue import get_catalogue
from kb.compare.aspects import Aspect
from kb.compare.attribution import Attribution
from kb.evidence.index import SegmentIndex
from kb.evidence.segment import Segment
from kb.evidence.text import STOP_WORDS, WORD, clean, crude_stem


# A segment passes when it matches the aspect's words and its line is at least this close to the aspect's query,
# or when it is very close to the query without the words (the notes paraphrase).
KEYWORD_GATE = 0.18
WEAK_KEYWORD_GATE = 0.3  # a looser word of the aspect needs a line closer to its query
DENSE_GATE = 0.58
KEYWORD_WEIGHT = 0.3
FIGURE_BONUS = 0.25
# A file's best segment joins the cell when it scores at least this share of the cell's best one.
RELATIVE_KEEP = 0.6
MAX_PER_FILE = 2
# A heading has no vector of its own; one that holds the aspect's words counts as this close to its query.
HEADING_FLOOR = KEYWORD_GATE
SECOND_IN_FILE = 0.75
MAX_CITATIONS = 5


@cache
def _service_words(service_id: str) -> frozenset[str]:
    service = get_catalogue().services[service_id]
    return frozenset(w for name in service.lookup_names() for w in WORD.findall(name.lower()))


@cache
def _aspect_words(aspect: Aspect) -> frozenset[str]:
    words = {w for name in (aspect.name, *aspect.synonyms) for w in WORD.findall(name.lower())}
    return frozenset(words | {crude_stem(w) for w in words})


def informative(segment: Segment, aspect: Aspect) -> bool:
    """False for a segment that only names the service and the aspect ("EBS Snapshots", "Use cases:", "Routing Features")."""
    if segment.kind == "table":
        return bool(WORD.search(segment.quote))
    rest = _content_words(segment.quote, segment.named + segment.subject)
    if rest is None:
        return False
    topic = _aspect_words(aspect)
    return any(w not in topic and crude_stem(w) not in topic for w in rest)


@lru_cache(maxsize=65536)
def _content_words(quote: str, services: tuple[str, ...]) -> tuple[str, ...] | None:
    """The words of a quote that are neither stop words nor its services' names; None for a bare lead-in ("Use cases:")."""
    words = [w for w in WORD.findall(clean(quote).lower()) if w not in STOP_WORDS]
    if quote.rstrip().endswith(":") and len(words) <= 4:
        return None
    names = set().union(*(_service_words(i) for i in services)) if services else set()
    return tuple(w for w in words if w not in names)


@dataclass
class Candidate:
    """A segment weighed for one cell: how it is attributed to the service and how well it matches the aspect."""

    segment: Segment
    attribution: Attribution
    keyword: float
    dense: float
    figure: bool = False  # states a figure of the kind the aspect compares ("14 days" for retention)

    @property
    def score(self) -> float:
        bonus = FIGURE_BONUS if self.figure and self.attribution.strong else 0.0
        return self.attribution.strength * (self.dense + KEYWORD_WEIGHT * self.keyword + bonus)

    @property
    def passes(self) -> bool:
        if self.keyword >= 1.0:
            return self.dense >= KEYWORD_GATE
        if self.keyword > 0:
            return self.dense >= WEAK_KEYWORD_GATE
        return self.dense >= DENSE_GATE


def dense_score(segment: Segment, query: np.ndarray, matrix: np.ndarray, index: SegmentIndex, keyword: float) -> float:
    """Cosine of the segment's line to the aspect's query (a table cell: its row's; a line with no vector of its own,
    such as a heading: the passage it heads, and no less than HEADING_FLOOR when it holds the aspect's words).

    Segments are not embedded one by one: on a CPU that would cost seconds per table; the line vectors are built."""
    if segment.kind == "table":
        # a row's vector mixes every column; the cell's own words and its row's name are the telling part
        dense = float(matrix[segment.vector_row] @ query) if segment.vector_row >= 0 else 0.0
        label = index.label_vectors.get(segment.label)
        if label is not None:
            dense = max(dense, float(label @ query))
        return max(dense, HEADING_FLOOR) if keyword >= 1.0 else dense
    if segment.vector_row >= 0:
        return float(matrix[segment.vector_row] @ query)
    dense = 0.0
    if index.chunk_matrix is not None and segment.chunk < len(index.chunk_matrix):
        dense = float(index.chunk_matrix[segment.chunk] @ query)
    return max(dense, HEADING_FLOOR) if keyword >= 1.0 else dense


def choose(candidates: list[Candidate]) -> list[Candidate]:
    """The cell's evidence: each file's best passing segments, most specific (strongly attributed, best scored) first."""
    passing = sorted((c for c in candidates if c.passes), key=lambda c: -c.score)
    if not any(c.attribution.direct for c in passing):
        # only passing mentions and passages shared by several services: nothing says it of this one
        return []
    best = passing[0].score
    per_file: dict[str, int] = defaultdict(int)
    chosen: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for c in passing:
        key = (c.segment.file, c.segment.line)
        if key in seen or per_file[c.segment.file] >= MAX_PER_FILE:
            continue
        if c.score < best * RELATIVE_KEEP:
            continue
        if (per_file[c.segment.file] >= 1 or not c.attribution.direct) and c.score < best * SECOND_IN_FILE:
            continue  # a second citation from a file, or a passing mention, only when it is nearly as good
        seen.add(key)
        per_file[c.segment.file] += 1
        chosen.append(c)
        if len(chosen) == MAX_CITATIONS:
            break
    chosen.sort(key=lambda c: (not c.attribution.direct, not c.attribution.strong, -c.score))
    return chosen


def lead_with(lead: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
    """The two sides of a conflict first, then the rest of the evidence, one citation a line."""
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for c in lead + chosen:
        key = (c.segment.file, c.segment.line)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out[: max(MAX_CITATIONS, len(lead))]
