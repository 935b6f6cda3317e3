"""Tables in the notes (tab-separated Notion exports, markdown pipes): their blocks, their cells, and the segments of
a table whose header or first column names services."""

from __future__ import annotations

import re

from kb.catalogue import Catalogue
from kb.evidence.segment import NoteLine, Segment, trim_markup
from kb.evidence.text import WORD, clean


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
        s, e = trim_markup(text, s, e)
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


def table_segments(file: str, lines: list[NoteLine], block: list[int], context: tuple[str, ...], catalogue: Catalogue) -> list[Segment] | None:
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
