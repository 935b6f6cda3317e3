"""HtmlMarkdownReader on the HTML-headed markdown shape (aws-advanced-topics.md): <hN> lines, bold and bullets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers.html_markdown import HtmlMarkdownReader
from ingest.readers.base import section_problems
from kb.models import Section

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"
ADVANCED_TOPICS = NOTES / "aws-advanced-topics.md"
NOTE_FILES = sorted(NOTES.iterdir())


def assert_reader_contract(text: str, sections: list[Section]) -> None:
    assert section_problems(text, sections) == []



@pytest.fixture(scope="module")
def advanced_text() -> str:
    return ADVANCED_TOPICS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def advanced_sections(advanced_text: str) -> list[Section]:
    return HtmlMarkdownReader().sections(advanced_text)


def by_heading_line(sections: list[Section]) -> dict[int, Section]:
    return {section.heading_line: section for section in sections if section.heading_line is not None}


def section_at(sections: list[Section], line: int) -> Section:
    return next(section for section in sections if section.start_line <= line <= section.end_line)


def test_advanced_topics_meet_the_reader_contract(advanced_text: str, advanced_sections: list[Section]) -> None:
    assert_reader_contract(advanced_text, advanced_sections)


def test_last_line_460_without_a_newline_is_in_the_last_section(
    advanced_text: str, advanced_sections: list[Section]
) -> None:
    assert len(advanced_text.splitlines()) == 460
    assert advanced_sections[-1].end_line == 460
    assert advanced_sections[-1].text.endswith("* Use pre-built templates that generate the desired disruptions")


def test_h3_contents_3_nests_under_h1_and_is_popped_by_the_h2_at_30(advanced_sections: list[Section]) -> None:
    headed = by_heading_line(advanced_sections)
    assert headed[1].heading_path == ["AWS Notes"]
    assert headed[3].heading_path == ["AWS Notes", "Contents"]
    assert headed[30].heading_path == ["AWS Notes", "Other Serverless"]


def test_html_headings_are_not_swallowed_by_commonmark_html_blocks(advanced_sections: list[Section]) -> None:
    headed = by_heading_line(advanced_sections)
    assert {100, 186, 404} <= headed.keys()
    assert section_at(advanced_sections, 60).end_line < 98


@pytest.mark.parametrize(
    ("line", "title"),
    [(31, "AWS Step Functions"), (405, "AWS SES - Simple Email Service"), (433, "AWS Certificate Manager (ACM)")],
)
def test_bold_lines_are_pseudo_headings_under_the_html_heading(
    advanced_sections: list[Section], line: int, title: str
) -> None:
    section = by_heading_line(advanced_sections)[line]
    assert section.heading_path[-1] == title
    assert len(section.heading_path) == 3


@pytest.mark.parametrize(
    ("line", "path_tail"),
    [
        (80, ["AWS Step Functions", "AppSync"]),
        (101, ["Advanced Identity", "STS"]),
        (203, ["AWS Security", "AWS KMS (Key Management Service)"]),
    ],
)
def test_short_top_level_bullets_with_children_are_sub_sections(
    advanced_sections: list[Section], line: int, path_tail: list[str]
) -> None:
    assert by_heading_line(advanced_sections)[line].heading_path[-2:] == path_tail


@pytest.mark.parametrize(
    ("line", "title"),
    [
        (307, "S3 Encryption for Objects"),
        # The file writes "SSM parameter store"; titles keep the note's own words.
        (350, "SSM parameter store"),
        (367, "AWS Secrets Manager"),
        (374, "SSM parameter store vs secrets manager"),
        (387, "CloudWatch Logs - encryption"),
        (395, "CodeBuild security"),
    ],
)
def test_second_level_bullets_under_kms_203_are_sub_sub_sections(
    advanced_sections: list[Section], line: int, title: str
) -> None:
    assert by_heading_line(advanced_sections)[line].heading_path == [
        "AWS Notes",
        "AWS Security",
        "AWS KMS (Key Management Service)",
        title,
    ]


def test_ssm_parameter_store_350_runs_until_secrets_manager_367(advanced_sections: list[Section]) -> None:
    section = by_heading_line(advanced_sections)[350]
    assert (section.start_line, section.end_line) == (350, 366)


def test_long_top_level_bullet_153_returns_to_the_h2_section(advanced_sections: list[Section]) -> None:
    section = section_at(advanced_sections, 153)
    assert (section.start_line, section.heading_line, section.heading_path) == (153, None, ["AWS Notes", "Advanced Identity"])


@pytest.mark.parametrize(("lazy_line", "bullet_line"), [(141, 140), (331, 330), (448, 447), (457, 455)])
def test_lazy_continuation_lines_stay_with_their_bullet(
    advanced_sections: list[Section], lazy_line: int, bullet_line: int
) -> None:
    assert section_at(advanced_sections, lazy_line) == section_at(advanced_sections, bullet_line)


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda path: path.name)
def test_can_read_only_the_html_headed_file(path: Path) -> None:
    expected = path.name == "aws-advanced-topics.md"
    assert HtmlMarkdownReader().can_read(path, path.read_text(encoding="utf-8")) is expected


def test_cannot_read_markdown_that_also_has_atx_headings() -> None:
    assert not HtmlMarkdownReader().can_read(Path("n.md"), "<h1>A</h1>\n<h2>B</h2>\n# C\n")
    assert HtmlMarkdownReader().can_read(Path("n.md"), "<h1>A</h1>\n<h2>B</h2>\n```\n# comment\n```\n")


def test_empty_text_has_no_sections() -> None:
    assert HtmlMarkdownReader().sections("") == []
