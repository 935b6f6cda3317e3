"""Segments: the quotable pieces of the notes (sentences, bullets, headings, table cells), each with the services
it names and the services it inherits from its heading, its paragraph's opening line or its parent bullet."""

from __future__ import annotations

import re
from functools import lru_cache

from kb.catalogue import Catalogue, get_catalogue
from kb.evidence.lineage import ancestors
from kb.evidence.segment import NoteLine, NoteSentence, Segment, trim_markup
from kb.evidence.tables import cell_spans, table_blocks, table_segments
from kb.evidence.text import WORD, clean

__all__ = ["NoteLine", "NoteSentence", "Segment", "cell_spans", "leading_service", "segment_file", "table_blocks"]

_BULLET = re.compile(r"^(\s*)((?:[-*+•▼□]|\d+[.)])\s+)+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“*])")
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s|^\s*(?:-\s*)?▼|^\s*<h[1-6]>", re.IGNORECASE)
_OPENER_WORDS = frozenset(
    "is are was has have can cannot can't supports support uses use operates works provides offers allows lets enables "
    "does doesn't don't will gives handles stores".split()
)


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


# "Query: partition key ...", "Scan - reads every item": a label, then what is said of it.
_LABEL_LEAD = re.compile(r"^(.{1,40}?)\s*(?::\s|\s[-–]\s)\s*\S")


def _child_label(text: str, subjects: tuple[str, ...], named: list[str], catalogue: Catalogue) -> str | None:
    """The feature a label names by its short name inside its service's context: "- On-demand" under EC2's
    purchasing options heads the bullets about On-Demand Instances, "Query: partition key ..." under DynamoDB is
    about DynamoDB Query. The label is the whole line or what opens it before a colon or a dash; `named` are the
    services the line names."""
    body = clean(_BULLET.sub("", text)).strip()
    label = _LABEL_LEAD.match(body)
    label_text = label.group(1) if label else body.rstrip(":").strip()
    if not label_text or len(WORD.findall(label_text)) > 4 or re.search(r"[.!?,;()]", label_text):
        return None
    if set(named) & set(subjects):
        return None  # "On-demand: pay per second for active dedicated host": a way to buy the host, not a feature
    contexts = dict.fromkeys(c for s in subjects for c in (s, *sorted(ancestors(s, catalogue))))
    return next((child for c in contexts if (child := catalogue.child_named(c, label_text)) is not None), None)


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
        s, e = trim_markup(text, s, e)
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


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _continues(lines: list[NoteLine], position: int) -> bool:
    """True for a line that carries on the bullet just above it: wrapped onto an indented line of its own ("File
    shares," / "    security groups"), it is the end of that bullet's sentence, not a label heading what follows."""
    if position == 0:
        return False
    above, line = lines[position - 1], lines[position]
    if above.number != line.number - 1 or not _BULLET.match(above.text):
        return False
    indent, above_indent = _indent(line.text), _indent(above.text)
    if indent < above_indent or re.search(r"[.!?:]\s*$", above.text):
        return False
    # deeper than the bullet, or level with it but plainly mid-sentence (after a comma, or in lower case)
    body = line.text.strip()
    return indent > above_indent or above.text.rstrip().endswith(",") or body[:1].islower()


def _nests(lines: list[NoteLine], position: int, indent: int) -> bool:
    """True when the next non-blank line is a bullet indented deeper than `indent` (a list nested under this one)."""
    following = next((line for line in lines[position + 1 :] if line.text.strip()), None)
    if following is None or not _BULLET.match(following.text):
        return False
    return _indent(following.text) > indent


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
                table_rows[position] = table_segments(file, lines, block, header_context, catalogue)
            table = table_rows.get(block[0])
            if table is not None:
                if block[0] == position:
                    segments.extend(table)
                continue
        if _is_heading(line):
            s, e = trim_markup(text, 0, len(text))
            named = tuple(catalogue.find_in_heading(text))
            segments.append(Segment(file, line.number, line.chunk, text[s:e], "heading", named, heading_subject, "", line.vector_row))
            continue
        bullet = _BULLET.match(text)
        indent = _indent(text)
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
        opener = leading_service(text) or _child_label(text, inherited, line_named, catalogue)
        title = _is_short_title(text, bool(bullet))
        if not bullet and _continues(lines, position):
            continue  # the end of the bullet above: it heads nothing
        if bullet and opener is not None and _nests(lines, position, indent):
            # "• Scans:" with its own bullets indented under it heads those only; "• Provisioned Throughput"
            # level with it is no longer about Scan
            bullets.append((indent, (opener,)))
        elif bullet and (title or opener is not None and (position in alone or _COLON_LEAD.match(text))):
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
