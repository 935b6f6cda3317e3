"""The outline of note lines: indentation, the line a nested one sits under, short labels."""

from __future__ import annotations

import pytest

from kb.outline import indentation, is_link_line, label, mostly_links, parent_lines


def test_indentation_counts_tabs_and_no_break_spaces():
    assert indentation("- top") == 0
    assert indentation("  - two") == 2
    assert indentation("\t- tab") == 4
    assert indentation("\u00a0\u00a0\u00a0child") == 3


def test_a_nested_line_sits_under_the_nearest_less_indented_line_above_it():
    lines = ["# Heading", "  under the heading", "- parent", "  - child", "", "    * grandchild", "  - second child", "next"]
    assert parent_lines(lines, [1, 2, 3, 4, 6, 7, 8], skip=1) == {4: 3, 6: 4, 7: 3}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("- **Local Secondary Index (LSI):**", "Local Secondary Index (LSI)"),
        ("  • Global Secondary Index (GSI):", "Global Secondary Index (GSI)"),
        ("* see [the guide](https://example.com/x) -", "see the guide"),
        ("12. " + " ".join(f"word{i}" for i in range(15)), " ".join(f"word{i}" for i in range(12)) + " …"),
        ("<b>Tagged</b>\tcell", "Tagged cell"),
        ("  {", ""),
        ("- 1, 2", ""),
    ],
)
def test_labels_are_the_words_without_markup(line: str, expected: str):
    assert label(line) == expected


def test_link_lines_and_link_lists():
    assert is_link_line("- [General Guidelines for Secondary Indexes in DynamoDB](https://docs.aws.amazon.com/x)")
    assert is_link_line("<https://aws.amazon.com/sqs/faqs/>")
    assert not is_link_line("Use [DLQs](https://x) when a message fails three times in a row")
    assert not is_link_line("SQS keeps messages 4 days")  # no link at all
    lesson_links = "## Lesson Links\n- [SQS FAQ](https://a)\n- [SNS FAQ](https://b)\nSee also the console"
    assert mostly_links(lesson_links)  # 2 of 4 lines
    assert not mostly_links("## SQS\n- [SQS FAQ](https://a)\nkeeps messages 4 days\nmax 14 days")
    assert not mostly_links("")
