"""PlainTextReader, the fallback for any shape: inline notes and all five shipped files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers.plain import PlainTextReader
from ingest.readers.base import section_problems
from kb.models import Section

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"
ALL_NOTES = sorted(NOTES.iterdir())


def assert_contract(sections: list[Section], text: str) -> None:
    assert section_problems(text, sections) == []



def spans(text: str) -> list[tuple[int, int, int | None, list[str]]]:
    return [(s.start_line, s.end_line, s.heading_line, s.heading_path) for s in PlainTextReader().sections(text)]


def test_short_line_before_a_blank_and_more_text_is_a_heading() -> None:
    text = (
        "My notes on queues\nwritten in a hurry.\n\n"
        "SQS basics\n\nMessages live 4 days.\nUp to 14 days.\n\n\n"
        "Limits\n\n256 KB\n"
    )
    assert spans(text) == [
        (1, 2, None, []),
        (4, 7, 4, ["SQS basics"]),
        (10, 12, 10, ["Limits"]),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Queues are managed.\n\nMore text here\n",  # final period: a sentence
        "one two three four five six seven eight nine\n\nMore text\n",  # more than eight words
        "- a list item\n\nMore text\n",  # list item
        "Service\tPort\n\nMore text\n",  # table row
        "Line one\nLine two\n\nMore text\n",  # last line of a longer paragraph
        "Intro\n\n   \n",  # nothing follows but blank lines
    ],
)
def test_lines_that_are_not_headings(text: str) -> None:
    assert all(s.heading_line is None for s in PlainTextReader().sections(text))


def test_text_without_headings_is_one_section() -> None:
    text = "\n\nFirst paragraph, long enough to be prose.\n\nSecond paragraph, also prose.\n\n"
    assert spans(text) == [(3, 5, None, [])]


def test_shipped_notes_read_as_plain() -> None:
    course = (NOTES / "aws-developer-course.txt").read_text(encoding="utf-8")
    sections = PlainTextReader().sections(course)
    iam = next(s for s in sections if s.heading_line == 3)
    assert (iam.heading_path, iam.end_line) == (["IAM: Identity and Access Management"], 10)
    saa = (NOTES / "aws-saa-notes.txt").read_text(encoding="utf-8")
    # 2888 "# of Requests\t..." is a table row, not a heading, even to the fallback.
    assert 2888 not in {s.heading_line for s in PlainTextReader().sections(saa)}


def test_empty_text_has_no_sections() -> None:
    assert PlainTextReader().sections("") == []
    assert PlainTextReader().sections("\n\n \n") == []


@pytest.mark.parametrize("path", ALL_NOTES, ids=lambda p: p.name)
def test_can_read_everything(path: Path) -> None:
    assert PlainTextReader().can_read(path, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", ALL_NOTES, ids=lambda p: p.name)
def test_section_contract(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert_contract(PlainTextReader().sections(text), text)
