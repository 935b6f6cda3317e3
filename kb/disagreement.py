"""Where the notes disagree on what a question asks: two strong candidates of two files that state different
figures of the asked kind, a different period, one against several, or on by default against opt-in."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from kb.answer import Candidate, asked_dimensions, primary_subject
from kb.catalogue import get_catalogue
from kb.compare.aspects import ASPECTS
from kb.evidence import Conflict, detect_conflict, extract_figures
from kb.evidence.claims import default_against_opt_in, single_against_many

# Candidates this close to the lead take part in the check for files that disagree.
DISAGREEMENT_FLOOR = 0.7
# Two statements disagree only when they say much the same thing (cosine of their lines), figures aside.
SAME_STATEMENT = 0.5
MAX_DISAGREEMENT_CANDIDATES = 12


def disagreement(
    candidates: list[Candidate],
    chosen: list[Candidate],
    question: str,
    line_matrix: np.ndarray | None,
) -> tuple[Conflict, list[Candidate]] | None:
    """Where two strong candidates of two files give different figures of the kind asked for about the same subject
    ("24 hours up to 7 days" against "1 to 365 days"), the conflict and the two sentences that state it.

    The two must also say much the same thing (cosine of their lines at least SAME_STATEMENT): "item size
    400 KB" and "storage 25 GB" are figures of one kind about one service, but of two different quantities."""
    if not chosen:
        return None
    dimensions = asked_dimensions(question)
    keywords = _attribute_words([question], dimensions) if dimensions else None
    if keywords is None:
        return _stated_differently(candidates, chosen, question)
    stating = [c for c in _near_the_lead(candidates, chosen[0]) if extract_figures(c.quote, dimensions)][:MAX_DISAGREEMENT_CANDIDATES]
    for i, a in enumerate(stating):
        for b in stating[i + 1:]:
            if a.hit.file == b.hit.file or _line_cosine(a, b, line_matrix) < SAME_STATEMENT:
                continue
            conflict = detect_conflict({a.hit.file: [a.quote], b.hit.file: [b.quote]}, dimensions, keywords=keywords)
            if conflict is not None:
                first, second = (a, b) if conflict.file_a == a.hit.file else (b, a)
                return conflict, [first, second]
    return _stated_differently(candidates, chosen, question)


# What a question asks that the notes may state without a figure of a named quantity: how often or in what steps
# ("every 5 mins" against "in real time"), one or several ("only one instance" against "multiple instances"), on by
# default or not ("survive reboots by default" against "turning on AOF").
_ASKS_PERIOD = re.compile(r"\bhow often\b|\bfrequen|\bgranular|\bbilled\b|\bcharged\b|\bincrements?\b|\bper (?:second|minute|hour)\b", re.IGNORECASE)
_ASKS_HOW_MANY = re.compile(r"\b(?:several|multiple|many|more than one|shared?|sharing)\b", re.IGNORECASE)
_CONTENT_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")
_QUESTION_WORDS = frozenset(
    "what which when where does have with from that this there they them their your often long many much more than "
    "into about should would could will every second seconds minute minutes hour hours".split()
)
_ASKS_DEFAULT = re.compile(r"\bdefault\b|\bautomatic|\benabled?\b|\bturn(?:ed)? on\b|\bout of the box\b", re.IGNORECASE)


def _stated_differently(candidates: list[Candidate], chosen: list[Candidate], question: str) -> tuple[Conflict, list[Candidate]] | None:
    """Two strong candidates of two files about the lead's subject that disagree on what the question asks without
    naming a quantity the comparison aspects know: a period, one against several, on by default against opt-in."""
    checks: list[Callable[[dict[str, list[str]]], Conflict | None]] = []
    if _ASKS_PERIOD.search(question):
        words = [w for w in _CONTENT_WORD.findall(question.lower()) if w not in _QUESTION_WORDS]
        if words:
            near = re.compile("|".join(rf"\b{re.escape(w[:5])}" for w in words), re.IGNORECASE)
            checks.append(lambda evidence: detect_conflict(evidence, ["period"], keywords=near))
    if _ASKS_HOW_MANY.search(question):
        checks.append(single_against_many)
    if _ASKS_DEFAULT.search(question):
        checks.append(default_against_opt_in)
    if not checks:
        return None
    # A statement of a feature of the lead's service counts here ("On-demand: billed per hour" against "EC2: billed
    # by the second" for "Is EC2 billed per second or per hour?"); a feature's figures do not (io2 Block Express).
    strong = _near_the_lead(candidates, chosen[0], with_features=True)[:MAX_DISAGREEMENT_CANDIDATES]
    evidence: dict[str, list[str]] = {}
    for c in strong:
        evidence.setdefault(c.hit.file, []).append(c.quote)
    if len(evidence) < 2:
        return None
    for check in checks:
        conflict = check(evidence)
        if conflict is not None:
            side = {(c.hit.file, c.quote): c for c in reversed(strong)}
            sides = [side[(conflict.file_a, conflict.text_a)], side[(conflict.file_b, conflict.text_b)]]
            return conflict, sorted(sides, key=lambda c: -c.score)  # the one closer to the question leads
    return None


def _near_the_lead(candidates: list[Candidate], lead: Candidate, with_features: bool = False) -> list[Candidate]:
    """The candidates scored near the lead and about its subject (`with_features`: or a feature of it), best first:
    those that may disagree with it."""
    subject = primary_subject(lead)
    if with_features and subject:
        catalogue = get_catalogue()
        subject = {member for s in subject if s in catalogue.services for member in catalogue.family(s)} | subject
    floor = lead.score * DISAGREEMENT_FLOOR
    return [
        c for c in sorted(candidates, key=lambda c: -c.score)
        if c.score >= floor and not (subject and not subject & primary_subject(c))
    ]


def _line_cosine(a: Candidate, b: Candidate, line_matrix: np.ndarray | None) -> float:
    """Cosine of two candidates' lines (0 when either has no vector of its own)."""
    rows = [c.segment.vector_row if c.segment else -1 for c in (a, b)]
    if line_matrix is None or min(rows) < 0:
        return 0.0
    return float(line_matrix[rows[0]] @ line_matrix[rows[1]])


def _attribute_words(texts: list[str], dimensions: list[str]) -> re.Pattern[str] | None:
    """The words that name a quantity ("retention", "size limit"): those of the comparison aspects whose words every
    text uses and whose figures are of the kind asked. A figure then counts only beside one of them."""
    patterns = [
        a.strong for a in ASPECTS.values()
        if a.figures and set(a.figures) & set(dimensions) and all(a.keyword_score(t) == 1.0 for t in texts)
    ]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
