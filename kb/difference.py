"""Difference questions ("What is the difference between A and B?", "A vs B", "A or B for ...", "when should I use A
instead of B"): recognised here and answered from the comparison table of A and B, each side cited."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kb.catalogue import Catalogue
from kb.errors import KBError
from kb.evidence import cell_spans
from kb.models import Answer, Cell, Citation, ComparisonTable, Hit

# The two (or more) names are what the patterns capture; a name is at most a few words ("Kinesis Data Firehose").
_NAME = r"(?P<{0}>[\w@./+&'() -]{{2,60}}?)"
# "... in terms of whose key signs it?" names the one aspect asked about; other tails ("for fan-out") do not.
_TAIL = (
    r"(?:\s*,?\s+(?:in\s+terms\s+of|regarding|with\s+respect\s+to|when\s+it\s+comes\s+to|as\s+(?:for|to))\s+(?P<aspect>[^?]{2,80}?)"
    r"|\s+(?:for|in|when|on|to|with|if|from|as|about)\b.*)?\s*[?.!]*\s*$"
)
_PATTERNS = [
    re.compile(p.format(a=_NAME.format("a"), b=_NAME.format("b"), tail=_TAIL), re.IGNORECASE)
    for p in (
        r"^\s*(?:what(?:'s| is| are)\s+)?(?:the\s+)?(?:main\s+|key\s+)?differences?\s+(?:is\s+there\s+)?between\s+(?:an?\s+|the\s+)?{a}\s+(?:and|&|vs\.?|versus)\s+(?:an?\s+|the\s+)?{b}{tail}",
        r"^\s*(?:how\s+(?:does|do|is|are)\s+)(?:an?\s+|the\s+)?{a}\s+(?:differ|different)\s+(?:from|than|to)\s+(?:an?\s+|the\s+)?{b}{tail}",
        r"^\s*(?:how\s+(?:does|do)\s+)?(?:an?\s+|the\s+)?{a}\s+compare\s+(?:to|with|against)\s+(?:an?\s+|the\s+)?{b}{tail}",
        r"^\s*compare\s+(?:an?\s+|the\s+)?{a}\s+(?:and|with|to|vs\.?|versus)\s+(?:an?\s+|the\s+)?{b}{tail}",
        r"^\s*(?:when|why)\s+(?:should|would|do|could)\s+(?:i|you|we|one)\s+(?:use|choose|pick|prefer)\s+(?:an?\s+|the\s+)?{a}\s+(?:instead\s+of|rather\s+than|over|and\s+not|vs\.?|versus|or)\s+(?:an?\s+|the\s+)?{b}{tail}",
        r"^\s*(?:should\s+(?:i|we)\s+(?:use|choose|pick)\s+|(?:which\s+(?:is\s+better|one|to\s+use|should\s+i\s+use)[:,]?\s+))?(?:an?\s+|the\s+)?{a}\s+or\s+(?:an?\s+|the\s+)?{b}{tail}",
        r"^\s*(?:an?\s+|the\s+)?{a}\s+(?:vs\.?|versus|compared\s+(?:to|with))\s+(?:an?\s+|the\s+)?{b}{tail}",
    )
]
MAX_ASPECT_LINES = 6
CITATIONS_PER_SIDE = 1
# Fewer aspects than this stated of both sides, and the table tells too little: the ordinary answer leads. One is
# enough: what each side is, cited, already tells them apart better than passages about one side only (at two,
# "Simple routing vs Weighted routing" was answered from Weighted routing's lines alone).
MIN_BOTH_STATED = 1


@dataclass(frozen=True)
class DifferenceQuestion:
    """The services a difference question sets side by side, as the user wrote them."""

    names: tuple[str, str]
    aspect: str | None = None  # the one aspect the question names ("whose key signs it"), if any
    ids: tuple[str, str] = ("", "")  # the catalogue services the names stand for


def _clean_name(name: str) -> str:
    name = re.sub(r"^(?:aws|amazon)\s+", "", name.strip(" ,;:'\""), flags=re.IGNORECASE)
    return " ".join(name.split())


def parse_difference(question: str, catalogue: Catalogue) -> DifferenceQuestion | None:
    """The two services a question asks to tell apart, when it is a difference question naming two known services."""
    for pattern in _PATTERNS:
        match = pattern.match(question)
        if not match:
            continue
        a, b = _clean_name(match.group("a")), _clean_name(match.group("b"))
        ids = []
        for name in (a, b):
            service_id = catalogue.id_for(name)
            if service_id is None:
                found = catalogue.find_in_heading(name)
                # "an IAM role" resolves through its words, but a name mentioning two services is no one service
                service_id = found[0] if len(found) == 1 else None
            ids.append(service_id)
        if None in ids or ids[0] == ids[1]:
            continue
        aspect = match.group("aspect")
        return DifferenceQuestion((a, b), " ".join(aspect.split()) if aspect else None, (ids[0], ids[1]))
    return None


def _differs(a: Cell, b: Cell) -> bool:
    if a.status == "not_in_notes" and b.status == "not_in_notes":
        return False
    return a.value.strip().lower() != b.value.strip().lower()


def _both_stated(table: ComparisonTable) -> list[str]:
    cells = {(c.service, c.aspect): c for c in table.cells}
    a, b = table.services[:2]
    return [x for x in table.aspects if cells[(a, x)].status != "not_in_notes" and cells[(b, x)].status != "not_in_notes"]


def _aspect_order(table: ComparisonTable) -> list[str]:
    """Aspects where both sides are stated come first: they are where the two can be told apart."""
    cells = {(c.service, c.aspect): c for c in table.cells}
    a, b = table.services[:2]
    both, one = [], []
    for aspect in table.aspects:
        ca, cb = cells[(a, aspect)], cells[(b, aspect)]
        if not _differs(ca, cb):
            continue
        stated = (ca.status != "not_in_notes") + (cb.status != "not_in_notes")
        (both if stated == 2 else one).append(aspect)
    return both + one


def difference_answer(question: str, table: ComparisonTable, passages: list[Hit]) -> Answer:
    """The answer to a difference question: per aspect where the two differ, what the notes say of each, cited."""
    cells = {(c.service, c.aspect): c for c in table.cells}
    citations: list[Citation] = []
    seen: dict[tuple[str, int], int] = {}
    lines: list[str] = []

    def cite(cell: Cell) -> str:
        markers = []
        # a conflict cell's first two citations are the two sides of the disagreement
        for cell_citation in cell.citations[: 2 if cell.status == "conflict" else CITATIONS_PER_SIDE]:
            key = (cell_citation.file, cell_citation.start_line)
            if key not in seen:
                seen[key] = len(citations) + 1
                citations.append(
                    Citation(
                        n=seen[key],
                        id=cell_citation.id,
                        file=cell_citation.file,
                        start_line=cell_citation.start_line,
                        end_line=cell_citation.end_line,
                        quote=cell_citation.quote,
                        context=f"{cell.service} · {cell.aspect}",
                    )
                )
            markers.append(f"[{seen[key]}]")
        return " ".join(dict.fromkeys(markers))

    for aspect in _aspect_order(table)[:MAX_ASPECT_LINES]:
        sides = []
        for service in table.services[:2]:
            cell = cells[(service, aspect)]
            if cell.status == "not_in_notes":
                sides.append(f"{service}: not in your notes")
            else:
                flag = " (the notes disagree)" if cell.status == "conflict" else ""
                # the cell's lead statement; the table under the answer holds the rest
                sides.append(f"{service}: {cell.value.split(' / ')[0]}{flag} {cite(cell)}".rstrip())
        lines.append(f"{aspect[:1].upper()}{aspect[1:]}: " + " | ".join(sides))
    if not citations or len(_both_stated(table)) < MIN_BOTH_STATED:
        a, b = table.services[:2]
        text = f"The notes do not state how {a} and {b} differ. The nearest passages are listed below."
        return Answer(question=question, answer=text, abstained=True, citations=[], passages=passages, comparison=table)
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations, passages=passages,
                  comparison=table)


@dataclass(frozen=True)
class NoteTableRow:
    """A row of a table in the notes, with the header row that names its columns."""

    chunk_id: str
    file: str
    line: int
    text: str  # the row as written, cells separated by tabs
    header_line: int
    header: str


def _cells(row: str) -> list[str]:
    return [row[start:end] for start, end in cell_spans(row)]


def sets_side_by_side(header: str, services: tuple[str, str], catalogue: Catalogue) -> bool:
    """Whether a table header row has the two services (catalogue ids) as columns ("Security Group<tab>NACL")."""
    columns = [set(catalogue.find_in_heading(cell)) for cell in _cells(header) if cell.strip()]
    return all(any(service in column for column in columns) for service in services)


def note_table_answer(question: str, rows: list[NoteTableRow], passages: list[Hit], comparison: ComparisonTable) -> Answer:
    """The answer from the notes' own table of the two: each row, its cells named by the header, cited."""
    citations: list[Citation] = []
    lines: list[str] = []
    for n, row in enumerate(rows[:MAX_ASPECT_LINES], 1):
        names = _cells(row.header)
        cells = [f"{name.strip()}: {cell.strip()}" if name.strip() else cell.strip()
                 for name, cell in zip(names, _cells(row.text)) if cell.strip()]
        lines.append(f"{' | '.join(cells)} [{n}]")
        citations.append(Citation(n=n, id=row.chunk_id, file=row.file, start_line=row.line, end_line=row.line,
                                  quote=row.text.strip(), context=" vs ".join(c.strip() for c in names if c.strip()),
                                  table_header=row.header, table_header_line=row.header_line))
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations, passages=passages,
                  comparison=comparison)


def try_difference(
    question: str,
    catalogue: Catalogue,
    compare,
    passages: list[Hit],
    note_rows: Callable[[Callable[[str], bool]], list[NoteTableRow]] = lambda side_by_side: [],
) -> Answer | None:
    """The comparison-based answer when the question is a difference question the compare step can take, else None.
    When a table of the notes has the two as its columns, its rows are the answer (`note_rows(is_side_by_side)`: the
    rows of the first table whose header row passes). It abstains when the comparison tells the two apart on too
    little; the caller then answers from the passages and shows the comparison beside that answer.

    `compare(services)` builds the table; a name it refuses (ambiguous, unknown) leaves the question to ordinary ask."""
    parsed = parse_difference(question, catalogue)
    if parsed is None:
        return None
    try:
        table = compare(list(parsed.names), [parsed.aspect] if parsed.aspect else None)
    except KBError:
        return None
    # The notes' own table of the two says, row by row, how they differ better than cells gathered from anywhere.
    rows = [] if parsed.aspect else note_rows(lambda header: sets_side_by_side(header, parsed.ids, catalogue))
    if rows:
        return note_table_answer(question, rows, passages, table)
    return difference_answer(question, table, passages)
