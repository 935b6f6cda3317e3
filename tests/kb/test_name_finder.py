"""The finder of catalogue names in text (kb/name_finder.py), on its own and through the shipped catalogue."""

import pytest

from kb.catalogue import get_catalogue
from kb.name_finder import NameFinder


def _found(finder: NameFinder, text: str) -> list[str]:
    return [text[start:end] for start, end in finder.spans(text)]


def test_words_may_be_joined_by_any_run_of_spaces_and_underscores_or_none():
    finder = NameFinder([("direct connect", False)])
    assert _found(finder, "Direct Connect, direct__connect and DirectConnect") == [
        "Direct Connect", "direct__connect", "DirectConnect",
    ]


def test_a_prefix_and_a_plural_belong_to_the_name_and_no_letter_may_touch_it():
    finder = NameFinder([("sqs", False)])
    assert _found(finder, "AWS  SQS queues use amazon SQSs; XSQS and SQSX are other words; _SQS_ is one") == [
        "AWS  SQS", "amazon SQSs", "SQS",
    ]


def test_the_name_listed_first_wins_where_several_fit():
    finder = NameFinder([("kinesis data streams", False), ("kinesis", False)])
    assert _found(finder, "Kinesis Data Streams beside Kinesis Data Firehose") == ["Kinesis Data Streams", "Kinesis"]
    # A longer name that does not fit whole gives way to the next one that does.
    assert _found(finder, "Kinesis Data Streamsx") == ["Kinesis"]


def test_case_sensitive_names_match_only_as_written():
    finder = NameFinder([("SES", True), ("ec2", False)])
    assert _found(finder, "SES sends mail; ses and Ses are words; EC2 and ec2 both count") == ["SES", "EC2", "ec2"]


def test_matches_do_not_overlap_and_the_scan_goes_on_after_each():
    finder = NameFinder([("s3 glacier", False), ("glacier deep archive", False)])
    assert _found(finder, "S3 Glacier Deep Archive") == ["S3 Glacier"]


def test_a_name_starting_with_a_separator_is_refused():
    with pytest.raises(ValueError):
        NameFinder([("_hidden", False)])


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Amazon Simple Queue Service (SQS) vs SNS", ["sqs", "sns"]),
        ("route53 and Route 53 and ROUTE-53", ["route53"]),
        ("X-Ray traces; the pub/sub model", ["xray"]),
        ("an EC2_INSTANCE", ["ec2"]),
        ("EC2_INSTANCE_TYPE", ["ec2-instance-types"]),
    ],
)
def test_the_catalogue_finds_its_services_through_the_finder(text, ids):
    assert get_catalogue().find_in_text(text) == ids
