"""Conflicts stated without figures (kb/evidence/claims.py): one against several, on by default against opt-in."""

from __future__ import annotations

from kb.evidence.claims import default_against_opt_in, destinations_differ, opt_in_clause, single_against_many


def test_only_one_against_several_of_the_same_thing_conflicts():
    conflict = single_against_many({
        "course.txt": ["EBS can be attached to only one instance at a time"],
        "saa.txt": ["Multi-Attach lets us attach the same EBS volume to multiple EC2 instances in the same AZ."],
    })
    assert conflict is not None and (conflict.file_a, conflict.file_b) == ("course.txt", "saa.txt")
    assert "only one instance" in conflict.reason and "multiple EC2 instances" in conflict.reason
    by_count = single_against_many({"a.md": ["only one instance at a time"], "b.txt": ["attach up to 16 EC2 instances"]})
    assert by_count is not None and "16" in by_count.reason


def test_one_of_one_thing_and_several_of_another_agree():
    assert single_against_many({"a.md": ["only one default VPC"], "b.txt": ["multiple subnets per VPC"]}) is None
    # within one file, and a line that itself limits to one, are no disagreement
    assert single_against_many({"a.md": ["only one instance", "multiple instances"]}) is None
    assert single_against_many({"a.md": ["only one instance"], "b.md": ["can't be shared across multiple instances"]}) is None


def test_on_by_default_against_must_be_turned_on_conflicts():
    conflict = default_against_opt_in(
        {"course.txt": ["Cache survive reboots by default (it's called persistence)"],
         "saa.txt": ["Turning on AOF ensures local data persistence"]},
    )
    assert conflict is not None and "by default" in conflict.reason and "Turning on" in conflict.reason
    # a default value is no default state; and both sides must come from two files
    assert default_against_opt_in({"a.md": ["persistence: 1 day by default"], "b.md": ["must enable persistence"]}) is None
    assert default_against_opt_in({"a.md": ["encrypted by default", "must enable persistence"]}) is None


def test_a_closed_choice_of_destinations_against_a_longer_list_conflicts():
    # aws-architect-notes.md:3152 against aws-saa-notes.txt:4689
    found = destinations_differ({
        "a.md": ["Flow log data can be published to Amazon CloudWatch Logs or Amazon S3."],
        "b.txt": ["VPC Flow logs data can go to S3, CloudWatch Logs and Kinesis Data Firehose."],
    })
    assert found is not None and (found.file_a, found.file_b) == ("a.md", "b.txt")
    assert "Kinesis Data Firehose" in found.reason


def test_an_open_list_or_lists_of_other_things_do_not_conflict():
    firehose = ["Data can go to S3, CloudWatch Logs and Kinesis Data Firehose."]
    # "such as" says the list is not all of them
    assert destinations_differ({"a.md": ["Logs can be sent to services such as CloudWatch Logs or S3."], "b.txt": firehose}) is None
    # the same choices, however ordered
    assert destinations_differ({"a.md": ["Pushed to S3 or CloudWatch Logs."], "b.txt": ["It goes to CloudWatch Logs or S3."]}) is None
    # lists that share no destination are lists of different things
    assert destinations_differ({"a.md": ["Send events to SQS or SNS."], "b.txt": firehose}) is None
    # "compared to", "up to" name no destination
    assert destinations_differ({"a.md": ["Cheaper compared to S3 or EFS."], "b.txt": ["It writes to S3, EFS and FSx."]}) is None


def test_in_a_column_about_defaults_a_digit_inside_a_name_is_no_default_value():
    # aws-saa-notes.txt:1832 against aws-developer-course.txt:694
    evidence = {
        "aws-saa-notes.txt": ["SSE with S3-Managed Keys (SSE-S3) - it is enabled by default and encrypts S3 objects"],
        "aws-developer-course.txt": ["Must set header: “x-amz-server-side-encryption”:”AES256”"],
    }
    assert opt_in_clause(evidence["aws-developer-course.txt"][0]).startswith("Must set header")
    found = default_against_opt_in(evidence, asks_default=True)
    assert found is not None and found.file_a == "aws-saa-notes.txt"
    # elsewhere any digit near "by default" still reads as a default value, as before
    assert default_against_opt_in(evidence) is None
    assert default_against_opt_in({"a.md": ["Retention is 7 days by default"], "b.txt": ["Must be enabled"]}, asks_default=True) is None
