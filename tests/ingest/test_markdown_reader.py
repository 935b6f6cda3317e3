"""MarkdownReader on the generic markdown shape (aws-developer-notes.md) and on small inline notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers.markdown import MarkdownReader
from ingest.readers.base import section_problems
from kb.models import Section

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"
DEVELOPER_NOTES = NOTES / "aws-developer-notes.md"
NOTE_FILES = sorted(NOTES.iterdir())


def assert_reader_contract(text: str, sections: list[Section]) -> None:
    assert section_problems(text, sections) == []



@pytest.fixture(scope="module")
def developer_sections() -> list[Section]:
    return MarkdownReader().sections(DEVELOPER_NOTES.read_text(encoding="utf-8"))


def by_heading_line(sections: list[Section]) -> dict[int, Section]:
    return {section.heading_line: section for section in sections if section.heading_line is not None}


def test_developer_notes_meet_the_reader_contract(developer_sections: list[Section]) -> None:
    assert_reader_contract(DEVELOPER_NOTES.read_text(encoding="utf-8"), developer_sections)


def test_first_h2_starts_at_its_heading_line_after_the_blank_lines_1_2(developer_sections: list[Section]) -> None:
    first = developer_sections[0]
    assert (first.start_line, first.heading_line, first.heading_path) == (3, 3, ["Domains"])


def test_multi_service_heading_1253_keeps_its_whole_title(developer_sections: list[Section]) -> None:
    section = by_heading_line(developer_sections)[1253]
    assert section.heading_path == ["SQS, SNS, Kinesis"]
    assert section.text.startswith("## SQS, SNS, Kinesis:")


@pytest.mark.parametrize(
    ("line", "path"),
    [(953, ["ECS, ECR and Fargate"]), (1010, ["AWS Elastic Beanstalk"]), (1956, ["AWS CodeStar"])],
)
def test_bold_wrapped_h2_has_a_clean_title(developer_sections: list[Section], line: int, path: list[str]) -> None:
    assert by_heading_line(developer_sections)[line].heading_path == path


def test_link_heading_58_skips_h3_and_loses_its_link_syntax(developer_sections: list[Section]) -> None:
    assert by_heading_line(developer_sections)[58].heading_path == ["IAM and EC2", "IAM best practices"]


def test_h3_1966_nests_under_the_bold_h2_1956(developer_sections: list[Section]) -> None:
    assert by_heading_line(developer_sections)[1966].heading_path == ["AWS CodeStar", "Whitepapers"]


@pytest.mark.parametrize(
    ("line", "label", "parent"),
    [
        (1158, "CloudWatch", ["CloudWatch, X-Ray, CloudTrail"]),
        (1165, "X-Ray", ["CloudWatch, X-Ray, CloudTrail"]),
        (1170, "CloudTrail", ["CloudWatch, X-Ray, CloudTrail"]),
        (943, "CloudFront Signed URL", ["AWS CloudFront"]),
        (1886, "Secrets manager", ["AWS security and encryption"]),
        (1906, "SSM Parameter Store", ["AWS security and encryption"]),
    ],
)
def test_colon_label_lines_are_sub_sections_of_the_real_heading(
    developer_sections: list[Section], line: int, label: str, parent: list[str]
) -> None:
    section = by_heading_line(developer_sections)[line]
    assert section.heading_path == parent + [label]


def test_label_1158_runs_until_the_next_label_1165(developer_sections: list[Section]) -> None:
    section = by_heading_line(developer_sections)[1158]
    assert (section.start_line, section.end_line) == (1158, 1164)


def test_hash_comment_lines_inside_fences_are_not_headings() -> None:
    text = "# Real\n\n```\n# not a heading\n```\n\nafter the fence"
    sections = MarkdownReader().sections(text)
    assert [(section.heading_line, section.heading_path) for section in sections] == [(1, ["Real"])]


def test_empty_text_has_no_sections() -> None:
    assert MarkdownReader().sections("") == []


def test_text_without_headings_is_one_section_with_an_empty_path() -> None:
    text = "first line\n\nsecond line\n"
    sections = MarkdownReader().sections(text)
    assert [(section.heading_path, section.start_line, section.end_line) for section in sections] == [([], 1, 3)]
    assert sections[0].heading_line is None


def test_lines_before_the_first_heading_form_a_section_only_when_they_hold_content() -> None:
    assert [s.heading_path for s in MarkdownReader().sections("intro\n# A\nbody")] == [[], ["A"]]
    assert [s.heading_path for s in MarkdownReader().sections("\n\n# A\nbody")] == [["A"]]


def test_heading_of_only_an_image_belongs_to_the_enclosing_section() -> None:
    text = "# Top\ntext\n### ![shot](pic.png)\nmore"
    sections = MarkdownReader().sections(text)
    assert [(s.heading_path, s.start_line, s.end_line) for s in sections] == [(["Top"], 1, 4)]


def test_heading_path_pops_same_and_deeper_levels_and_keeps_skipped_ones() -> None:
    text = "# A\n### B\n## C\n#### D\n# E"
    paths = [section.heading_path for section in MarkdownReader().sections(text)]
    assert paths == [["A"], ["A", "B"], ["A", "C"], ["A", "C", "D"], ["E"]]


def test_long_or_bulleted_colon_lines_are_not_labels() -> None:
    text = "# A\n\nthis line is far too long to be a sub topic label:\n\n- bullet:\n\n    indented:\n"
    assert [section.heading_path for section in MarkdownReader().sections(text)] == [["A"]]


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda path: path.name)
def test_can_read_only_files_with_real_atx_headings(path: Path) -> None:
    # aws-saa-notes.txt 2888 `# of Requests<TAB>...` is a table row, not a heading; the HTML-headed file has none.
    expected = path.name in {"aws-developer-notes.md", "aws-architect-notes.md"}
    assert MarkdownReader().can_read(path, path.read_text(encoding="utf-8")) is expected
