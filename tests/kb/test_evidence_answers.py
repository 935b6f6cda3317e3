"""The evidence layer under answers and tables, on the real shipped notes: subjects under plain-text labels, table
rows read with their header, notes that disagree, features compared side by side, other vendors declined."""

from __future__ import annotations

import pytest

from kb.evidence.index import segment_index
from tests.conftest import SHIPPED_NOTES

pytestmark = pytest.mark.slow


def line(name: str, number: int) -> str:
    return (SHIPPED_NOTES / name).read_text(encoding="utf-8").split("\n")[number - 1]


def test_a_line_under_a_plain_text_label_is_about_the_labelled_service(real_kb):
    # aws-saa-notes.txt 2536-2554: a "Kinesis Data Streams" list, then a "Kinesis Data Firehose" list, both under the
    # Firehose toggle (2524); "Supports replay capability" (2543) belongs to Data Streams.
    by_line = {(s.file, s.line): s for s in segment_index(real_kb.build).segments}
    assert by_line[("aws-saa-notes.txt", 2543)].subject == ("kinesis-data-streams",)
    assert by_line[("aws-saa-notes.txt", 2554)].subject == ("kinesis-data-firehose",)


def test_an_answer_leads_with_the_line_about_the_service_asked(real_kb):
    answer = real_kb.ask("Does Kinesis Data Firehose support replay?")
    first = answer.citations[0]
    assert (first.file, first.start_line) == ("aws-saa-notes.txt", 2554)
    assert "Doesn't support replay" in first.quote
    other = [c for c in answer.citations if c.start_line == 2543]
    assert all("Kinesis Data Streams" in c.context for c in other)  # if quoted at all, it says whose line it is


def test_a_line_stating_the_default_and_the_maximum_leads_when_both_are_asked(real_kb):
    # aws-developer-course.txt 550 "7 days retention (can be increased to 35 days)" answers both parts; "from 1 to 35
    # days" gives a range and no default, "by default 24 hrs" no maximum.
    answer = real_kb.ask("By default how long do RDS automatic backups stay, and how far can I extend it?")
    first = answer.citations[0]
    assert (first.file, first.start_line) == ("aws-developer-course.txt", 550)
    assert "7 days" in first.quote and "35 days" in first.quote


def test_notes_that_disagree_are_said_and_both_cited(real_kb):
    answer = real_kb.ask("How long does Kinesis Data Streams keep data?")
    assert answer.conflict_reason and answer.answer.startswith("The notes disagree")
    files = [c.file for c in answer.citations[:2]]
    assert sorted(files) == ["aws-architect-notes.md", "aws-saa-notes.txt"]
    for c in answer.citations:
        assert c.quote in line(c.file, c.start_line)


def test_notes_that_disagree_without_a_named_quantity_are_said_and_both_cited(real_kb):
    """aws-architect-notes.md:1139 bills on-demand EC2 per hour, aws-developer-course.txt:166 by the second;
    aws-architect-notes.md:1339 attaches EBS to one instance, aws-saa-notes.txt:550 to several (Multi-Attach)."""
    billed = real_kb.ask("Is EC2 billed per second or per hour?")
    assert billed.conflict_reason and billed.answer.startswith("The notes disagree")
    assert "per hour" in billed.conflict_reason and "by the second" in billed.conflict_reason
    shared = real_kb.ask("Can an EBS volume be attached to several instances?")
    assert shared.conflict_reason and "multiple" in shared.conflict_reason
    for answer in (billed, shared):
        assert len({c.file for c in answer.citations[:2]}) == 2
        for c in answer.citations:
            assert c.quote in line(c.file, c.start_line)


def test_one_file_alone_is_no_disagreement(real_kb):
    answer = real_kb.ask("How long does SQS keep messages?")
    assert answer.conflict_reason is None
    assert "14 days" in answer.citations[0].quote or "4 days" in answer.citations[0].quote


def test_a_table_row_is_quoted_with_its_header(real_kb):
    answer = real_kb.ask("What is the minimum billable object size of S3 One Zone-IA?")
    rows = [c for c in answer.citations if c.table_header]
    assert rows, answer.answer
    row = rows[0]
    assert row.table_header == line(row.file, row.table_header_line)
    assert row.quote in line(row.file, row.start_line)
    assert "(One Zone-IA)" in answer.answer  # each value is read with its column


def test_a_table_of_two_features_of_one_service(real_kb):
    table = real_kb.compare(["RDS Read Replicas", "RDS Multi-AZ"])
    assert table.services == ["RDS Read Replicas", "RDS Multi-AZ"]
    found = [c for c in table.cells if c.status != "not_in_notes"]
    assert {c.service for c in found} == {"RDS Read Replicas", "RDS Multi-AZ"}
    for cell in found:
        for citation in cell.citations:
            assert citation.quote in line(citation.file, citation.start_line)


def test_a_conflict_cell_names_both_files(real_kb):
    table = real_kb.compare(["Kinesis Data Streams", "Kinesis Data Firehose"], ["retention"])
    cell = next(c for c in table.cells if c.service == "Kinesis Data Streams")
    assert cell.status == "conflict"
    assert {"aws-architect-notes.md", "aws-saa-notes.txt"} <= {c.file for c in cell.citations}


def test_a_difference_question_is_answered_from_the_comparison(real_kb):
    answer = real_kb.ask("What is the difference between ALB and NLB?")
    assert answer.comparison is not None and answer.comparison.services == ["ALB", "NLB"]
    assert answer.answer.startswith("OSI layer:")
    assert "Layer 7" in answer.answer and "layer 4" in answer.answer.lower()
    sides = {c.context.split(" · ")[0] for c in answer.citations}
    assert sides == {"ALB", "NLB"}


@pytest.mark.parametrize(
    "question",
    ["What is Azure Cosmos DB?", "How does Google Cloud Spanner replicate data?", "What is Oracle Autonomous Database?"],
)
def test_what_the_notes_never_mention_is_declined(real_kb, question):
    answer = real_kb.ask(question)
    assert answer.abstained and not answer.citations
    assert "nothing about" in answer.answer


def test_a_figure_for_another_instance_type_is_not_an_answer(real_kb):
    # The notes price t2.small only; asked about t3.micro, the answer says what they have and that it is not that.
    answer = real_kb.ask("How much does a t3.micro cost per hour?")
    assert answer.abstained
    assert "for t2.small, not for t3.micro" in answer.answer


def test_a_fact_the_notes_do_not_give_is_declined_saying_what_they_have(real_kb):
    # The notes describe EC2 at length but never say when it launched: the best line states no year.
    answer = real_kb.ask("What year did AWS launch EC2?")
    assert answer.abstained and not answer.citations
    assert "they state no year for it; the closest they come is" in answer.answer


def test_a_price_of_something_else_does_not_answer_a_price_question(real_kb):
    # The notes price a t2.small but no NAT Gateway: the NAT Gateway lines say "per hour" and give no figure.
    answer = real_kb.ask("What's the hourly price of a NAT Gateway in us-east-1?")
    assert answer.abstained and "they state no price for it" in answer.answer


def test_a_table_of_the_notes_that_sets_the_two_side_by_side_is_the_difference_answer(real_kb):
    # aws-saa-notes.txt 4645-4650: a "Security Group<tab>NACL" table, one row per difference.
    answer = real_kb.ask("What is the difference between security groups and NACLs?")
    assert not answer.abstained and answer.comparison is not None
    rows = [(c.file, c.start_line) for c in answer.citations]
    assert rows[0] == ("aws-saa-notes.txt", 4646)
    assert all(c.table_header_line == 4645 and c.table_header == "Security Group\tNACL" for c in answer.citations)
    assert answer.answer.startswith("Security Group: Operates at the instance level | NACL: Operates at the subnet level [1]")
