"""NotionTextReader on the Notion plain-text export shape: aws-saa-notes.txt, real line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers.notion_text import NotionTextReader, topic_title
from ingest.readers.base import section_problems
from kb.models import Section

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"
SAA = NOTES / "aws-saa-notes.txt"
ALL_NOTES = sorted(NOTES.iterdir())


def assert_contract(sections: list[Section], text: str) -> None:
    assert section_problems(text, sections) == []



@pytest.fixture(scope="module")
def lines() -> list[str]:
    return SAA.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def sections() -> list[Section]:
    return NotionTextReader().sections(SAA.read_text(encoding="utf-8"))


def section_at(sections: list[Section], line: int) -> Section:
    return next(s for s in sections if s.start_line <= line <= s.end_line)


def test_table_of_contents_is_its_own_section(sections: list[Section]) -> None:
    toc = section_at(sections, 9)
    assert (toc.heading_path, toc.start_line, toc.end_line, toc.heading_line) == (["Contents"], 7, 57, None)
    assert section_at(sections, 59).heading_path == ["Section I"]
    assert section_at(sections, 59).heading_line == 59


def test_chapter_lines_are_found_by_the_toc_names(sections: list[Section]) -> None:
    chapters = [(s.heading_line, s.heading_path) for s in sections if s.heading_line and len(s.heading_path) == 2]
    assert len(chapters) == 24
    assert (61, ["Section I", "IAM & CLI"]) in chapters
    assert (1503, ["Section II", "Amazon S3"]) in chapters
    assert (2339, ["Section II", "Decoupling Applications"]) in chapters
    # Section IV's chapters are links in the TOC (52-57) but bare lines in the body.
    assert (4463, ["Section IV", "Networking - VPC"]) in chapters
    assert (5653, ["Section IV", "Other"]) in chapters
    assert [s.heading_line for s in sections if len(s.heading_path) == 1 and s.heading_line] == [59, 1501, 3172, 4161]


def test_toggle_topic_runs_to_the_next_toggle(sections: list[Section]) -> None:
    sqs = section_at(sections, 2342)
    assert sqs.heading_path == ["Section II", "Decoupling Applications", "AWS SQS - Standard Queues"]
    assert (sqs.heading_line, sqs.start_line, sqs.end_line) == (2342, 2342, 2368)
    assert section_at(sections, 2370).heading_line == 2370  # "- ▼ **SQS Message Visibility Timeout.**"
    assert sum(1 for s in sections if len(s.heading_path) == 3) == 267


@pytest.mark.parametrize(
    ("line", "title"),
    [
        (63, "IAM Users, Groups and Policies"),  # "- ▼ **...**"
        (108, "IAM Policies Structure"),  # "▼ **✓ ...**"
        (156, "IAM MFA"),  # plain "▼ IAM MFA."
        (258, "EC2 Instance Types"),  # double space after ▼
        (440, "AMI"),  # period outside the bold: "▼ **AMI**."
        (2858, "Edge Functions"),  # checkbox "▼ □"
        (3057, "AWS Step Functions Map State"),  # checkbox, bold, no period
    ],
)
def test_topic_titles_are_cleaned(sections: list[Section], lines: list[str], line: int, title: str) -> None:
    assert topic_title(lines[line - 1]) == title
    assert section_at(sections, line).heading_path[-1] == title


def test_table_row_that_starts_with_hash_is_not_a_heading(sections: list[Section], lines: list[str]) -> None:
    assert lines[2887].startswith("# of Requests\t")
    table = section_at(sections, 2888)
    assert table.heading_line != 2888
    assert table.start_line <= 2886 and table.end_line >= 2895


def test_no_tab_table_is_split_across_sections(sections: list[Section], lines: list[str]) -> None:
    blocks: list[tuple[int, int]] = []
    for number, line in enumerate(lines, 1):
        if "\t" in line:
            if blocks and blocks[-1][1] == number - 1:
                blocks[-1] = (blocks[-1][0], number)
            else:
                blocks.append((number, number))
    assert len(blocks) == 31
    for first, last in blocks:
        assert section_at(sections, first) == section_at(sections, last), (first, last)


def test_ui_leftover_toggle_is_kept_as_a_small_topic(sections: list[Section]) -> None:
    lambda_env = section_at(sections, 4221)
    assert (lambda_env.heading_line, lambda_env.end_line) == (4212, 4221)
    assert section_at(sections, 4223).heading_path[-1] == "Encryption configuration"


def test_file_end_is_covered(sections: list[Section], lines: list[str]) -> None:
    # FORMATS.md says the file ends at 5681 "EBS"; two more lines follow it (5683 has no newline).
    assert len(lines) == 5683
    last = sections[-1]
    assert (last.heading_line, last.end_line) == (5669, 5683)
    assert last.heading_path == ["Section IV", "Other", "Instantiating Applications Quickly"]


def test_without_a_toc_parts_and_toggles_still_make_sections() -> None:
    text = "Section I\n\nOther\n\n▼ **One.**\nfact\n▼ Two.\nfact\n- ▼ Three\nfact\n"
    sections = NotionTextReader().sections(text)
    assert [(s.start_line, s.heading_path) for s in sections] == [
        (1, ["Section I"]),
        (5, ["Section I", "One"]),
        (7, ["Section I", "Two"]),
        (9, ["Section I", "Three"]),
    ]


def test_toc_names_are_matched_in_order_only() -> None:
    # The TOC lists IAM, EC2, Other: a stray "Other" line inside the IAM chapter is not the Other chapter.
    toc = "Section I\n\nIAM\n\nEC2\n\nOther\n\n"
    body = "Section I\n\nIAM\n\n▼ A.\n\nOther\n\nEC2\n\n▼ B.\n\nOther\n\n▼ C.\n"
    sections = NotionTextReader().sections(toc + body)
    chapters = [(s.heading_line, s.heading_path[-1]) for s in sections if len(s.heading_path) == 2]
    assert chapters == [(11, "IAM"), (17, "EC2"), (21, "Other")]
    assert section_at(sections, 15).heading_path == ["Section I", "IAM", "A"]


def test_empty_text_has_no_sections() -> None:
    assert NotionTextReader().sections("") == []


@pytest.mark.parametrize("path", ALL_NOTES, ids=lambda p: p.name)
def test_can_read_only_the_notion_shape(path: Path) -> None:
    assert NotionTextReader().can_read(path, path.read_text(encoding="utf-8")) == (path == SAA)


@pytest.mark.parametrize("path", ALL_NOTES, ids=lambda p: p.name)
def test_section_contract(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert_contract(NotionTextReader().sections(text), text)
