"""Quotable sentences of a note line, and how the sentences of retrieved passages are scored and picked."""

from __future__ import annotations

import pytest

from kb.answer import (
    asked_dimensions, asks_default_and_limit, asks_for_a_quantity, asks_how_to, candidates_from, pick,
    quote_context, says_what_to_do, score_candidates, split_sentences,
)
from kb.models import Hit


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


def _hit(text: str) -> Hit:
    return Hit(id="c1", file="notes.md", start_line=10, end_line=10 + text.count("\n"), service=["dynamodb"],
               heading_path=["DynamoDB", "Indexes"], text=text, score=1.0)


@pytest.mark.parametrize(
    "pointer",
    [
        "- [General Guidelines for Secondary Indexes in DynamoDB](https://docs.aws.amazon.com/amazondynamodb/bp.html)",
        "- <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LSI.html>",
        "LSI:\tGSI:",
        "- **Local Secondary Index (LSI):**",
    ],
)
def test_links_and_labels_lose_to_a_line_that_states_something(pointer: str):
    hit = _hit(f"{pointer}\n- Local secondary index: can only be created with the table")
    candidates = candidates_from([hit])
    # The same dense and word overlap for both: only what a line says may separate them.
    score_candidates(candidates, {("notes.md", c.line, c.part): 0.6 for c in candidates}, "secondary index dynamodb")
    assert pick(candidates, max_sentences=1)[0].line == 11


def test_a_quote_carries_its_heading_and_the_bullet_it_sits_under():
    hit = _hit(
        "## DynamoDB Indexes\n"
        "- **Local Secondary Index (LSI):**\n"
        "  - Can ONLY be created when creating a table\n"
        "- Global Secondary Index (GSI): can be added later"
    )
    hit = hit.model_copy(update={"heading_path": ["DynamoDB", "DynamoDB Indexes"]})
    assert quote_context(hit, 12) == "DynamoDB Indexes › Local Secondary Index (LSI)"
    # A top-level line has only its heading; the heading line is never a parent of itself.
    assert quote_context(hit, 13) == "DynamoDB Indexes"
    assert quote_context(hit, 10) == "DynamoDB Indexes"


def test_a_quote_from_a_slice_of_a_long_line_carries_its_characters():
    from kb.answer import compose

    line = "x" * 5000 + " Retention is 4 days by default. The maximum is 14 days."
    start = 5001
    hit = Hit(id="c9", file="long.md", start_line=3, end_line=3, start_char=start, end_char=len(line), service=["sqs"],
              heading_path=["SQS"], text=line[start:], score=1.0)
    candidates = candidates_from([hit])
    answer = compose("How long?", [c for c in candidates if "14 days" in c.quote], [hit])
    citation = answer.citations[0]
    assert line[citation.start_char:citation.end_char] == citation.quote == "The maximum is 14 days."


@pytest.mark.parametrize(
    ("question", "dimensions"),
    [
        ("What's the longest a single run of the function can last?", ["duration"]),
        ("How far back can I look up API calls?", ["duration"]),
        ("What's the largest object I can upload?", ["size"]),
        ("How much cheaper are Spot Instances?", ["percent"]),
        ("Which service sends email?", []),
    ],
)
def test_the_kind_of_figure_asked_for_is_read_from_the_words_people_use(question: str, dimensions: list[str]):
    assert asked_dimensions(question) == dimensions
    assert asks_for_a_quantity(question) == bool(dimensions)


@pytest.mark.parametrize(
    ("question", "both"),
    [
        ("How long are RDS backups kept by default, and how far can that be extended?", True),
        ("What's the default visibility timeout and how high can I raise it?", True),
        ("Out of the box, what is the retention, and what is the maximum?", True),
        ("Without configuring anything, how far back can I look up API calls?", False),  # one figure: how far back
        ("What is the maximum retention?", False),
    ],
)
def test_a_question_asking_a_default_and_how_far_it_goes_is_read_as_such(question: str, both: bool):
    assert asks_default_and_limit(question) is both



@pytest.mark.parametrize(
    ("with_number", "without", "question"),
    [
        ("- Traffic goes to Route 53 health checkers", "- Traffic goes to the health checkers", "How many health checkers are there?"),
        ("- NLB latency is low as it works on layer 4", "- NLB latency is low as it works on the network layer",
         "How much lower is the latency of NLB?"),
    ],
)
def test_a_number_in_a_name_or_of_another_kind_is_not_the_figure_asked(with_number: str, without: str, question: str):
    # "Route 53" is a name and "layer 4" no latency: the line earns nothing over the same line without them.
    candidates = candidates_from([_hit(f"{with_number}\n{without}")])
    score_candidates(candidates, {("notes.md", c.line, c.part): 0.6 for c in candidates}, question)
    scores = {c.line: c.score for c in candidates}
    assert scores[10] == pytest.approx(scores[11])


@pytest.mark.parametrize(
    ("sentence", "instructs"),
    [
        ("Sort order is ascending, the ScanIndexForward parameter can be set to false to sort in descending order", True),
        ("To force SSL, create an S3 bucket policy with a DENY on the condition", True),
        ("- create the usage plan with the desired throttle and quota limits.", True),
        ("ECR is a private Docker image repository", False),
        ("Enable X-Ray Tracing for API Gateway", False),  # a title heads the steps; it is not one
        ("aws sqs create-queue --queue-name Messages", False),  # a command of some other task
    ],
)
def test_a_sentence_that_says_what_to_do_is_told_from_one_that_says_what_a_thing_is(sentence: str, instructs: bool):
    assert says_what_to_do(sentence) is instructs


def test_a_how_to_question_leads_with_what_to_do():
    question = "How do I make a Query return items newest-first?"
    assert asks_how_to(question) and not asks_how_to("What is a Query?")
    hit = _hit("- Results of a Query are returned in sort key order\n- The ScanIndexForward parameter can be set to false")
    candidates = candidates_from([hit])
    score_candidates(candidates, {("notes.md", c.line, c.part): 0.6 for c in candidates}, question)
    assert pick(candidates, max_sentences=1)[0].line == 11

