"""Segments: the quotable pieces of the notes (sentences, bullets, headings, table cells), each with the services
it names and the services it inherits from its heading, its paragraph's opening line or its parent bullet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kb.catalogue import Catalogue, get_catalogue
from kb.evidence.lineage import ancestors
from kb.evidence.text import WORD, clean


@dataclass
class NoteLine:
    """One line of a note file as the index holds it."""

    number: int
    text: str
    chunk: int
    heading_path: tuple[str, ...]
    vector_row: int = -1


@dataclass
class Segment:
    """A quotable piece of one line: a sentence, a bullet, a heading or a table cell."""

    file: str
    line: int
    chunk: int
    quote: str  # verbatim substring of the line
    kind: str  # prose | heading | table
    named: tuple[str, ...] = ()  # service ids the segment names, in order (a table cell: its column's service)
    subject: tuple[str, ...] = ()  # service ids inherited from the heading, paragraph opener or parent bullet
    label: str = ""  # a table cell's row or column name ("Max IOPS")
    vector_row: int = -1
    column: str = ""  # a table cell's column header as written ("One Zone-IA")
    shared_column: bool = False  # the cell's service heads more than one column (its value is one of several)
    context: str = ""  # the heading and the paragraph-opening line it sits under ("ELB - stickiness")
    heads: str = ""  # that label or paragraph-opening line alone ("Kinesis Data Streams"), as written

    @property
    def text(self) -> str:
        """What keyword patterns read: the quote, with a table cell's attribute name in front."""
        return f"{self.label}: {self.quote}" if self.label else self.quote


_BULLET = re.compile(r"^(\s*)((?:[-*+•▼□]|\d+[.)])\s+)+")
_MARKUP_EDGE = re.compile(r"^(?:\s|\*\*|__|`|#+\s|[-*+•▼□]\s|</?[a-zA-Z][^>]*>|!\[[^\]]*\]\([^)]*\))+|(?:\s|\*\*|__|`|</?[a-zA-Z][^>]*>|!\[[^\]]*\]\([^)]*\))+$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“*])")
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s|^\s*(?:-\s*)?▼|^\s*<h[1-6]>", re.IGNORECASE)
_OPENER_WORDS = frozenset(
    "is are was has have can cannot can't supports support uses use operates works provides offers allows lets enables "
    "does doesn't don't will gives handles stores".split()
)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) of text past surrounding markup and spaces, so the quote reads cleanly (still verbatim)."""
    piece = text[start:end]
    lead = _MARKUP_EDGE.match(piece)
    if lead and lead.end() < len(piece):
        start += lead.end()
        piece = text[start:end]
    for tail in _MARKUP_EDGE.finditer(piece):
        if tail.end() == len(piece) and tail.start() > 0:
            end = start + tail.start()
            break
    return start, end


@lru_cache(maxsize=65536)
def leading_service(text: str) -> str | None:
    """The service a line opens with as its grammatical subject ("sqs fifo queue - ...", "SNS: ...", "ALB supports ..."), if any."""
    words = clean(_BULLET.sub("", text)).split()
    for size in range(min(6, len(words)), 0, -1):
        head = words[:size]
        service_id = get_catalogue().id_for(" ".join(head))
        if service_id is None:
            continue
        rest = words[size:]
        while rest and rest[0].startswith("(") and not head[-1].endswith(":"):
            # "Application Load Balancer (ALB) - ..." : skip the parenthetical abbreviation
            closing = next((i for i, w in enumerate(rest) if w.endswith(")") or w.endswith("):")), None)
            if closing is None or closing > 4:
                break
            head, rest = head + rest[: closing + 1], rest[closing + 1 :]
        if not rest or head[-1][-1] in ":-=,":
            return service_id
        first = rest[0].lower()
        if first[0] in "-–—:=(" or first in _OPENER_WORDS:
            return service_id
        # a longer name that does not open the line ("sqs queue model") may hide a shorter one that does ("sqs:")
    return None


def _starts_with_service(text: str) -> bool:
    words = clean(_BULLET.sub("", text)).split()
    return any(get_catalogue().id_for(" ".join(words[:size])) for size in range(min(6, len(words)), 0, -1))


def _is_short_title(text: str, is_bullet: bool) -> bool:
    """A short line that opens with a service name and reads as a sub-heading ("Kinesis Data Streams", "KDS Security")."""
    body = clean(_BULLET.sub("", text))
    words = WORD.findall(body)
    if not words or len(words) > (4 if is_bullet else 6) or not _starts_with_service(body):
        return False
    if re.search(r"\s[:=]\s*\S|:\s+\S", body):
        return False  # "lambda + sns : react to notification" describes, it does not head what follows
    if is_bullet:
        # only "- Kinesis Data Streams:" heads its flat siblings; "- API Gateway" in a list is one item of it
        return body.endswith(":")
    return not re.search(r"[.!?]$", body) or body.endswith(":")


def _split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of a line (bullet marker and edge markup excluded)."""
    bullet = _BULLET.match(text)
    offset = bullet.end() if bullet else 0
    spans: list[tuple[int, int]] = []
    start = offset
    for match in _SENTENCE_END.finditer(text, offset):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        s, e = _trim(text, s, e)
        if e - s >= 2 and len(WORD.findall(clean(text[s:e]))) >= 1:
            out.append((s, e))
    return out


def _split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence listing several services ("sqs: queue model, sns: pub/sub model") cut at each service it opens."""
    cuts = [start]
    for match in re.finditer(r"[,;]\s+", text[start:end]):
        after = start + match.end()
        if leading_service(text[after:end]) is not None and re.match(r"\s*[\w ./-]{1,40}?\s*[:=-]", text[after:end]):
            cuts.append(after)
    if len(cuts) == 1:
        return [(start, end)]
    spans = []
    for i, s in enumerate(cuts):
        e = cuts[i + 1] if i + 1 < len(cuts) else end
        e = s + len(text[s:e].rstrip().rstrip(",;"))
        spans.append((s, e))
    return spans


def _is_heading(line: NoteLine) -> bool:
    if _HEADING_LINE.match(line.text):
        return True
    if not line.heading_path:
        return False
    return " ".join(WORD.findall(clean(line.text).lower())) == " ".join(WORD.findall(clean(line.heading_path[-1]).lower()))


def _heading_subject(heading_path: tuple[str, ...], catalogue: Catalogue) -> tuple[str, ...]:
    for heading in reversed(heading_path):
        found = catalogue.find_in_heading(heading)
        if found:
            return tuple(found)
    return ()


def table_blocks(lines: list[NoteLine]) -> list[list[int]]:
    """Runs of consecutive lines holding tab-separated cells (or | pipes), as positions into `lines`."""
    blocks: list[list[int]] = []
    current: list[int] = []
    previous_number = None
    for i, line in enumerate(lines):
        is_row = "\t" in line.text.strip() or line.text.lstrip().startswith("|") and line.text.count("|") >= 3
        contiguous = previous_number is not None and line.number == previous_number + 1
        if is_row and (current and contiguous or not current):
            current.append(i)
        else:
            if len(current) >= 2:
                blocks.append(current)
            current = [i] if is_row else []
        previous_number = line.number
    if len(current) >= 2:
        blocks.append(current)
    return blocks


def cell_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the cells of a table row, tab-separated (or pipe-separated)."""
    separator = "\t" if "\t" in text else "|"
    spans, start = [], 0
    for match in re.finditer(re.escape(separator), text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    if separator == "|":
        spans = spans[1:-1] if text.strip().startswith("|") else spans
    return spans


def _cell_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A table cell cut into its "•" items (Notion exports lists inside cells), each trimmed of markup."""
    cuts = [m.start() for m in re.finditer("•", text[start:end])]
    bounds = [start] + [start + c + 1 for c in cuts] if cuts else [start]
    spans = []
    for i, s in enumerate(bounds):
        e = start + cuts[i] if cuts and i < len(cuts) else end
        s, e = _trim(text, s, e)
        if e > s and WORD.search(clean(text[s:e])):
            spans.append((s, e))
    return spans


def _resolve_header(text: str, context: tuple[str, ...], catalogue: Catalogue, direct_only: bool = False) -> str | None:
    """The service a table header cell names ("SQS:", "Amazon Kinesis Streams", "Standard-IA" under S3)."""
    cleaned = clean(text).strip(" :")
    if not cleaned or len(cleaned) > 80:
        return None
    direct = catalogue.id_for(cleaned)
    if direct or direct_only:
        return direct
    for service_id in context:  # a header may drop its family's name: "Standard" in an S3 table
        prefixed = catalogue.id_for(f"{catalogue.services[service_id].name} {cleaned}")
        if prefixed:
            return prefixed
    found = catalogue.find_in_heading(cleaned)
    return found[0] if len(found) == 1 else None


def _table_segments(file: str, lines: list[NoteLine], block: list[int], context: tuple[str, ...], catalogue: Catalogue) -> list[Segment] | None:
    """Segments of a table whose columns (or rows) name services; None when it names none (read it as prose)."""
    rows = [lines[i] for i in block]
    header = rows[0]
    header_cells = cell_spans(header.text)
    names = [clean(header.text[s:e]).strip(" :") for s, e in header_cells]
    columns = [_resolve_header(header.text[s:e], context, catalogue) for s, e in header_cells]
    # The first column holds the row names ("Max IOPS", "Availability") unless it is itself headed by a service.
    if columns and _resolve_header(header.text[slice(*header_cells[0])], (), catalogue, direct_only=True) is None:
        columns[0] = None
    segments: list[Segment] = []
    identified = _identifying_row(rows[1:], context, catalogue)
    if identified is not None and len({i for ids in identified[1].values() for i in ids}) > len({c for c in columns if c}):
        # the header names families ("General Purpose SSD"); a row names the services ("gp2, gp3")
        return _multi_column_segments(file, rows[1:], names, *identified)
    if len({c for c in columns if c}) >= 2:
        service_columns = [i for i, c in enumerate(columns) if c]
        for row in rows[1:]:
            cells = cell_spans(row.text)
            label = clean(row.text[slice(*cells[0])]) if columns[0] is None else ""
            filled = [i for i in service_columns if i < len(cells) and WORD.search(clean(row.text[slice(*cells[i])]) or "") or
                      i < len(cells) and re.search(r"\d", row.text[slice(*cells[i])])]
            # A Notion export writes a cell merged across the row into its first column and leaves the others empty
            # ("Durability  99.999999999% (11 9's)" for every S3 class).
            spans_row = len(service_columns) >= 3 and filled == service_columns[:1]
            for index, (s, e) in enumerate(cells):
                service_id = columns[index] if index < len(columns) else None
                if service_id is None:
                    continue
                targets = [(columns[i], "") for i in service_columns] if spans_row else [(service_id, names[index])]
                shared = columns.count(service_id) > 1
                for qs, qe in _cell_items(row.text, s, e):
                    for target, column in targets:
                        segments.append(Segment(file, row.number, row.chunk, row.text[qs:qe], "table", (target,), (), label,
                                                row.vector_row, column, shared))
        return segments
    row_services = [_resolve_header(row.text[slice(*cell_spans(row.text)[0])], context, catalogue) for row in rows[1:]]
    if len({r for r in row_services if r}) >= 2:
        for row, service_id in zip(rows[1:], row_services):
            if service_id is None:
                continue
            shared = row_services.count(service_id) > 1
            row_name = clean(row.text[slice(*cell_spans(row.text)[0])])
            for index, (s, e) in enumerate(cell_spans(row.text)[1:], start=1):
                label = names[index] if index < len(names) else ""
                for qs, qe in _cell_items(row.text, s, e):
                    segments.append(Segment(file, row.number, row.chunk, row.text[qs:qe], "table", (service_id,), (), label,
                                            row.vector_row, row_name, shared))
        return segments
    return None


def _identifying_row(
    rows: list[NoteLine], context: tuple[str, ...], catalogue: Catalogue
) -> tuple[NoteLine, dict[int, tuple[str, ...]]] | None:
    """A row whose cells name the services of the columns when the header names families ("General Purpose SSD"
    over an "API Name" row of "gp2, gp3"): the row, and each column's services."""
    related = {r for c in context for r in (*catalogue.family(c), c)}
    for row in rows:
        cells = cell_spans(row.text)
        found: dict[int, tuple[str, ...]] = {}
        for index, (s, e) in enumerate(cells[1:], start=1):
            ids = tuple(i for i in catalogue.find_in_heading(clean(row.text[s:e])) if not related or i in related)
            if ids:
                found[index] = ids
        named = [i for ids in found.values() for i in ids]
        if len(found) >= 2 and len(named) == len(set(named)):
            return row, found
    return None


def _multi_column_segments(
    file: str, rows: list[NoteLine], names: list[str], identifying: NoteLine, columns: dict[int, tuple[str, ...]]
) -> list[Segment]:
    """Segments of a table whose columns each stand for one or more services (see _identifying_row)."""
    segments: list[Segment] = []
    for row in rows:
        if row is identifying:
            continue
        cells = cell_spans(row.text)
        label = clean(row.text[slice(*cells[0])])
        for index, (s, e) in enumerate(cells):
            for service_id in columns.get(index, ()):
                shared = len(columns[index]) > 1
                column = names[index] if index < len(names) else ""
                for qs, qe in _cell_items(row.text, s, e):
                    segments.append(Segment(file, row.number, row.chunk, row.text[qs:qe], "table", (service_id,), (), label,
                                            row.vector_row, column, shared))
    return segments


def _related(service_id: str, heading_subject: tuple[str, ...], catalogue: Catalogue) -> bool:
    """True when a heading names nothing, or names the service, its family or a member of its family."""
    if not heading_subject:
        return True
    lineage = ancestors(service_id, catalogue) | {service_id}
    for heading_id in heading_subject:
        if heading_id in lineage or service_id in catalogue.family(heading_id):
            return True
        if catalogue.services[heading_id].parent is not None and catalogue.services[heading_id].parent in lineage:
            return True
    return False


# "- **Spot Instances:** short workloads ..." defines a term: in Notion exports it heads the lines after it.
_COLON_LEAD = re.compile(r"^\s*(?:[-*+•]\s+)+\**[^:*()]{1,60}?\**\s*(?:\([^)]{0,30}\)\s*)?\**:")


def _continues(lines: list[NoteLine], position: int) -> bool:
    """True for a line that carries on the bullet just above it: wrapped onto an indented line of its own ("File
    shares," / "    security groups"), it is the end of that bullet's sentence, not a label heading what follows."""
    if position == 0:
        return False
    above, line = lines[position - 1], lines[position]
    if above.number != line.number - 1 or not _BULLET.match(above.text):
        return False
    indent = len(line.text) - len(line.text.lstrip(" \t"))
    above_indent = len(above.text) - len(above.text.lstrip(" \t"))
    if indent < above_indent or re.search(r"[.!?:]\s*$", above.text):
        return False
    # deeper than the bullet, or level with it but plainly mid-sentence (after a comma, or in lower case)
    body = line.text.strip()
    return indent > above_indent or above.text.rstrip().endswith(",") or body[:1].islower()


def _lone_bullets(lines: list[NoteLine]) -> set[int]:
    """Positions of bullets with no bullet on the non-blank lines just before and after them (used as sub-headings)."""
    filled = [i for i, line in enumerate(lines) if line.text.strip()]
    is_bullet = {i: bool(_BULLET.match(lines[i].text)) for i in filled}
    alone = set()
    for k, i in enumerate(filled):
        if not is_bullet[i]:
            continue
        before = k > 0 and is_bullet[filled[k - 1]]
        after = k + 1 < len(filled) and is_bullet[filled[k + 1]]
        if not before and not after:
            alone.add(i)
    return alone


def segment_file(file: str, lines: list[NoteLine], catalogue: Catalogue | None = None) -> list[Segment]:
    """Every quotable segment of one note file, with the services it names and the services it inherits."""
    catalogue = catalogue or get_catalogue()
    table_rows: dict[int, list[Segment] | None] = {}
    segments: list[Segment] = []
    blocks = table_blocks(lines)
    block_of = {i: block for block in blocks for i in block}
    heading_subject: tuple[str, ...] = ()
    paragraph_subject: tuple[str, ...] = ()
    bullets: list[tuple[int, tuple[str, ...]]] = []
    previous_path: tuple[str, ...] | None = None
    paragraph_line = ""
    lead_subject: tuple[str, ...] = ()
    alone = _lone_bullets(lines)
    for position, line in enumerate(lines):
        if line.heading_path != previous_path:
            heading_subject = _heading_subject(line.heading_path, catalogue)
            paragraph_subject, bullets, lead_subject = (), [], ()
            paragraph_line = ""
            previous_path = line.heading_path
        context = f"{line.heading_path[-1] if line.heading_path else ''} {paragraph_line}".strip()
        text = line.text
        if not text.strip():
            continue
        if position in block_of:
            block = block_of[position]
            if block[0] == position:
                header_context = tuple(dict.fromkeys(
                    i for s in paragraph_subject + heading_subject for i in (s, *sorted(ancestors(s, catalogue)))
                ))
                table_rows[position] = _table_segments(file, lines, block, header_context, catalogue)
            table = table_rows.get(block[0])
            if table is not None:
                if block[0] == position:
                    segments.extend(table)
                continue
        if _is_heading(line):
            s, e = _trim(text, 0, len(text))
            named = tuple(catalogue.find_in_heading(text))
            segments.append(Segment(file, line.number, line.chunk, text[s:e], "heading", named, heading_subject, "", line.vector_row))
            continue
        bullet = _BULLET.match(text)
        indent = len(text) - len(text.lstrip(" \t"))
        if bullet:
            while bullets and bullets[-1][0] >= indent:
                bullets.pop()
        else:
            lead_subject = ()  # the list a "Target Groups:" line introduced has ended
            if bullets and indent <= bullets[0][0]:
                bullets = []
        inherited = bullets[-1][1] if bullets else (lead_subject or paragraph_subject or heading_subject)
        running = inherited
        line_named: list[str] = []
        for s, e in _split_sentences(text):
            for cs, ce in _split_clauses(text, s, e):
                quote = text[cs:ce]
                named = tuple(catalogue.find_in_text(quote))
                segments.append(Segment(file, line.number, line.chunk, quote, "prose", named, running, "", line.vector_row,
                                        context=context, heads=paragraph_line))
                opener = leading_service(quote)
                if opener is not None:
                    running = (opener,)
                line_named.extend(n for n in named if n not in line_named)
        opener = leading_service(text)
        title = _is_short_title(text, bool(bullet))
        if not bullet and _continues(lines, position):
            continue  # the end of the bullet above: it heads nothing
        if bullet and (title or opener is not None and (position in alone or _COLON_LEAD.match(text))):
            # "- Kinesis Data Streams:" heads the flat bullets after it, and a lone "- **S3 Standard-IA**" between
            # paragraphs heads the paragraph after it, not only deeper bullets
            paragraph_subject, bullets, paragraph_line = ((opener,) if opener else tuple(line_named)), [], text.strip()
        elif bullet and opener is not None:
            bullets.append((indent, (opener,)))
        elif not bullet and title and text.rstrip().endswith(":"):
            # "Target Groups:" heads the list under it; the paragraph after the list is the section's again
            lead_subject = (opener,) if opener is not None else tuple(line_named)
        elif opener is not None and (title or _related(opener, heading_subject, catalogue)):
            # "sqs fifo queue - ..." under "SQS, SNS, Kinesis" heads what follows; "AWS Config has a rule ..." in a
            # section about ACM speaks for its own line only
            paragraph_subject, paragraph_line = (opener,), text.strip()
        elif title and line_named:
            paragraph_subject, bullets, paragraph_line = tuple(line_named), [], text.strip()
    return segments


# The evidence layer's name for a quotable piece of a note line; compare has long called it a Segment.
NoteSentence = Segment
