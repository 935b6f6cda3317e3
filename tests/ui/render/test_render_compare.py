"""ui/render/compare.py: conflicts and empty cells are marked, each quoted part gets its own footnote."""

from __future__ import annotations

from kb.models import Cell, CellCitation, Citation, ComparisonTable
from ui import render


def comparison() -> ComparisonTable:
    cite = CellCitation(file="n.md", start_line=3, end_line=4, quote="shards | partitions", id="p1")
    return ComparisonTable(
        services=["sqs", "kds"],
        aspects=["Retention", "Order"],
        cells=[
            Cell(service="sqs", aspect="Retention", value="4 days", status="conflict", conflict_reason="notes disagree",
                 citations=[cite, CellCitation(file="m.txt", start_line=9, end_line=9, quote="14 days")]),
            Cell(service="kds", aspect="Retention", value="", status="not_in_notes"),
            Cell(service="sqs", aspect="Order", value="best | effort", status="found", citations=[cite]),
        ],
    )


def test_comparison_html_marks_conflicts_and_empty_cells():
    out = render.comparison_html(comparison(), {"sqs": "SQS", "kds": "Kinesis"})
    assert "<th>SQS</th><th>Kinesis</th>" in out
    assert out.count("not in notes") == 2  # the missing cell, and the one the API did not send
    assert "⚠ conflict" in out and "n.md:3-4" in out and "m.txt:9" in out and "notes disagree" in out
    assert 'href="#kb-src-1"' in out and 'href="#kb-src-2"' in out


def test_a_value_joined_from_quotes_gets_a_footnote_per_quote():
    first = CellCitation(file="a.md", start_line=1, end_line=1, quote="4 days  retention")
    second = CellCitation(file="b.md", start_line=2, end_line=2, quote="up to 14 days")
    extra = CellCitation(file="c.md", start_line=3, end_line=3, quote="not in the value")
    cell = Cell(service="sqs", aspect="retention", value="up to 14 days / 4 days retention", status="found",
                citations=[first, second, extra])
    assert render.cell_parts(cell) == [("up to 14 days", [second]), ("4 days retention", [first, extra])]
    table = ComparisonTable(services=["sqs"], aspects=["retention"], cells=[cell])
    out = render.comparison_html(table, {})
    order = ["up to 14 days", 'href="#kb-src-2"', "4 days retention", 'href="#kb-src-1"', 'href="#kb-src-3"']
    assert [out.index(piece) for piece in order] == sorted(out.index(piece) for piece in order)


def test_a_quote_inside_a_labelled_part_still_finds_its_part():
    quote = CellCitation(file="a.md", start_line=1, end_line=1, quote="Ordering at the **shard** level")
    cell = Cell(service="kds", aspect="ordering", value="Kinesis: Ordering at the shard level / 4 days", status="found",
                citations=[quote])
    assert render.cell_parts(cell) == [("Kinesis: Ordering at the shard level", [quote]), ("4 days", [])]
