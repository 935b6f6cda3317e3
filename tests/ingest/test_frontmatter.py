"""Front matter (YAML `---` or TOML `+++`) at the top of a markdown note: metadata with its line span."""

from __future__ import annotations

from ingest.frontmatter import parse_front_matter


def test_yaml_front_matter_gives_title_tags_and_its_last_line() -> None:
    lines = ["---", "title: Storage on AWS", "tags: [aws, '#storage', s3]", "author: Zoë", "---", "", "# S3"]
    front = parse_front_matter(lines)
    assert (front.end_line, front.title, front.tags, front.problem) == (5, "Storage on AWS", ["aws", "storage", "s3"], None)


def test_toml_front_matter_and_tags_as_a_string() -> None:
    lines = ["+++", 'title = "Queues"', 'tags = "sqs, sns #messaging"', "+++", "body"]
    front = parse_front_matter(lines)
    assert (front.end_line, front.title, front.tags) == (4, "Queues", ["sqs", "sns", "messaging"])


def test_yaml_may_close_with_dots_and_have_no_title() -> None:
    front = parse_front_matter(["---", "tags:", "  - exam", "...", "text"])
    assert (front.end_line, front.title, front.tags) == (4, None, ["exam"])


def test_a_horizontal_rule_pair_is_not_front_matter() -> None:
    lines = ["---", "Just a paragraph between two rules.", "---", "more"]
    assert parse_front_matter(lines).end_line == 0  # parses to a string, not a mapping
    assert parse_front_matter(["# Title", "---", "a: b", "---"]).end_line == 0
    assert parse_front_matter(["---", "a: b", "no closing fence"]).end_line == 0


def test_front_matter_that_does_not_parse_stays_text_and_says_why() -> None:
    front = parse_front_matter(["---", "title: [unclosed", "tags: a", "---", "body"])
    assert front.end_line == 0 and "lines 1-4 look like YAML front matter but do not parse" in front.problem
