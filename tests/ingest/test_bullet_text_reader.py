"""BulletTextReader on the "•"-bullet plain-text shape: aws-developer-course.txt, real line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers.bullet_text import BulletTextReader
from ingest.readers.base import section_problems
from kb.models import Section

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"
COURSE = NOTES / "aws-developer-course.txt"
ALL_NOTES = sorted(NOTES.iterdir())


def assert_contract(sections: list[Section], text: str) -> None:
    assert section_problems(text, sections) == []



@pytest.fixture(scope="module")
def sections() -> list[Section]:
    return BulletTextReader().sections(COURSE.read_text(encoding="utf-8"))


def section_at(sections: list[Section], line: int) -> Section:
    return next(s for s in sections if s.start_line <= line <= s.end_line)


def heading_lines(sections: list[Section]) -> set[int]:
    return {s.heading_line for s in sections if s.heading_line is not None}


def test_abbreviation_headings_are_service_level(sections: list[Section]) -> None:
    assert section_at(sections, 3).heading_path == ["IAM: Identity and Access Management"]
    assert section_at(sections, 501).heading_path == ["RDS: Relational Database Service"]
    assert section_at(sections, 501).heading_line == 501
    assert section_at(sections, 626).heading_path == ["VPC: Virtual Private Cloud"]


def test_sub_headings_sit_under_their_service(sections: list[Section]) -> None:
    backups = section_at(sections, 543)
    assert (backups.heading_line, backups.heading_path) == (543, ["RDS: Relational Database Service", "RDS Backups"])
    assert section_at(sections, 678).heading_path == ["S3 Buckets", "AWS S3 - Versioning"]
    assert section_at(sections, 1061).heading_path == ["CloudFormation", "CF Outputs"]
    assert section_at(sections, 1425).heading_path == ["AWS Lambda", "Lambda – Synchronous Invocations"]
    assert section_at(sections, 49).heading_path == ["IAM: Identity and Access Management", "Best practices"]


def test_bare_service_names_are_service_level(sections: list[Section]) -> None:
    assert section_at(sections, 1400).heading_path == ["AWS Lambda"]
    assert section_at(sections, 1244).heading_path == ["DynamoDB (No-SQL)"]
    assert section_at(sections, 1244).heading_line == 1244
    # 1270 never names DynamoDB, but it is DynamoDB material.
    assert section_at(sections, 1300).heading_path == ["DynamoDB (No-SQL)", "Developer Associate Specific Topics"]
    assert section_at(sections, 1696).heading_path == ["ECS", "Docker"]


def test_heading_back_on_an_earlier_service_returns_under_it(sections: list[Section]) -> None:
    # 208 follows the AMI headings (180-206) but is EC2 again; 1758 follows ECR and Fargate.
    assert section_at(sections, 208).heading_path == ["EC2: Virtual Machines", "EC2 Instances Overview"]
    assert section_at(sections, 1758).heading_path == ["ECS", "ECS Task Placement Process"]


def test_sentence_that_heads_a_block_is_a_heading(sections: list[Section]) -> None:
    alarms = section_at(sections, 1200)
    assert alarms.heading_line == 1200
    assert (alarms.start_line, alarms.end_line) == (1200, 1210)
    assert alarms.heading_path == ["CloudWatch", "Alarms are used to trigger notifications for any metric"]


@pytest.mark.parametrize("line", [5, 60, 65, 238, 251, 273, 476, 503, 505, 585, 630, 855, 933, 957, 1136])
def test_prose_and_list_lead_ins_are_not_headings(sections: list[Section], line: int) -> None:
    assert line not in heading_lines(sections)


def test_two_heading_lines_in_a_row(sections: list[Section]) -> None:
    assert {1018, 1020, 1021} <= heading_lines(sections)
    assert section_at(sections, 1020).end_line == 1020
    assert section_at(sections, 1024).heading_path == ["CloudFormation", "FAQ for resources"]


def test_blank_separated_children_stay_with_their_parent_bullet(sections: list[Section]) -> None:
    policy_types = section_at(sections, 20)
    assert (policy_types.start_line, policy_types.end_line) == (20, 39)


def test_heading_glued_into_a_bullet_stays_in_that_bullet(sections: list[Section]) -> None:
    assert {220, 596}.isdisjoint(heading_lines(sections))
    assert section_at(sections, 596).heading_line == 592


def test_last_line_is_covered(sections: list[Section]) -> None:
    lines = COURSE.read_text(encoding="utf-8").splitlines()
    assert sections[-1].end_line == len(lines) == 1785


def test_small_inline_note() -> None:
    text = "SQS: Simple Queue Service\n\nQueues decouple producers from consumers.\n\nSQS Limits\n\n  • 256 KB\n"
    sections = BulletTextReader().sections(text)
    assert [(s.start_line, s.end_line, s.heading_path) for s in sections] == [
        (1, 3, ["SQS: Simple Queue Service"]),
        (5, 7, ["SQS: Simple Queue Service", "SQS Limits"]),
    ]


def test_empty_text_has_no_sections() -> None:
    assert BulletTextReader().sections("") == []


@pytest.mark.parametrize("path", ALL_NOTES, ids=lambda p: p.name)
def test_can_read_only_the_bullet_text_shape(path: Path) -> None:
    assert BulletTextReader().can_read(path, path.read_text(encoding="utf-8")) == (path == COURSE)


@pytest.mark.parametrize("path", ALL_NOTES, ids=lambda p: p.name)
def test_section_contract(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert_contract(BulletTextReader().sections(text), text)
