"""Exports of a comparison table (kb/compare/export.py): markdown and CSV, citations kept."""

from __future__ import annotations

import csv
import io
import re

from kb.compare import NOT_IN_NOTES
from kb.compare.export import CSV_COLUMNS, to_csv, to_markdown
from kb.models import Cell, CellCitation, ComparisonTable


def _table() -> ComparisonTable:
    cite = CellCitation(file="a.md", start_line=3, end_line=3, quote="4 days | retention", id="c1")
    other = CellCitation(file="b.txt", start_line=9, end_line=10, quote="up to 14 days", id="c2")
    return ComparisonTable(
        services=["SQS", "SNS"],
        aspects=["retention", "size"],
        cells=[
            Cell(service="SQS", aspect="retention", value="4 days | retention", status="conflict", citations=[cite, other],
                 conflict_reason="a.md says 4 days; b.txt says max 14 days"),
            Cell(service="SNS", aspect="retention", value="not persisted", status="found", citations=[other]),
            Cell(service="SQS", aspect="size", value="256KB, per message", status="found", citations=[cite]),
            Cell(service="SNS", aspect="size", value=NOT_IN_NOTES, status="not_in_notes"),
        ],
    )


def test_markdown_has_one_row_an_aspect_and_lists_the_sources():
    text = to_markdown(_table())
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| aspect | SQS | SNS |"
    assert len(rows) == 3 and all(len(re.split(r"(?<!\\)\|", row)) == 5 for row in rows)
    assert "_not in notes_" in rows[2] and "**conflict:**" in rows[1] and "b.txt says max 14 days" in rows[1]
    assert "1. a.md:3: \"4 days \\| retention\"" in text and "2. b.txt:9-10: \"up to 14 days\"" in text
    assert rows[1].count("[2]") == 2  # the same citation keeps its number


def test_csv_has_one_row_a_cell_and_survives_commas_and_pipes():
    rows = list(csv.reader(io.StringIO(to_csv(_table()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 5
    sqs_size = rows[3]
    assert sqs_size[:4] == ["SQS", "size", "found", "256KB, per message"]
    assert rows[1][4] == "a.md:3; b.txt:9-10" and rows[1][6] == "a.md says 4 days; b.txt says max 14 days"
    assert rows[4][2] == "not_in_notes" and rows[4][4] == ""
