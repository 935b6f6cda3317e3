"""TyporaReader on the Typora export shape (aws-architect-notes.md): [TOC], local images, broken fences."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers.typora import TyporaReader
from ingest.readers.base import section_problems
from kb.models import Section

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"
ARCHITECT_NOTES = NOTES / "aws-architect-notes.md"
NOTE_FILES = sorted(NOTES.iterdir())


def assert_reader_contract(text: str, sections: list[Section]) -> None:
    assert section_problems(text, sections) == []



@pytest.fixture(scope="module")
def architect_sections() -> list[Section]:
    return TyporaReader().sections(ARCHITECT_NOTES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def heading_lines(architect_sections: list[Section]) -> set[int]:
    return {section.heading_line for section in architect_sections if section.heading_line is not None}


def section_at(sections: list[Section], line: int) -> Section:
    return next(section for section in sections if section.start_line <= line <= section.end_line)


def test_architect_notes_meet_the_reader_contract(architect_sections: list[Section]) -> None:
    assert_reader_contract(ARCHITECT_NOTES.read_text(encoding="utf-8"), architect_sections)


def test_toc_line_1_is_an_unheaded_section(architect_sections: list[Section]) -> None:
    first = architect_sections[0]
    assert (first.start_line, first.heading_line, first.heading_path, first.text) == (1, None, [], "[TOC]\n")


def test_heading_count_matches_a_commonmark_parse_without_the_image_heading(heading_lines: set[int]) -> None:
    # FORMATS.md counts 599 ATX headings outside code; 1543 holds only an image and is not a section heading.
    assert len(heading_lines) == 598


def test_h1_service_heading_691(architect_sections: list[Section]) -> None:
    assert section_at(architect_sections, 691).heading_path == ["AWS SQS"]


def test_leading_space_h1_3496_is_a_heading(architect_sections: list[Section]) -> None:
    section = section_at(architect_sections, 3496)
    assert (section.heading_line, section.heading_path) == (3496, ["Container-Based Compute and Microservices"])


def test_heading_with_a_trailing_tab_786_has_a_clean_title(architect_sections: list[Section]) -> None:
    section = section_at(architect_sections, 786)
    assert section.heading_line == 786 and section.heading_path[-1] == "Lesson Links"


def test_h6_2538_under_h4_2534_skips_level_five(architect_sections: list[Section]) -> None:
    assert section_at(architect_sections, 2538).heading_path[-2:] == [
        "Final Solution (But where is still issue?)",
        "Cost Consideration",
    ]


def test_image_only_heading_1543_stays_in_the_enclosing_section(architect_sections: list[Section]) -> None:
    section = section_at(architect_sections, 1543)
    assert section.heading_line != 1543 and section.start_line < 1543
    assert section.heading_path == ["Elasticity and Scaling EC2", "Auto Scaling"]


@pytest.mark.parametrize("line", [86, 736, 739, 755, 762, 765, 768, 5307, 5317, 5634, 6024, 6027, 6051, 6061])
def test_hash_lines_inside_code_fences_are_not_headings(heading_lines: set[int], line: int) -> None:
    assert line not in heading_lines


@pytest.mark.parametrize("line", [4780, 4849, 4910, 4915, 4935, 4964])
def test_headings_swallowed_by_mis_paired_fences_are_code(heading_lines: set[int], line: int) -> None:
    assert line not in heading_lines


def test_fence_block_4908_4971_stays_in_the_section_of_the_heading_before_it(architect_sections: list[Section]) -> None:
    section = section_at(architect_sections, 4910)
    assert section.start_line < 4908 and section.end_line >= 4971
    assert section.heading_path[-1] == "Validate the Configuration"


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda path: path.name)
def test_can_read_only_the_typora_export(path: Path) -> None:
    expected = path.name == "aws-architect-notes.md"
    assert TyporaReader().can_read(path, path.read_text(encoding="utf-8")) is expected


def test_can_read_three_local_windows_images_without_a_toc() -> None:
    image = "![1604549225642](C:\\Users\\me\\typora-user-images\\1604549225642.png)"
    assert TyporaReader().can_read(Path("n.md"), f"# A\n{image}\n{image}\n{image}\n")
    assert not TyporaReader().can_read(Path("n.md"), f"# A\n{image}\n![web](https://x/y.png)\n")
