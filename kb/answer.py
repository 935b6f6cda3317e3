"""Extractive answers: the lines of the retrieved passages that best answer a question, each cited to its line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kb.catalogue import Catalogue
from kb.evidence import Conflict, Figure, Segment, SegmentIndex, cell_spans, extract_figures, leading_service, states_a_number
from kb.evidence.lineage import ancestors
from kb.lexical import tokenize
from kb.models import Answer, Citation, Hit
from kb.outline import label, parent_lines, words_besides_links

NOT_COVERED = "The notes do not cover this."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])")
_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|</?[a-zA-Z][^>]*>")
_BULLET = re.compile(r"^\s*(?:[-•▼□]\s*|\*\s+|\d+[.)]\s+)+")  # "* item", not the "**" of bold
_QUANTITY = re.compile(
    r"\b(how (long|many|much|large|big|often|fast|far|old)|max(imum)?|min(imum)?|limit|size|duration|retention"
    r"|longest|shortest|largest|biggest|smallest|highest|lowest"
    r"|what (is|are) the (default|max|min|limit))\b",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    """One sentence of one line of a retrieved passage."""

    hit_rank: int
    hit: Hit
    line: int
    part: int
    quote: str
    tokens: frozenset[str] = frozenset()
    dense: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    segment: Segment | None = None  # what the evidence layer knows of the sentence: its subject, kind, label
    table_header: tuple[int, str] | None = None  # a table row's header row: (line, text)
    other_subject: bool = False  # about another service than the one asked (weigh_evidence)


def split_sentences(line: str) -> list[str]:
    """The sentences of one note line, each a verbatim substring of it, bullets and markup kept out."""
    body = _BULLET.sub("", line).strip()
    if not body or _MARKUP.sub("", body).strip() == "":
        return []
    parts = [_trim(p) for p in _SENTENCE_END.split(body)]
    return [p for p in parts if len(re.findall(r"\w", p)) >= 3]


def _trim(sentence: str) -> str:
    """The sentence without markup at its ends, unless that would cut a bold marker from its pair."""
    trimmed = sentence.strip(" \t*_`>|")
    if trimmed.count("**") % 2:  # "**Automated snapshots** - every 8h": keep both markers, not a stray "**"
        trimmed = sentence.strip(" \t_`>|")
    return trimmed


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", _MARKUP.sub(" ", text).lower()))


@lru_cache(maxsize=4096)
def _quotable(text: str, start_line: int, heading_path: tuple[str, ...]) -> tuple[tuple[int, int, str, frozenset[str]], ...]:
    """(line, part, sentence, its tokens) for every quotable sentence of a passage; a passage's are worked out
    once, not on every question that retrieves it."""
    headings = {_words(h) for h in heading_path}
    found: list[tuple[int, int, str]] = []
    for offset, line in enumerate(text.split("\n")):
        if _words(line) in headings:
            continue
        found.extend((start_line + offset, part, sentence) for part, sentence in enumerate(split_sentences(line)))
    tokens = tokenize([sentence for _, _, sentence in found]) if found else []
    return tuple((line, part, sentence, frozenset(t)) for (line, part, sentence), t in zip(found, tokens))


def candidates_from(hits: list[Hit]) -> list[Candidate]:
    """Every quotable sentence of the passages' lines (headings are not answers), with where it stands."""
    return [
        Candidate(rank, hit, line, part, sentence, tokens)
        for rank, hit in enumerate(hits)
        for line, part, sentence, tokens in _quotable(hit.text, hit.start_line, tuple(hit.heading_path))
    ]


def _overlap(question_tokens: set[str], text_tokens: frozenset[str]) -> float:
    """Share of the question's (stemmed, stop-word-free) words that the text holds."""
    if not question_tokens:
        return 0.0
    return len(question_tokens & set(text_tokens)) / len(question_tokens)


def pick(candidates: list[Candidate], max_sentences: int = 4, relative: float = 0.85) -> list[Candidate]:
    """The best 1..max_sentences candidates: within `relative` of the best, one a line, no repeated sentence; a
    heading, label or link never leads while a sentence that states something is there."""
    ranked = sorted(candidates, key=lambda c: (_never_leads(c), -c.score))
    if not ranked:
        return []
    best = max(c.score for c in ranked)
    chosen: list[Candidate] = []
    seen: set[str] = set()
    lines: set[tuple[str, int]] = set()
    for candidate in ranked:
        key = " ".join(re.findall(r"\w+", candidate.quote.lower()))
        if key in seen or (candidate.hit.file, candidate.line) in lines:
            continue
        if chosen and candidate.score < best * relative:
            break
        chosen.append(candidate)
        seen.add(key)
        lines.add((candidate.hit.file, candidate.line))
        if len(chosen) == max_sentences:
            break
    return chosen


def _never_leads(c: Candidate) -> bool:
    """A heading, a bare label, a lead-in or a link names or points; it does not answer."""
    return _says_little(c.quote) or (c.segment is not None and c.segment.kind == "heading")


def figure_statements(
    lead: Candidate, question: str, query_vector: np.ndarray, index: SegmentIndex, line_matrix: np.ndarray | None
) -> list[tuple[Segment, float]]:
    """Segments about the lead's subject, stating a figure of the kind the question asks for, whose line is about as
    close to the question as the lead's (cosine within FIGURE_STATEMENT_REACH): the notes' other statements of it."""
    dimensions = asked_dimensions(question)
    subject = primary_subject(lead)
    if not dimensions or not subject or line_matrix is None:
        return []
    positions = sorted({p for service_id in subject for p in index.by_service.get(service_id, ())})
    found: list[tuple[Segment, float]] = []
    for position in positions:
        segment = index.segments[position]
        if segment.vector_row < 0 or segment.kind == "heading" or (segment.file, segment.line) == (lead.hit.file, lead.line):
            continue
        if not extract_figures(segment.text, dimensions):
            continue
        cosine = float(line_matrix[segment.vector_row] @ query_vector.reshape(-1))
        if cosine >= lead.dense - FIGURE_STATEMENT_REACH:
            found.append((segment, cosine))
    return found


def _subject(segment: Segment) -> set[str]:
    """The service a sentence opens with, else the one it sits under."""
    opener = leading_service(segment.quote) if segment.kind == "prose" else None
    return {opener} if opener else set(segment.subject)


def primary_subject(c: Candidate) -> set[str]:
    """What a sentence says things of: its subject, else the services it names ("16 read replicas" under "Aurora
    Global" is said of Aurora Global, whatever it names)."""
    return (_subject(c.segment) or set(c.segment.named)) if c.segment else set()


def _about(c: Candidate) -> set[str]:
    """Every service a sentence concerns: its subject and those it names."""
    return (_subject(c.segment) | set(c.segment.named)) if c.segment else set()


def lead_with(first: list[Candidate], chosen: list[Candidate], max_sentences: int = 4) -> list[Candidate]:
    """`first`, then the rest of `chosen`, one citation a line."""
    out: list[Candidate] = []
    for c in first + chosen:
        if all((c.hit.file, c.line) != (o.hit.file, o.line) for o in out):
            out.append(c)
    return out[: max(max_sentences, len(first))]


def compose(question: str, chosen: list[Candidate], hits: list[Hit], conflict: Conflict | None = None) -> Answer:
    """The answer text with [n] markers and the citations behind them; a conflict is said first, both sides cited."""
    citations: list[Citation] = []
    parts: list[str] = [f"The notes disagree: {conflict.reason}." ] if conflict else []
    for n, c in enumerate(chosen, 1):
        citations.append(
            Citation(
                n=n,
                id=c.hit.id,
                file=c.hit.file,
                start_line=c.line,
                end_line=c.line,
                quote=c.quote,
                context=quote_context(c.hit, c.line, c.segment.heads if c.segment else ""),
                table_header=c.table_header[1] if c.table_header else None,
                table_header_line=c.table_header[0] if c.table_header else None,
                **_slice_of(c),
            )
        )
        parts.append(f"{_with_header(c.quote, c.table_header[1])} [{n}]" if c.table_header else f"{c.quote} [{n}]")
    return Answer(question=question, answer="\n".join(parts), abstained=False, citations=citations, passages=hits,
                  conflict_reason=conflict.reason if conflict else None)


def _slice_of(c: Candidate) -> dict[str, int]:
    """Where the quote stands in its line when the passage is a slice of one long line (else nothing)."""
    start = c.hit.start_char
    offset = c.hit.text.find(c.quote) if start is not None else -1
    if offset < 0:
        return {}
    return {"start_char": start + offset, "end_char": start + offset + len(c.quote)}


def _cells(row: str) -> list[str]:
    # A leading tab is the header's empty corner cell: cell_spans keeps it, so the columns line up.
    return [row[start:end].strip(" *") for start, end in cell_spans(row)]


def _with_header(row: str, header: str) -> str:
    """A table row read with its header: "Max IOPS: 16,000 (gp2) | 64,000 (io1)"."""
    cells, names = _cells(row), _cells(header)
    if len(cells) < 2 or len(names) < 2:
        return row
    pairs = [f"{value} ({name})" if name else value for value, name in zip(cells[1:], names[1:]) if value]
    return f"{cells[0]}: " + " | ".join(pairs) if cells[0] else " | ".join(pairs)


def quote_context(hit: Hit, line: int, heads: str = "") -> str:
    """What a quoted line of a passage sits under: the passage's last heading, the label line that opens its list
    ("Kinesis Data Streams" under a Firehose heading), then the bullet above the line when it is nested. A quote such
    as "Can be created and deleted at will." means nothing without "Global Secondary Index"."""
    lines = hit.text.split("\n")
    numbers = [n for n, text in enumerate(lines, 1) if text.strip()]
    parent = parent_lines(lines, numbers).get(line - hit.start_line + 1)
    own = lines[line - hit.start_line].strip() if 0 <= line - hit.start_line < len(lines) else ""
    parts = [
        label(hit.heading_path[-1]) if hit.heading_path else "",
        label(heads) if heads and heads.strip() != own else "",
        label(lines[parent - 1]) if parent else "",
    ]
    return " › ".join(dict.fromkeys(part for part in parts if part))


def abstain(question: str, hits: list[Hit], reason: str = "") -> Answer:
    text = NOT_COVERED + (f" ({reason})" if reason else "") + " The nearest passages are listed below."
    return Answer(question=question, answer=text, abstained=True, citations=[], passages=hits)


def _says_little(quote: str) -> bool:
    """Labels, lead-ins ending in a colon, links and table header rows ("SQS:<tab>SNS:<tab>Kinesis:") name things
    but state nothing."""
    cells = [cell for cell in quote.split("\t") if cell.strip()]
    if len(cells) > 1 and all(len(cell.split()) <= 2 for cell in cells):
        return True
    # "Basic Advantage of SQS are:" introduces the lines that answer; they, not it, should lead an answer.
    if quote.rstrip(" *_").endswith(":"):
        return True
    # A link ("[General Guidelines for Secondary Indexes](https://...)") points elsewhere; it answers nothing.
    return words_besides_links(quote) < 3


# The kind of figure a question asks for, and the bonus a sentence stating one earns: a duration for "how long",
# a size for "how large", a share for "how much cheaper". A figure of the wrong kind answers nothing.
_ASKED_DIMENSIONS = [
    ("duration", re.compile(
        r"\bhow (?:long|often)\b|\bhow many (?:days|hours|minutes|seconds|weeks|months|years)\b|\bhow far back\b|\b(?:longest|shortest)\b"
        r"|\b(?:retention|retain|timeout|time ?out|expire|expiry|ttl|duration|period|interval|latency)\b", re.IGNORECASE)),
    ("size", re.compile(
        r"\bhow (?:large|big|much (?:data|storage|space))\b|\b(?:largest|biggest|smallest)\b|\bsize\b|\bcapacity\b", re.IGNORECASE)),
    ("percent", re.compile(r"\bpercent|\bdiscount|\bhow much (?:cheaper|lower|less|more|faster)\b", re.IGNORECASE)),
    ("count", re.compile(r"\bhow many\b|\bnumber of\b", re.IGNORECASE)),
]
TYPED_FIGURE_BONUS = 0.1
# "How long by default, and how far can that be extended?" asks two figures: a line that states a default (or plain)
# value and a maximum answers both ("7 days retention (can be increased to 35 days)"); a bare range "1 to 35 days"
# gives no default.
_ASKS_DEFAULT = re.compile(r"\bdefault\b|\bout of the box\b|\bwithout (?:configuring|changing|setting|touching) anything\b", re.IGNORECASE)
_ASKS_LIMIT = re.compile(
    r"\b(?:extend\w*|increas\w*|stretch\w*|rais\w*|max(?:imum)?|at most|up to|upper limit|how far(?! back))\b", re.IGNORECASE
)


# "How do I / how can I / what steps": the answer is something to do. A sentence that says what to do (an instruction,
# a setting, a command) answers it better than one that says what a thing is.
_ASKS_HOW_TO = re.compile(
    r"\bhow (?:do|can|should|would|could|must) (?:i|we|you|my|our)\b|\bhow to\b|\bwhat (?:steps|should (?:i|we))\b"
    r"|\bwhat (?:do|must) (?:i|we) (?:do|set|configure|use|change)\b|\bwhat am i missing\b",
    re.IGNORECASE,
)
_SAYS_WHAT_TO_DO = re.compile(
    r"^(?:to [^,]{3,60},\s*)?(?:create|set|use|enable|disable|configure|add|attach|run|call|tell|deny|allow|turn|install|"
    r"define|specify|choose|select|increase|decrease|change|update|assign|grant|apply|deploy|associate|register|"
    r"subscribe|mount|launch|pass|invoke|put|send|move|copy|delete|remove|restrict|block|encrypt|rotate|schedule)\b"
    r"|\bcan be (?:set|enabled|disabled|configured|changed|increased|decreased|extended|raised|turned on|turned off)\b"
    r"|\b(?:must|need to|needs to|have to|has to|should)\s+(?:be\s+)?(?:set|enabled?|creat\w*|use[ds]?|configured?|add\w*|"
    r"attach\w*|turn\w* on|call\w*)\b",
    re.IGNORECASE,
)
HOW_TO_BONUS = 0.1


def asks_how_to(question: str) -> bool:
    """Whether a question asks what to do ("How do I make a Query return newest first?")."""
    return bool(_ASKS_HOW_TO.search(question))


def says_what_to_do(sentence: str) -> bool:
    """Whether a sentence says what to do: an instruction or a setting that can be changed; not a title ("Enable X-Ray
    Tracing for API Gateway" heads the steps)."""
    text = _BULLET.sub("", sentence).strip(" *_`")
    words = re.findall(r"[A-Za-z]\w*", text)
    if len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.6 * len(words):
        return False
    return bool(_SAYS_WHAT_TO_DO.search(text))


def asks_default_and_limit(question: str) -> bool:
    """Whether a question asks both a figure's default and how far it goes."""
    return bool(_ASKS_DEFAULT.search(question) and _ASKS_LIMIT.search(question))


def _default_and_limit(figures: list[Figure]) -> bool:
    roles = {f.role for f in figures}
    return "max" in roles and bool(roles & {"default", "value"})


def asked_dimensions(question: str) -> list[str]:
    """The kinds of figure (duration, size, percent) the question asks for."""
    return [dimension for dimension, pattern in _ASKED_DIMENSIONS if pattern.search(question)]


def asks_for_a_quantity(question: str) -> bool:
    """'How long / how many / how large / what is the maximum...': the answer holds a figure."""
    return bool(_QUANTITY.search(question))


def score_candidates(
    candidates: list[Candidate],
    dense_by_line: dict[tuple[str, int, int], float],
    question: str,
    focused_question: str | None = None,
) -> None:
    """Fill each candidate's dense, lexical and combined score.

    The passage's own retrieval score (relative to the best passage) is a prior: retrieval weighs the whole
    passage, its heading and its service, which one sentence alone cannot show. Weights tuned with
    bench/answer_bench.py on the dev and held-out sets.
    """
    tokens = tokenize([question, focused_question or ""])
    question_tokens, focused_tokens = set(tokens[0]), set(tokens[1])
    wants_figure = asks_for_a_quantity(question)
    dimensions = asked_dimensions(question)
    both = asks_default_and_limit(question)
    how_to = asks_how_to(question)
    top = max((c.hit.score for c in candidates), default=0.0)
    for c in candidates:
        c.dense = dense_by_line.get((c.hit.file, c.line, c.part), 0.0)
        c.lexical = max(_overlap(question_tokens, c.tokens), _overlap(focused_tokens, c.tokens))
        prior = c.hit.score / top if top > 0 else 0.0
        c.score = 0.7 * c.dense + 0.4 * c.lexical + 0.3 * prior - 0.02 * c.hit_rank
        figures = extract_figures(c.quote, dimensions) if dimensions else []
        # A figure of another kind than the one asked ("layer 4" for a latency) answers nothing asked; the 53 of
        # "Route 53" is none at all.
        if wants_figure and (figures or not dimensions) and states_a_number(c.quote):
            c.score += 0.1
        if figures:
            c.score += TYPED_FIGURE_BONUS
        if both and _default_and_limit(figures):
            c.score += TYPED_FIGURE_BONUS
        if how_to and says_what_to_do(c.quote):
            c.score += HOW_TO_BONUS
        if _says_little(c.quote):
            c.score -= 0.15


# A sentence about another service than the one asked of falls: "Supports replay capability" in the Data Streams
# list answers nothing about Firehose, however well it matches "does Firehose support replay".
OTHER_SUBJECT_PENALTY = 0.1
SAYS_LITTLE_PENALTY = 0.15
# A statement of the asked figure elsewhere in the notes counts when its line is this close (cosine) to the lead's.
FIGURE_STATEMENT_REACH = 0.1


def _segment_for(quote: str, segments: list[Segment]) -> Segment | None:
    """The segment of a line that holds (or is held by) a quoted sentence."""
    for segment in segments:
        if segment.quote in quote or quote in segment.quote:
            return segment
    return segments[0] if segments else None


_JOINING_WORDS = frozenset({"vs", "versus", "and", "or", "the", "a", "an", "of", "aws", "amazon"})


def _only_names(segment: Segment, catalogue: Catalogue) -> bool:
    """True for a title that only names services ("Kinesis Data Firehose", "Security Group vs NACL")."""
    if catalogue.id_for(segment.quote.strip(" :*")) is not None:
        return True
    names = {w for i in segment.named if i in catalogue.services for n in catalogue.services[i].lookup_names()
             for w in re.findall(r"\w+", n.lower())}
    words = re.findall(r"\w+", segment.quote.lower())
    return bool(names) and all(w in names or w in _JOINING_WORDS or w.rstrip("s") in names for w in words)


def weigh_evidence(
    candidates: list[Candidate],
    segments_by_line: dict[tuple[str, int], list[Segment]],
    asked: set[str],
    catalogue: Catalogue,
    table_headers: dict[tuple[str, int], tuple[int, str]] | None = None,
) -> None:
    """Attach each candidate's segment and table header; lower headings, bare service labels and sentences about
    another service."""
    kin = {k for s in asked if s in catalogue.services for k in (*catalogue.family(s), *ancestors(s, catalogue))}
    for c in candidates:
        c.table_header = (table_headers or {}).get((c.hit.file, c.line))
        c.segment = segment = _segment_for(c.quote, segments_by_line.get((c.hit.file, c.line), []))
        if segment is None:
            continue
        if segment.kind == "heading" or _only_names(segment, catalogue):
            c.score -= SAYS_LITTLE_PENALTY  # "Kinesis Data Firehose", "Security Group vs NACL" name; they state nothing
        if not kin:
            continue
        about = _about(c)
        if about and not about & kin:
            c.score -= OTHER_SUBJECT_PENALTY
            c.other_subject = True


def cosine_rows(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    return matrix @ vector.reshape(-1)
