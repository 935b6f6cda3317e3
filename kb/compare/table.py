"""The comparison table: 2-6 services by aspect, each cell quoted from the notes and cited, "not in notes" or a conflict."""

from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from kb.catalogue import Catalogue, Service, get_catalogue
from kb.compare.aspects import ASPECTS, Aspect, counted_words_re, free_aspect, resolve_aspect
from kb.compare.attribution import Attribution, attribute
from kb.evidence.claims import default_against_opt_in, destinations_differ, opt_in_clause, single_against_many
from kb.evidence.conflicts import OPPOSITES, Conflict, detect_conflict
from kb.compare.evidence import Candidate, choose, dense_score, informative, lead_with
from kb.compare.families import default_aspects
from kb.evidence.figures import BOUNDLESS, Figure, count_stem, extract_figures, figures_near
from kb.evidence.lineage import ancestors
from kb.compare.membership import listed_members, membership_conflict
from kb.evidence.index import SegmentIndex, segment_index
from kb.evidence.segment import Segment
from kb.evidence.text import clean
from kb.errors import BadQuery
from kb.models import Cell, CellCitation, ComparisonTable

if TYPE_CHECKING:
    from kb.embedder import Embedder
    from kb.index import LoadedBuild

MIN_SERVICES = 2
MAX_SERVICES = 6
MAX_ASPECTS = 12
MAX_ASPECT_CHARS = 80
NOT_IN_NOTES = "not in notes"
MAX_VALUE_QUOTES = 3
MAX_QUOTE_IN_VALUE = 220
MAX_SHORT_VALUE = 60

_LABEL_LOCK = threading.Lock()
_QUERY_CACHE: "weakref.WeakKeyDictionary[object, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()


def resolve_service(name: str, catalogue: Catalogue | None = None) -> Service:
    """The service a name stands for; a name that starts exactly one service's names ("Spot", "Reserved") is enough."""
    return (catalogue or get_catalogue()).resolve(name, allow_prefix=True)


def _resolve_services(names: Sequence[str], catalogue: Catalogue) -> list[Service]:
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise BadQuery("services must be a list of service names.")
    cleaned = [n.strip() for n in names if n.strip()]
    if len(cleaned) < MIN_SERVICES or len(cleaned) > MAX_SERVICES:
        raise BadQuery(f"Compare {MIN_SERVICES} to {MAX_SERVICES} services; got {len(cleaned)}.")
    services = [resolve_service(n, catalogue) for n in cleaned]
    seen: dict[str, str] = {}
    for name, service in zip(cleaned, services):
        if service.id in seen:
            raise BadQuery(f"{name!r} and {seen[service.id]!r} are the same service ({service.id}); list it once.")
        seen[service.id] = name
    return services


def _aspect_names(aspects: Sequence[str] | None, services: list[Service], catalogue: Catalogue) -> list[str]:
    if not aspects:
        return default_aspects(services, catalogue)
    if not isinstance(aspects, (list, tuple)) or not all(isinstance(a, str) for a in aspects):
        raise BadQuery("aspects must be a list of words.")
    names: list[str] = []
    for aspect in aspects:
        text = " ".join(aspect.split())
        if not text:
            raise BadQuery("An aspect is empty.")
        if len(text) > MAX_ASPECT_CHARS:
            raise BadQuery(f"The aspect {text[:40]!r}... is longer than {MAX_ASPECT_CHARS} characters.")
        if text.lower() not in {n.lower() for n in names}:
            names.append(text)
    if len(names) > MAX_ASPECTS:
        raise BadQuery(f"At most {MAX_ASPECTS} aspects; got {len(names)}.")
    return names


def _query_vectors(embedder: "Embedder", texts: list[str]) -> np.ndarray:
    """The aspects' query vectors; the first call embeds every known aspect at once, so later tables embed nothing."""
    # Keyed by the embedder object itself: two embedders may share a name (test fakes of several sizes).
    cache = _QUERY_CACHE.setdefault(embedder, {})
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing and ASPECTS["model"].query not in cache:
        missing = list(dict.fromkeys(missing + [a.query for a in ASPECTS.values()]))
    if missing:
        for text, vector in zip(missing, embedder.encode(missing)):
            cache[text] = np.asarray(vector, dtype=np.float32)
    return np.stack([cache[t] for t in texts])


def _quote_for_value(segment: Segment, service_id: str) -> str:
    quote = clean(segment.quote)
    if len(quote) > MAX_QUOTE_IN_VALUE:
        quote = quote[: MAX_QUOTE_IN_VALUE - 1].rsplit(" ", 1)[0] + "…"
    label = segment.label
    if segment.column and (segment.shared_column or segment.named[:1] != (service_id,)):
        # a value from a variant's column ("One Zone-IA") or one of several columns says which one it is
        label = f"{label} ({segment.column})" if label else segment.column
    return f"{label}: {quote}" if label else quote


def _citation(c: Candidate, chunk_id: str, aspect: Aspect) -> CellCitation:
    s = c.segment
    return CellCitation(file=s.file, start_line=s.line, end_line=s.line, quote=s.quote, id=chunk_id, value=_short_value(s, aspect))


def _aspect_figures(text: str, aspect: Aspect) -> list[Figure]:
    """The figures a text states of the aspect's kind; a count only when it counts what the aspect counts (or stands
    beside the aspect's words, for an aspect that names nothing to count, such as "limits")."""
    figures = extract_figures(text, [d for d in aspect.figures if d != "count"])
    if "count" in aspect.figures:
        counted = set(aspect.counts)
        near = figures_near(text, ["count"], aspect.figure_words_re)
        figures += [f for f in near if not counted or not f.of or counted & set(f.of.split())]
    return figures


def _counted_part(segment: Segment, service_id: str, catalogue: Catalogue) -> frozenset[str]:
    """The name words of the feature of the service a sentence about it counts ("up to 5 read replicas" under RDS
    Read Replicas, for RDS), else nothing: how many read replicas RDS has is a figure of RDS itself."""

    def words(service: Service) -> set[str]:
        return {count_stem(w) for name in (service.name, service.full_name) for w in re.findall(r"[a-z0-9]+", name.lower())}

    ids = [n for n in (*segment.subject, *segment.named) if n != service_id and service_id in ancestors(n, catalogue)]
    things = {stem for f in extract_figures(segment.text, ["count"]) for stem in f.of.split()}
    for feature in dict.fromkeys(ids):
        named = words(catalogue.services[feature]) - {w for a in ancestors(feature, catalogue) for w in words(catalogue.services[a])}
        if things & named:
            return frozenset(named)
    return frozenset()


def _merge_things(things: list[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """Things counted that share a word are one thing ("replicas" asked, "RDS Read Replicas" counted)."""
    merged: list[frozenset[str]] = []
    for thing in things:
        if not thing:
            continue
        overlapping = [m for m in merged if m & thing]
        merged = [m for m in merged if not m & thing] + [frozenset(thing.union(*overlapping))]
    return tuple(sorted(merged, key=sorted))


def _short_value(segment: Segment, aspect: Aspect) -> str | None:
    """The figures a quote states of the aspect's kind ("4 days, 14 days"), a table cell as it stands, else None."""
    if aspect.figures:
        figures = _aspect_figures(segment.quote, aspect)
        if figures:
            return ", ".join(dict.fromkeys(f.text for f in figures))
    if segment.kind == "table" and len(segment.quote) <= MAX_SHORT_VALUE:
        return clean(segment.quote)
    return None


def _listings(index: SegmentIndex, service_id: str, catalogue: Catalogue) -> tuple[list[tuple[Segment, set[str]]], set[str]]:
    """Sentences listing which members of the service's family something applies to ("works for CLB and ALB"),
    and the files that discuss the service itself; computed once per build and service."""
    cached = index.listings.get(service_id)
    if cached is not None:
        return cached
    parent = catalogue.services[service_id].parent
    found: list[tuple[Segment, set[str]]] = []
    if parent is not None:
        members = {i: m for m in catalogue.children(parent) for i in catalogue.family(m)}
        for p in sorted({p for i in members for p in index.by_service.get(i, ())}):
            segment = index.segments[p]
            listed = listed_members(segment.quote, members) if segment.kind == "prose" else None
            if listed:
                found.append((segment, listed))
    own = set(catalogue.family(service_id))
    counts: dict[str, int] = defaultdict(int)
    for p in {p for i in own for p in index.by_service.get(i, ())}:
        if own.intersection(index.segments[p].named):
            counts[index.segments[p].file] += 1
    index.listings[service_id] = (found, {f for f, n in counts.items() if n >= 3})
    return index.listings[service_id]


def _membership(index: SegmentIndex, service_id: str, aspect: Aspect, catalogue: Catalogue) -> tuple[Conflict, Segment, Segment] | None:
    """A membership conflict about this aspect for this service, with the two segments that disagree."""
    listings, known_in = _listings(index, service_id, catalogue)
    statements: dict[str, list[tuple[str, str, set[str]]]] = defaultdict(list)
    by_text: dict[tuple[str, str], Segment] = {}
    for segment, listed in listings:
        topic = f"{segment.context} {segment.quote}"
        if aspect.keyword_score(topic):
            statements[segment.file].append((segment.quote, topic, listed))
            by_text.setdefault((segment.file, segment.quote), segment)
    found = membership_conflict(service_id, dict(statements), known_in) if statements else None
    if found is None:
        return None
    conflict, text_a, text_b = found
    return conflict, by_text[(conflict.file_a, text_a)], by_text[(conflict.file_b, text_b)]


def _cell(
    display: str,
    service_id: str,
    aspect_name: str,
    aspect: Aspect,
    candidates: list[Candidate],
    chunk_id: Callable[[int], str],
    membership: tuple[Conflict, Segment, Segment] | None = None,
    counted_part: Callable[[Segment], frozenset[str]] = lambda segment: frozenset(),
    similarity: Callable[[Segment, Segment], float] = lambda a, b: 0.0,
) -> Cell:
    chosen = choose(candidates)
    if chosen and _ASKS_A_FIGURE.search(aspect_name) and aspect.figures and not any(_states_a_figure(c, aspect) for c in chosen):
        chosen = []  # "max storage size": lines about storage that state no size do not say it
    if not chosen:
        return Cell(service=display, aspect=aspect_name, value=NOT_IN_NOTES, status="not_in_notes", citations=[])
    conflict = None
    evidence: dict[str, list[str]] = defaultdict(list)
    holders: dict[tuple[str, str], Candidate] = {}

    def hold(c: Candidate) -> None:
        evidence[c.segment.file].append(c.segment.text)
        holders.setdefault((c.segment.file, c.segment.text), c)

    counting = "count" in aspect.figures
    parts: set[frozenset[str]] = set()
    for c in sorted(candidates, key=lambda c: -c.score):
        # A figure of the aspect's kind in a sentence with the aspect's telling words is evidence of it even when the
        # line as a whole is far from the aspect's query ("Failover in Aurora is instantaneous"); and a count of the
        # service's parts is its own.
        stated = c.passes or (c.figure and c.keyword >= 1.0)
        part = counted_part(c.segment) if counting and stated and c.attribution.direct else frozenset()
        if stated and (c.attribution.strong or part):
            hold(c)
            parts.add(part)
    if aspect.figures:
        # The same sentence in another file with another figure is how notes disagree most often (a course's update
        # copied into one file and not the other): a restatement of a stated figure is evidence of it too.
        for c in _restatements(candidates, list(holders.values()), aspect, similarity):
            hold(c)
        # What the counts count: the aspect's own noun and the features of the service they count (its read replicas).
        counted = _merge_things([frozenset(aspect.counts), *sorted(parts, key=sorted)])
        stems = tuple(sorted({stem for thing in counted for stem in thing}))
        words = counted_words_re(stems) if stems else aspect.figure_words_re
        conflict = detect_conflict(dict(evidence), aspect.figures, "", words, counted)
    stated = dict(evidence)
    for vocabulary in (aspect.vocabulary,) if aspect.vocabulary else OPPOSITES:
        conflict = conflict or detect_conflict(stated, (), vocabulary)
    conflict = conflict or single_against_many(stated)
    asks_default = bool(_ASKS_DEFAULT.search(aspect_name))
    if asks_default:
        # Whether something is on by default is answered against as well by a line saying it must be turned on,
        # though it does not say "default" ("Must set header: x-amz-server-side-encryption")
        for c in candidates:
            said = c.segment.text in stated.get(c.segment.file, ())
            if c.attribution.strong and c.attribution.direct and not said and opt_in_clause(c.segment.text):
                hold(c)
        stated = dict(evidence)
    conflict = conflict or default_against_opt_in(stated, asks_default)
    if _ASKS_WHERE_TO.search(aspect_name):
        conflict = conflict or destinations_differ(stated)
    if conflict:
        # Both sides of the disagreement lead the citations, the rest follow.
        chosen = lead_with([holders[(conflict.file_a, conflict.text_a)], holders[(conflict.file_b, conflict.text_b)]], chosen)
    if conflict is None and membership is not None:
        conflict = membership[0]
        chosen = lead_with([Candidate(segment, Attribution(1.0, True), 1.0, 1.0) for segment in membership[1:]], chosen)
    citations = [_citation(c, chunk_id(c.segment.chunk), aspect) for c in chosen]
    quotes = list(dict.fromkeys(_quote_for_value(c.segment, service_id) for c in chosen))[:MAX_VALUE_QUOTES]
    if conflict:
        return Cell(service=display, aspect=aspect_name, value=" / ".join(quotes), status="conflict", citations=citations, conflict_reason=conflict.reason)
    return Cell(service=display, aspect=aspect_name, value=" / ".join(quotes), status="found", citations=citations)


# An aspect asking what is on without being asked for ("on by default", "default encryption").
_ASKS_DEFAULT = re.compile(r"\bdefaults?\b", re.IGNORECASE)
# An aspect about where something goes: its cells compare lists of destinations.
_ASKS_WHERE_TO = re.compile(
    r"\b(?:where|destinations?|targets?|sen[dt]s?|deliver\w*|outputs?|export\w*|publish\w*|push\w*|sinks?|forward\w*)\b",
    re.IGNORECASE,
)
_ASKS_A_FIGURE = re.compile(r"\b(?:max|maximum|min|minimum|limits?|size|how (?:many|long|often|big|large)|number|time|ttl|lifetime)\b", re.IGNORECASE)


def _states_a_figure(c: Candidate, aspect: Aspect) -> bool:
    """Whether a line can state the figure an aspect asks for: one of its kind, a table cell under a row that names
    the aspect ("Max IOPS" / "16,000"), a number where a count is asked, or no limit at all."""
    text = c.segment.text
    return c.figure or c.segment.kind == "table" or bool(BOUNDLESS.search(text)) or ("count" in aspect.figures and bool(re.search(r"\d", text)))


# Two lines this close say the same thing (the same course sentence copied into two files).
RESTATED = 0.8


def _restatements(
    candidates: list[Candidate], stated: list[Candidate], aspect: Aspect, similarity: Callable[[Segment, Segment], float]
) -> list[Candidate]:
    """Lines of other files that restate a line of the evidence nearly word for word, with a figure of the aspect's."""
    held = {id(s) for s in stated}
    return [
        c for c in candidates
        if id(c) not in held and c.attribution.strong and _aspect_figures(c.segment.text, aspect)
        and any(s.segment.file != c.segment.file and similarity(s.segment, c.segment) >= RESTATED for s in stated)
    ]


def _label_vectors(embedder: "Embedder", index: SegmentIndex) -> None:
    """Embed the names of the notes' table rows once per build (a few hundred short texts)."""
    with _LABEL_LOCK:
        if index.label_vectors:
            return
        labels = sorted({s.label for s in index.segments if s.kind == "table" and s.label})
        if labels:
            vectors = embedder.encode(labels)
            index.label_vectors.update({label: np.asarray(v, dtype=np.float32) for label, v in zip(labels, vectors)})


def warm_up(build: "LoadedBuild", embedder: "Embedder") -> None:
    """Build the segments of a build and embed every known aspect now (a few seconds on a CPU), so that the first
    comparison a server answers is as fast as the next ones."""
    _label_vectors(embedder, segment_index(build))
    _query_vectors(embedder, [ASPECTS["model"].query])


def compare(
    build: "LoadedBuild", embedder: "Embedder", services: list[str], aspects: list[str] | None = None
) -> ComparisonTable:
    """A table of 2-6 services by aspect from one build, each cell quoted from the notes with citations, "not in
    notes" or a conflict. The embedder encodes the aspects and the notes' table row names (the build's vectors are
    already made)."""
    catalogue = get_catalogue()
    resolved = _resolve_services(services, catalogue)
    displays = [n.strip() for n in services if n.strip()]
    aspect_names = _aspect_names(aspects, resolved, catalogue)
    aspect_defs = [resolve_aspect(a) for a in aspect_names]
    literals = [free_aspect(a) if d.name.lower() != a.lower() else None for a, d in zip(aspect_names, aspect_defs)]
    index = segment_index(build)
    _label_vectors(embedder, index)
    compared = tuple(s.id for s in resolved)
    queries = _query_vectors(embedder, [a.query for a in aspect_defs])
    matrix = build.line_matrix

    per_service: list[list[tuple[Segment, Attribution]]] = []
    for service in resolved:
        ids = set(catalogue.family(service.id)) | ancestors(service.id, catalogue)
        positions = sorted({p for i in ids for p in index.by_service.get(i, ())})
        attributed = []
        for p in positions:
            segment = index.segments[p]
            attribution = attribute(segment, service.id, compared)
            if attribution is not None:
                attributed.append((segment, attribution))
        per_service.append(attributed)

    chunk_ids = [stored.chunk.id for stored in build.index.chunks]

    def similar(a: Segment, b: Segment) -> float:
        if a.vector_row < 0 or b.vector_row < 0 or a.kind == "table" or b.kind == "table":
            return 0.0  # a table row's vector mixes its columns
        return float(matrix[a.vector_row] @ matrix[b.vector_row])

    # A user's own few words ("on by default") are a weak query alone; said of the service ("AWS CloudTrail: on by
    # default") they read like the line that answers them ("It is enabled by default").
    free = [a for a, d in zip(aspect_names, aspect_defs) if d.name not in ASPECTS]
    said_of = dict(zip(
        [(s.id, a) for s in resolved for a in free],
        _query_vectors(embedder, [f"{s.full_name}: {a}" for s in resolved for a in free]) if free else [],
    ))
    described = any(a.description_keyword is not None for a in aspect_defs)
    descriptions = _query_vectors(embedder, [f"{s.full_name}: {s.description}" for s in resolved]) if described else None

    cells: list[Cell] = []
    for number, (display, service, attributed) in enumerate(zip(displays, resolved, per_service)):
        for aspect_name, aspect, literal, query in zip(aspect_names, aspect_defs, literals, queries):
            candidates = []
            for segment, attribution in attributed:
                # The user's own words count as well as the known aspect's: "level" of a security group is not
                # the OSI layer its synonym would make it.
                keyword = max(aspect.keyword_score(segment.text), literal.keyword_score(segment.text) if literal else 0.0)
                if keyword == 0 and segment.context and aspect.keyword_score(segment.context) == 1.0:
                    keyword = 0.5  # "This works for ALB and NLB." under "ELB Sticky Sessions"
                if keyword == 0 and (segment.vector_row < 0 or segment.kind == "table"):
                    continue
                if not informative(segment, aspect) or segment.kind == "heading":
                    continue  # a heading names a topic; it states nothing of it
                figure = bool(aspect.figures) and keyword > 0 and bool(_aspect_figures(segment.text, aspect))
                dense = dense_score(segment, query, matrix, index, keyword)
                if keyword >= 1.0 and (service.id, aspect_name) in said_of:
                    dense = max(dense, dense_score(segment, said_of[(service.id, aspect_name)], matrix, index, keyword))
                if descriptions is not None and aspect.description_keyword is not None and keyword >= aspect.description_keyword:
                    dense = max(dense, dense_score(segment, descriptions[number], matrix, index, keyword))
                candidates.append(Candidate(segment, attribution, keyword, dense, figure))
            membership = _membership(index, service.id, aspect, catalogue)
            counted_part = lambda segment, service_id=service.id: _counted_part(segment, service_id, catalogue)  # noqa: E731
            cells.append(_cell(display, service.id, aspect_name, aspect, candidates, chunk_ids.__getitem__, membership, counted_part, similar))
    return ComparisonTable(services=displays, aspects=aspect_names, cells=cells)
