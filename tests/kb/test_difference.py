"""Difference questions: which questions set two services side by side, and the answer built from their table."""

from __future__ import annotations

import pytest

from kb.catalogue import get_catalogue
from kb.difference import difference_answer, parse_difference
from kb.models import Cell, CellCitation, ComparisonTable


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What is the difference between ALB and NLB?", ("ALB", "NLB")),
        ("What's the difference between security groups and NACLs?", ("security groups", "NACLs")),
        ("When should I use Kinesis Data Firehose instead of Kinesis Data Streams?", ("Kinesis Data Firehose", "Kinesis Data Streams")),
        ("SQS vs SNS", ("SQS", "SNS")),
        ("Should I use SQS or SNS for fan-out?", ("SQS", "SNS")),
        ("How does gp3 differ from gp2?", ("gp3", "gp2")),
        ("What is the difference between RDS read replicas and Multi-AZ?", ("RDS read replicas", "Multi-AZ")),
        ("Compare Amazon EBS and Amazon EFS", ("EBS", "EFS")),
        ("What is the difference between AWS KMS and AWS Certificate Manager (ACM)?", ("KMS", "Certificate Manager (ACM)")),
    ],
)
def test_difference_questions_name_two_services(question: str, names: tuple[str, str]):
    parsed = parse_difference(question, get_catalogue())
    assert parsed is not None and parsed.names == names


@pytest.mark.parametrize(
    "question",
    [
        "How long does SQS keep messages?",
        "What is the difference between a queue and a topic?",  # no two catalogue services
        "SQS vs SQS",  # one service twice
        "Does Kinesis Data Firehose support replay?",
    ],
)
def test_other_questions_are_not_difference_questions(question: str):
    assert parse_difference(question, get_catalogue()) is None


def _cell(service: str, aspect: str, value: str, line: int | None, status: str = "found") -> Cell:
    citations = [CellCitation(file="n.md", start_line=line, end_line=line, quote=value, id=f"c{line}")] if line else []
    return Cell(service=service, aspect=aspect, value=value, status=status if line else "not_in_notes", citations=citations)


def test_the_answer_cites_both_sides_where_they_differ():
    table = ComparisonTable(
        services=["ALB", "NLB"],
        aspects=["OSI layer", "health checks", "static IP"],
        cells=[
            _cell("ALB", "OSI layer", "Layer 7", 3),
            _cell("NLB", "OSI layer", "Layer 4", 9),
            _cell("ALB", "health checks", "yes", 4),
            _cell("NLB", "health checks", "yes", 10),
            _cell("ALB", "static IP", "not in notes", None),
            _cell("NLB", "static IP", "one static IP per AZ", 11),
        ],
    )
    answer = difference_answer("ALB vs NLB?", table, [])
    assert not answer.abstained and answer.comparison == table
    lines = answer.answer.split("\n")
    assert lines[0] == "OSI layer: ALB: Layer 7 [1] | NLB: Layer 4 [2]"  # both stated: first
    assert lines[1] == "Static IP: ALB: not in your notes | NLB: one static IP per AZ [3]"
    assert all("health checks" not in line.lower() for line in lines)  # the same on both sides tells nothing
    assert [(c.n, c.start_line) for c in answer.citations] == [(1, 3), (2, 9), (3, 11)]


def test_no_stated_difference_abstains_with_the_table():
    table = ComparisonTable(
        services=["A", "B"], aspects=["x"], cells=[_cell("A", "x", "not in notes", None), _cell("B", "x", "not in notes", None)]
    )
    answer = difference_answer("A vs B?", table, [])
    assert answer.abstained and answer.comparison == table and not answer.citations


def test_one_aspect_stated_of_both_sides_is_enough_to_answer_and_one_side_alone_is_not():
    # Route 53's routing policies: the notes define each, and say little more of Simple routing
    defined = [
        _cell("Simple routing", "what it is", "routes traffic to a single resource", 1382),
        _cell("Weighted routing", "what it is", "controls the percentage of requests to each resource", 1396),
        _cell("Simple routing", "use case", "not in notes", None),
        _cell("Weighted routing", "use case", "load balancing between regions", 1407),
    ]
    table = ComparisonTable(services=["Simple routing", "Weighted routing"], aspects=["what it is", "use case"], cells=defined)
    answer = difference_answer("Simple routing vs Weighted routing?", table, [])
    assert not answer.abstained
    assert [c.start_line for c in answer.citations] == [1382, 1396, 1407]
    one_sided = ComparisonTable(services=table.services, aspects=["use case"], cells=defined[2:])
    assert difference_answer("Simple routing vs Weighted routing?", one_sided, []).abstained


def test_a_difference_question_may_name_its_one_aspect():
    parsed = parse_difference("What is the difference between SQS and SNS in terms of message retention?", get_catalogue())
    assert parsed is not None and parsed.names == ("SQS", "SNS") and parsed.aspect == "message retention"
    assert parse_difference("Should I use SQS or SNS for fan-out?", get_catalogue()).aspect is None
