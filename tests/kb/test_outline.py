"""The outline of note lines: indentation, the line a nested one sits under, short labels."""

from __future__ import annotations

import pytest

from kb.outline import indentation, label, parent_lines


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
