"""Markdown and CSV renderings of a ComparisonTable, citations kept."""

from __future__ import annotations

import csv
import io

from kb.models import Cell, CellCitation, ComparisonTable

CSV_COLUMNS = ("service", "aspect", "status", "value", "citations", "quotes", "conflict_reason")


def _where(citation: CellCitation) -> str:
    lines = str(citation.start_line) if citation.start_line == citation.end_line else f"{citation.start_line}-{citation.end_line}"
    return f"{citation.file}:{lines}"


def _md_escape(text: str) -> str:
    # A pipe would open a new column and a newline would end the row.
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def to_markdown(table: ComparisonTable) -> str:
    """Aspects down, services across; each cell's value with [n] markers, the numbered citations listed below."""
    cells = {(c.service, c.aspect): c for c in table.cells}
    notes: list[str] = []
    numbers: dict[tuple[str, int, int, str], int] = {}

    def render(cell: Cell | None) -> str:
        if cell is None:
            return ""
        if cell.status == "not_in_notes":
            return "_not in notes_"
        marks = []
        for citation in cell.citations:
            key = (citation.file, citation.start_line, citation.end_line, citation.quote)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                notes.append(f"{numbers[key]}. {_where(citation)}: \"{_md_escape(citation.quote)}\"")
            marks.append(f"[{numbers[key]}]")
        text = f"{_md_escape(cell.value)} {''.join(marks)}".strip()
        if cell.status == "conflict":
            text = f"**conflict:** {text}<br>_{_md_escape(cell.conflict_reason or '')}_"
        return text

    header = "| aspect | " + " | ".join(_md_escape(s) for s in table.services) + " |"
    rule = "|---" * (len(table.services) + 1) + "|"
    rows = [
        "| " + _md_escape(aspect) + " | " + " | ".join(render(cells.get((service, aspect))) for service in table.services) + " |"
        for aspect in table.aspects
    ]
    out = [header, rule, *rows]
    if notes:
        out += ["", "Sources:", "", *notes]
    return "\n".join(out) + "\n"


def to_csv(table: ComparisonTable) -> str:
    """One row per cell: service, aspect, status, value, citations (file:lines; ...), quotes, conflict reason."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for cell in table.cells:
        writer.writerow([
            cell.service,
            cell.aspect,
            cell.status,
            cell.value,
            "; ".join(_where(c) for c in cell.citations),
            " | ".join(c.quote for c in cell.citations),
            cell.conflict_reason or "",
        ])
    return buffer.getvalue()
