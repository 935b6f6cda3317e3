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


def test_wikilinks_embeds_and_callouts_read_as_their_text():
    from ingest.chunker import clean_for_embedding

    assert clean_for_embedding("See [[S3 Glacier]] and [[Instance Store|ephemeral disks]].") == "See S3 Glacier and ephemeral disks."
    assert clean_for_embedding("![[diagram.png]] [[EC2#Pricing|EC2 prices]] [[SQS#Retention]]") == "diagram.png EC2 prices SQS"
    assert clean_for_embedding("> [!warning]- Exam trap") == "> Warning: Exam trap"


def test_file_title_leads_with_folders_and_takes_the_front_matter_title():
    from ingest.chunker import file_title

    assert file_title("aws-developer-notes.md") == "AWS developer notes"
    assert file_title("AWS/sub/storage-notes.md") == "AWS > sub > storage notes"
    assert file_title("AWS/sub/x.md", "Storage on AWS") == "AWS > sub > Storage on AWS"


def test_a_long_line_is_cut_at_sentence_ends_into_exact_slices():
    from ingest.chunker import line_slices

    line = "  " + " ".join(f"Sentence {i} says something about SQS." for i in range(40)) + "   "
    words = lambda text: len(text.split())  # noqa: E731
    spans = line_slices(line, words, 30)
    assert len(spans) > 5
    for start, end in spans:
        piece = line[start:end]
        assert piece == piece.strip() and piece.startswith("Sentence") and piece.endswith("SQS.")
        assert words(piece) <= 30
    assert " ".join(line[s:e] for s, e in spans).split() == line.split()


def test_a_sentence_longer_than_the_budget_is_cut_between_words():
    from ingest.chunker import line_slices

    line = " ".join(f"w{i}" for i in range(100))
    spans = line_slices(line, lambda text: len(text.split()), 30)
    assert [len(line[s:e].split()) for s, e in spans] == [30, 30, 30, 10]


def test_chunk_ids_come_from_the_file_the_text_and_the_occurrence():
    from ingest.chunker import chunk_id

    assert chunk_id("a.md", "SQS keeps 4 days") == chunk_id("a.md", "SQS keeps 4 days", 0)
    assert len({chunk_id("a.md", "x"), chunk_id("a.md", "x", 1), chunk_id("b.md", "x"), chunk_id("a.md", "y")}) == 4
