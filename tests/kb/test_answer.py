"""Quotable sentences of a note line: verbatim pieces of it, without bullets or stray markup."""

from __future__ import annotations

import pytest

from kb.answer import split_sentences


@pytest.mark.parametrize(
    ("line", "sentences"),
    [
        (
            "- **Automated snapshots** - every 8h, every 5GB or on a schedule. Need to set retention period.",
            ["**Automated snapshots** - every 8h, every 5GB or on a schedule.", "Need to set retention period."],
        ),
        ("* **bold** start of a bullet", ["**bold** start of a bullet"]),
        ("**A whole line in bold**", ["A whole line in bold"]),
        ("▼ Toggle title of a Notion export", ["Toggle title of a Notion export"]),
        ("12. numbered item text", ["numbered item text"]),
        ("<br/>", []),
        ("", []),
    ],
)
def test_sentences_are_verbatim_and_keep_bold_markers_paired(line: str, sentences: list[str]):
    found = split_sentences(line)
    assert found == sentences
    assert all(s in line for s in found)
    assert all(s.count("**") % 2 == 0 for s in found)
