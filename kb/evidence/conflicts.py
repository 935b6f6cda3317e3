"""Conflicts between files: different figures for the same quantity, or "X only" where another file lists more."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kb.evidence.figures import INSTANT_HOURS, Figure, extract_figures, figures_near
from kb.evidence.text import NEGATION


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 0.01 * max(abs(a), abs(b), 1e-9)


# Pairs of terms that rule each other out: a note saying "only read caching" disagrees with one saying "write
# through", whatever the aspect is called.
OPPOSITES = tuple(
    rf"\b(?:{a})\b|\b(?:{b})\b"
    for a, b in [("read", "write"), ("push", "pull"), ("stateful", "stateless"), ("inbound", "outbound"),
                 ("sync|synchronous", "async|asynchronous"), ("public", "private")]
)


def _agree(a: Figure, b: Figure) -> bool:
    """The same figure, however written; "instantaneous" is any duration under a second."""
    if a.dimension == "duration" and min(a.value, b.value) == 0:
        return max(a.value, b.value) <= INSTANT_HOURS
    return _same(a.value, b.value)


def _describe(figure: Figure) -> str:
    cued = re.match(r"max|min|up ?to|at (?:most|least)|limit|cannot", figure.text, re.IGNORECASE)  # "max 15" says it
    if figure.role in ("default", "max", "min") and not cued and not re.search(r"\bto\b|[-–]\s?\d", figure.text):
        return f"{figure.role} {figure.text}"
    return figure.text


@dataclass(frozen=True)
class Conflict:
    """Two files that disagree: the text in each that says so, and a one-line reason."""

    file_a: str
    text_a: str
    file_b: str
    text_b: str
    reason: str


def detect_conflict(
    evidence: dict[str, list[str]],
    dimensions: Sequence[str],
    vocabulary: str = "",
    keywords: re.Pattern[str] | None = None,
    counted: Counted = (),
) -> Conflict | None:
    """Where two files state different figures for the same quantity, or one says "X only" where another lists more.

    Figures are compared role by role: a default and a maximum are different quantities ("4 days" default and
    "14 days" maximum agree); a plain figure disagrees with another file's maximum only when it exceeds it.
    The same figure written differently ("256KB", "256 KB", "24 hours", "1 day") is the same figure.
    With `keywords`, only figures standing next to one of them count (see figures_near).
    Counts are compared only with counts of the same thing (see same_quantity); `counted` holds the stems of the
    things the cell counts, so that "read-only copies (max 15)" and "5 read replicas" both count read replicas.
    """
    files = sorted(evidence)

    # A period ("every 5 mins", "billed per second") says what it measures by its own words: it needs no cue beside it.
    cued = [d for d in dimensions if d != "period"]

    def read(text: str) -> list[Figure]:
        own = extract_figures(text, ["period"]) if "period" in dimensions else []
        return (figures_near(text, cued, keywords) if keywords is not None else extract_figures(text, cued)) + own

    figures = {f: [(fig, text) for text in evidence[f] for fig in read(text)] for f in files}
    for i, a in enumerate(files):
        for b in files[i + 1 :]:
            found = _figure_conflict(a, figures[a], b, figures[b], counted) or _figure_conflict(b, figures[b], a, figures[a], counted)
            if found:
                return found
    if vocabulary:
        for a in files:
            exclusive = _exclusive_terms(evidence[a], vocabulary)
            if not exclusive:
                continue
            terms, phrase, text_a = exclusive
            for b in files:
                if b == a:
                    continue
                for text_b in evidence[b]:
                    if NEGATION.search(text_b):
                        continue  # "we cant add explicitly deny" lists no deny
                    extra = _terms(text_b, vocabulary)
                    for term in terms:
                        extra.pop(term, None)
                    if extra:
                        reason = f"{a} says {phrase}; {b} also lists {', '.join(extra[t] for t in sorted(extra))}"
                        return Conflict(a, text_a, b, text_b, reason)
    return None


Counted = tuple[frozenset[str], ...]


def _thing(figure: Figure, counted: Counted) -> tuple[frozenset[str], str]:
    """What a count counts: one of the things the cell counts when the count names one of its words (a bare "max
    15" names the cell's one thing), else the last word of what it names ("15 Aurora read replicas" -> replica);
    and what it is counted per."""
    stems = set(figure.of.split())
    if not stems:
        return (counted[0] if len(counted) == 1 else frozenset()), figure.per
    for thing in counted:
        if thing & stems:
            return thing, figure.per
    return frozenset(figure.of.split()[-1:]), figure.per


def same_quantity(x: Figure, anchor: Figure, counted: Counted = ()) -> bool:
    """Whether two figures measure the same quantity: the same dimension and, for counts, the same thing counted
    per the same thing ("5 VPCs per region" and "200 subnets per VPC" are two quantities)."""
    if x.dimension != anchor.dimension:
        return False
    if x.dimension != "count":
        return True
    thing_x, per_x = _thing(x, counted)
    thing_anchor, per_anchor = _thing(anchor, counted)
    return bool(thing_x & thing_anchor) and per_x == per_anchor


def _anchors(figures: list[tuple[Figure, str]]) -> list[Figure]:
    """One figure for each quantity to compare: the first of each dimension, and every count (what it counts varies)."""
    anchors: dict[object, Figure] = {}
    for index, (figure, _) in enumerate(figures):
        anchors.setdefault((figure.dimension, index) if figure.dimension == "count" else figure.dimension, figure)
    return list(anchors.values())


def _figure_conflict(
    a: str, fa: list[tuple[Figure, str]], b: str, fb: list[tuple[Figure, str]], counted: Counted = ()
) -> Conflict | None:
    def found(p: tuple[Figure, str], q: tuple[Figure, str]) -> Conflict:
        return Conflict(a, p[1], b, q[1], f"{a} says {_describe(p[0])}; {b} says {_describe(q[0])}")

    for anchor in _anchors(fa):
        dimension = anchor.dimension
        if dimension == "count" and not _thing(anchor, counted)[0]:
            continue  # a bare limit that names nothing, in a cell whose aspect names nothing either
        xa = [x for x in fa if same_quantity(x[0], anchor, counted)]
        xb = [x for x in fb if same_quantity(x[0], anchor, counted)]
        if not xa or not xb:
            continue
        for role in ("default", "max", "min"):
            ra = [x for x in xa if x[0].role == role]
            rb = [x for x in xb if x[0].role == role]
            if ra and rb and not any(_agree(p[0], q[0]) for p in ra for q in rb):
                return found(ra[0], rb[0])
        va = [x for x in xa if x[0].role == "value"]
        vb = [x for x in xb if x[0].role == "value"]
        if va and vb and not any(_agree(p[0], q[0]) for p in va for q in vb):
            # Two plain figures disagree only when neither file gives typed figures that could reconcile them
            # (a layer number has no default or maximum: two different layers always disagree).
            typed = [x for x in xa + xb if x[0].role != "value"]
            if dimension == "layer" or not typed:
                return found(va[0], vb[0])
        # A figure beyond every maximum the other file states contradicts it ("kept 30 days" against "up to 14 days").
        # (One below a minimum is not counted: notes put other durations, such as how recent a backup is, near it.)
        maxima_b = [x for x in xb if x[0].role == "max"]
        for p in va + [x for x in xa if x[0].role == "default"]:
            if maxima_b and all(p[0].value > q[0].value * 1.01 for q in maxima_b):
                return found(p, maxima_b[0])
        # A single figure where the other file gives a range from it ("/tmp: 512 MB" against "512 MB to 10GB"):
        # one says the quantity is fixed, the other that it goes further.
        for p in va:
            for low, high in _ranges(xb):
                if _same(p[0].value, low[0].value) and not _same(p[0].value, high[0].value):
                    return Conflict(a, p[1], b, high[1], f"{a} says {p[0].text}; {b} says {low[0].text} to {high[0].text}")
        # One figure where the other file offers a choice that holds it and more ("a 3 year period reservation"
        # against "Reserved: 1 or 3 years"): one says the quantity is fixed, the other that it is chosen.
        options = [x for x in xb if x[0].role == "option"]
        if len({round(p[0].value, 6) for p in va}) == 1 and options:
            p = va[0]
            if any(_agree(p[0], q[0]) for q in options) and not all(_agree(p[0], q[0]) for q in options):
                return Conflict(a, p[1], b, options[0][1], f"{a} says {p[0].text}; {b} says {options[0][0].text}")
    return None


def _ranges(figures: list[tuple[Figure, str]]) -> list[tuple[tuple[Figure, str], tuple[Figure, str]]]:
    """(minimum, maximum) pairs stated by one text ("512 MB to 10GB")."""
    pairs = []
    for low in figures:
        if low[0].role != "min":
            continue
        pairs += [(low, high) for high in figures if high[0].role == "max" and high[1] == low[1] and high[0].value > low[0].value]
    return pairs


def _terms(text: str, vocabulary: str) -> dict[str, str]:
    """The vocabulary's terms a text holds, each as one key however written ("Web Sockets" is websocket), and as written."""
    return {re.sub(r"[\s-]", "", m.group(0).lower()).rstrip("s"): m.group(0) for m in re.finditer(vocabulary, text, re.IGNORECASE)}


def _exclusive_terms(texts: list[str], vocabulary: str) -> tuple[set[str], str, str] | None:
    """The terms a text restricts to with "only" ("(HTTP/HTTPS only)", "only TCP"), and the phrase that says so."""
    term = rf"(?:{vocabulary})"
    listing = rf"{term}(?:\s*(?:/|,|and|or|&)\s*{term})*"
    # "only TCP", "(HTTP/HTTPS only)"; not "write only if" (an adverb of the verb)
    pattern = re.compile(rf"(?:\bonly\s+(?:supports?\s+)?({listing}))|(?:({listing})\s+only\b(?!\s+[a-z]))", re.IGNORECASE)
    for text in texts:
        match = pattern.search(text)
        if match:
            listed = match.group(1) or match.group(2)
            return set(_terms(listed, vocabulary)), match.group(0), text
    return None
