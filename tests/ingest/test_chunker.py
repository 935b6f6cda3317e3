"""The chunker's pure parts: the words of the bullet a nested line sits under, as the model reads them."""

from __future__ import annotations

from ingest.chunker import bullet_parents


def test_nested_lines_get_the_nearest_less_indented_line_above():
    lines = [
        "## DynamoDB",
        "- Local Secondary Index (LSI):",
        "  - Can ONLY be created when creating a table",
        "",
        "  - Up to 5 per table",
        "    * even deeper",
        "- Global Secondary Index (GSI):",
        "  - Can be added later",
    ]
    parents = bullet_parents(lines, [1, 2, 3, 5, 6, 7, 8], skip=1)
    assert parents == {
        3: "Local Secondary Index (LSI):",
        5: "Local Secondary Index (LSI):",
        6: "Up to 5 per table",
        8: "Global Secondary Index (GSI):",
    }


def test_top_level_lines_and_the_heading_have_no_parent():
    lines = ["Heading", "  indented under the heading only", "plain", "  • child", "\u2022 bullet"]
    parents = bullet_parents(lines, [1, 2, 3, 4, 5], skip=1)
    # Line 2's only less-indented line above is the heading, which the context already holds.
    assert parents == {4: "plain"}


def test_parent_text_is_cleaned_and_cut_to_twenty_words():
    long = "- **Bold** " + " ".join(f"w{i}" for i in range(30))
    parents = bullet_parents([long, "    - child"], [1, 2], skip=None)
    assert parents[2].startswith("Bold w0 w1")
    assert len(parents[2].split()) == 20
